/**
 * The SSRF guard's undici connector keeps the connect timeout itself (a plain timer, cleared at
 * once: see ssrf.ts), so undiciTransport's `connectTimeoutMs` must still end a connection that
 * never completes, and a connection that does complete must not be cut later.
 */
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createSsrfGuard } from '../../src/delivery/transport/ssrf.js';
import { undiciTransport } from '../../src/delivery/transport/undici.js';
import { type SilentServer, startReceiver, startSilentServer } from './receiver.js';

const request = (url: string) => ({
  url,
  method: 'POST' as const,
  headers: { 'content-type': 'text/plain' },
  body: new TextEncoder().encode('x'),
  timeoutMs: 5_000,
  maxResponseBytes: 1024,
});

describe('connect timeout of the guarded undici connector', () => {
  // Accepts TCP connections and never answers the TLS handshake: the connection never completes.
  let silent: SilentServer;
  let silentPort: number;
  beforeAll(async () => {
    silent = await startSilentServer();
    silentPort = silent.port;
  });
  afterAll(() => silent.close());

  it('fails an attempt whose TLS handshake never completes at connectTimeoutMs', async () => {
    const transport = undiciTransport({ ssrf: { allow: ['127.0.0.1'] }, connectTimeoutMs: 100 });
    const r = await transport.send(request(`https://127.0.0.1:${silentPort}/in`));
    expect(r.status).toBe(0);
    expect(r.error?.code).toBe('timeout');
    expect(r.error?.message).toMatch(/Connect Timeout Error .*127\.0\.0\.1:\d+, timeout: 100ms/);
    await transport.close();
  });

  it('leaves a completed connection alone after connectTimeoutMs', async () => {
    // Only setTimeout and clearTimeout are faked: sockets stay real, and time passes only when
    // the test says so, so the connect timer is shown cleared whatever the machine's speed.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const rx = await startReceiver();
      let arrived: () => void = () => {};
      const arrival = new Promise<void>((resolve) => {
        arrived = resolve;
      });
      let answer: () => void = () => {};
      rx.route('/slow', (_req, res) => {
        answer = () => res.end('late');
        arrived();
      });
      const transport = undiciTransport({ ssrf: { allow: ['127.0.0.1'] }, connectTimeoutMs: 50 });
      const pending = transport.send(request(rx.url('/slow')));
      await arrival; // connected: the request is at the receiver
      vi.advanceTimersByTime(1_000); // 20 times the connect timeout
      answer();
      const r = await pending;
      expect(r.status).toBe(200);
      expect(r.body).toBe('late');
      await transport.close();
      await rx.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it('reports a connection that does not complete in time as UND_ERR_CONNECT_TIMEOUT, once', async () => {
    const guard = createSsrfGuard({ allow: ['127.0.0.1'] });
    const connect = guard.connector({ timeout: 50 });
    const accepted = once(silent.server, 'connection') as Promise<[Socket]>;
    const results: string[] = [];
    let first: () => void = () => {};
    const called = new Promise<void>((resolve) => {
      first = resolve;
    });
    connect(
      {
        hostname: '127.0.0.1',
        host: `127.0.0.1:${silentPort}`,
        protocol: 'https:',
        port: String(silentPort),
      },
      (...args) => {
        const [err] = args;
        results.push(err ? ((err as { code?: string }).code ?? err.message) : 'connected');
        first();
      },
    );
    const [serverSide] = await accepted;
    serverSide.resume(); // read to the end, so its close is seen
    await called;
    await once(serverSide, 'close'); // the client's socket is gone: no later callback can come
    expect(results).toEqual(['UND_ERR_CONNECT_TIMEOUT']);
  });
});
