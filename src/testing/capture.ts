import type { Transport, TransportRequest, TransportResult } from '../delivery/transport/contract.js';

/** A request a {@link captureTransport} received, with its body as text. */
export interface CapturedRequest extends Omit<TransportRequest, 'body'> {
  body: string;
}

/** What a capture transport answers: a status, or a full response. */
export type CaptureResponse = number | { status: number; body?: string; headers?: Record<string, string> };

/** A transport that records requests instead of sending them. */
export interface CaptureTransport extends Transport {
  /** Every request received, oldest first. */
  readonly requests: CapturedRequest[];
  /** Forgets the recorded requests. */
  clear(): void;
}

/**
 * A transport for tests that records every request and answers without a network. `respond`
 * chooses the answer per request (default: 200 with an empty body); it may be async, and may
 * throw to simulate a transport error (status 0).
 *
 * @example
 * ```ts
 * const transport = captureTransport({ respond: (req) => (req.url.includes('gone') ? 410 : 200) });
 * const worker = registry.worker({ transport });
 * await worker.drain();
 * expect(transport.requests).toHaveLength(1);
 * ```
 */
export function captureTransport(
  options: { respond?: (request: CapturedRequest) => CaptureResponse | Promise<CaptureResponse> } = {},
): CaptureTransport {
  const requests: CapturedRequest[] = [];
  return {
    name: 'capture',
    requests,
    clear() {
      requests.length = 0;
    },
    async send(request): Promise<TransportResult> {
      const captured: CapturedRequest = {
        ...request,
        headers: { ...request.headers },
        body: Buffer.from(request.body).toString('utf8'),
      };
      requests.push(captured);
      try {
        const answer = (await options.respond?.(captured)) ?? 200;
        const response = typeof answer === 'number' ? { status: answer } : answer;
        const body = response.body ?? '';
        const bytes = Buffer.from(body, 'utf8');
        const truncated = bytes.length > request.maxResponseBytes;
        const headers = Object.fromEntries(
          Object.entries(response.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
        );
        return {
          status: response.status,
          headers,
          body: truncated ? bytes.subarray(0, request.maxResponseBytes).toString('utf8') : body,
          bodyTruncated: truncated,
        };
      } catch (error) {
        return {
          status: 0,
          headers: {},
          body: '',
          bodyTruncated: false,
          error: { code: 'network', message: error instanceof Error ? error.message : String(error) },
        };
      }
    },
  };
}
