import { describe, expect, it } from 'vitest';
import { MAX_IDLE_ORIGINS, type OriginPools } from '../../src/delivery/transport/origin-pools.js';
import { undiciTransport } from '../../src/delivery/transport/undici.js';
import { closedPort, startReceiver } from './receiver.js';
import { request } from './transport-conformance.js';

describe('the undici transport keeps one pool per origin', () => {
  it('keeps the pool of a receiver that refuses connections (undici’s Agent rebuilt it per attempt)', async () => {
    const transport = undiciTransport({ ssrf: { allow: ['127.0.0.1'] } });
    const pools = transport.dispatcher as OriginPools;
    try {
      const port = await closedPort();
      for (let i = 0; i < 3; i++) {
        const result = await transport.send(request(`http://127.0.0.1:${port}/hook`));
        expect(result.error?.code).toBe('connect_failed');
      }
      expect(pools.origins).toBe(1);
      const rx = await startReceiver();
      rx.route('/ok', (_req, res) => res.end('ok'));
      try {
        expect((await transport.send(request(rx.url('/ok')))).status).toBe(200);
        expect(pools.origins).toBe(2);
      } finally {
        await rx.close();
      }
    } finally {
      await transport.close();
    }
  });

  it(`closes idle pools beyond ${MAX_IDLE_ORIGINS} origins`, async () => {
    const transport = undiciTransport({ ssrf: { allow: ['127.0.0.0/8'] } });
    const pools = transport.dispatcher as OriginPools;
    try {
      const port = await closedPort();
      // Distinct loopback addresses, one closed port: every origin refuses at once.
      for (let i = 0; i <= MAX_IDLE_ORIGINS; i++) {
        await transport.send(request(`http://127.0.${1 + (i >> 8)}.${i & 255}:${port}/`));
      }
      // Past the limit the oldest idle pools are closed down to half of it.
      expect(pools.origins).toBe(MAX_IDLE_ORIGINS / 2);
    } finally {
      await transport.close();
    }
  });
});
