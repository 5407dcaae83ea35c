/**
 * The worker command's health server (`--health-port`): `GET /healthz` (200 while the process
 * is up), `GET /readyz` (200 when the store answers and the worker runs, else 503 with a JSON
 * reason) and `GET /metrics` (Prometheus text, see metrics.ts).
 *
 * @module
 */
import { createServer, type Server } from 'node:http';
import type { GaugeReading, MetricsCollector } from './metrics.js';
import { redact } from './output.js';

/** What the health server asks of the process. */
export interface HealthSource {
  /** Resolves when the store answers a cheap query; rejects otherwise. */
  ping(): Promise<void>;
  /** Whether the worker is running (started and not stopping). */
  running(): boolean;
  /** The outbox gauges, from `registry.stats()`. */
  gauges(): Promise<GaugeReading>;
  metrics: MetricsCollector;
}

const CHECK_TIMEOUT_MS = 2_000;

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${what} did not answer within ${CHECK_TIMEOUT_MS} ms`)),
        CHECK_TIMEOUT_MS,
      );
    }),
  ]).finally(() => clearTimeout(timer));
}

/** A running health server and how to close it. */
export interface HealthServer {
  /** The port it listens on (useful with port 0). */
  readonly port: number;
  close(): Promise<void>;
}

/** Starts the health server on `host:port`. */
export async function startHealthServer(
  source: HealthSource,
  options: { host: string; port: number },
): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    const sendJson = (status: number, body: unknown) =>
      send(status, 'application/json', `${JSON.stringify(body)}\n`);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      sendJson(405, { error: 'method not allowed' });
      return;
    }
    if (path === '/healthz') {
      sendJson(200, { status: 'ok' });
      return;
    }
    if (path === '/readyz') {
      if (!source.running()) {
        sendJson(503, { status: 'not_ready', reason: 'the worker is not running' });
        return;
      }
      withTimeout(source.ping(), 'the store').then(
        () => sendJson(200, { status: 'ready' }),
        (error: unknown) =>
          sendJson(503, {
            status: 'not_ready',
            reason: redact(
              `the store is unreachable: ${error instanceof Error ? error.message : String(error)}`,
            ),
          }),
      );
      return;
    }
    if (path === '/metrics') {
      withTimeout(source.gauges(), 'the store')
        .then(
          (gauges) => gauges,
          () => undefined,
        )
        .then((gauges) =>
          send(200, 'text/plain; version=0.0.4; charset=utf-8', source.metrics.render(gauges)),
        );
      return;
    }
    sendJson(404, { error: 'not found', paths: ['/healthz', '/readyz', '/metrics'] });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
