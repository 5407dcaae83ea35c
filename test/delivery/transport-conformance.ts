import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Transport, TransportRequest } from '../../src/delivery/transport/contract.js';
import type { SsrfOptions } from '../../src/delivery/transport/ssrf.js';
import { closedPort, type Receiver, startReceiver } from './receiver.js';

export type TransportFactory = (options: { ssrf?: SsrfOptions }) => Transport;

const LOOPBACK: SsrfOptions = { allow: ['127.0.0.1'] };

/** A small signed-looking POST to `url`, with `extra` on top. */
export function request(url: string, extra: Partial<TransportRequest> = {}): TransportRequest {
  return {
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: Buffer.from('{"hello":"world"}'),
    timeoutMs: 5_000,
    maxResponseBytes: 65_536,
    ...extra,
  };
}

/**
 * The one transport contract, run against every transport: timeout over connect + headers + body,
 * no redirects, SSRF guard at connect time, capped body, errors as data.
 */
export function transportConformance(name: string, factory: TransportFactory): void {
  describe(`transport conformance: ${name}`, () => {
    let rx: Receiver;
    let transport: Transport;
    const extra: Transport[] = [];
    const make = (options: { ssrf?: SsrfOptions }): Transport => {
      const t = factory(options);
      extra.push(t);
      return t;
    };

    beforeAll(async () => {
      rx = await startReceiver();
      transport = make({ ssrf: LOOPBACK });
      rx.route('/ok', (_req, res) => {
        res.writeHead(200, {
          'content-type': 'text/plain',
          'x-request-id': 'req-1',
          'x-internal-secret': 'nope',
        });
        res.end('thanks');
      });
      rx.route('/gone', (_req, res) => {
        res.writeHead(410);
        res.end('gone');
      });
      rx.route('/fail', (_req, res) => {
        res.writeHead(500, { 'retry-after': '30' });
        res.end('boom');
      });
      rx.route('/redirect', (_req, res) => {
        res.writeHead(302, { location: '/redirect-target' });
        res.end();
      });
      rx.route('/redirect-target', (_req, res) => res.end('should never be reached'));
      rx.route('/slow-headers', (req, res) => {
        const timer = setTimeout(() => res.end('late'), 5_000);
        req.socket.on('close', () => clearTimeout(timer));
      });
      rx.route('/slow-body', (req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first chunk;');
        const timer = setInterval(() => res.write('.'), 50);
        req.socket.on('close', () => clearInterval(timer));
      });
      rx.route('/reset', (req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '1000' });
        res.write('partial', () => req.socket.destroy());
      });
      rx.route('/bytes', (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(Buffer.from([0x68, 0x69, 0xff, 0xfe, 0x21, 0xc3]));
      });
      rx.route('/echo', (req, res, body) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.end(JSON.stringify({ method: req.method, headers: req.headers, body: body.toString('base64') }));
      });
    });

    afterAll(async () => {
      await Promise.all(extra.map((t) => t.close?.()));
      await rx.close();
    });

    it('returns a 2xx with its body and only the safe response headers', async () => {
      const r = await transport.send(request(rx.url('/ok')));
      expect(r.error).toBeUndefined();
      expect(r.status).toBe(200);
      expect(r.body).toBe('thanks');
      expect(r.bodyTruncated).toBe(false);
      expect(r.headers['content-type']).toBe('text/plain');
      expect(r.headers['x-request-id']).toBe('req-1');
      expect(r.headers['x-internal-secret']).toBeUndefined();
    });

    it('returns a 410 and a 500 as statuses, not errors', async () => {
      const gone = await transport.send(request(rx.url('/gone')));
      expect(gone).toMatchObject({ status: 410, body: 'gone' });
      expect(gone.error).toBeUndefined();
      const fail = await transport.send(request(rx.url('/fail')));
      expect(fail).toMatchObject({ status: 500, body: 'boom', headers: { 'retry-after': '30' } });
      expect(fail.error).toBeUndefined();
    });

    it('does not follow a 3xx: it is a failure and the target is never hit', async () => {
      const r = await transport.send(request(rx.url('/redirect')));
      expect(r.status).toBe(302);
      expect(r.error?.code).toBe('redirect');
      expect(r.headers.location).toBe('/redirect-target');
      expect(rx.hits('/redirect')).toBeGreaterThan(0);
      expect(rx.hits('/redirect-target')).toBe(0);
    });

    it('times out when headers are slow', async () => {
      const r = await transport.send(request(rx.url('/slow-headers'), { timeoutMs: 200 }));
      expect(r.status).toBe(0);
      expect(r.error?.code).toBe('timeout');
      expect(r.error?.message).toMatch(/200 ms/);
    });

    it('times out when the body trickles (the deadline covers the body)', async () => {
      // The body trickles forever: only a deadline over the body ends this attempt.
      const r = await transport.send(request(rx.url('/slow-body'), { timeoutMs: 300 }));
      expect(r.status).toBe(0);
      expect(r.error?.code).toBe('timeout');
    });

    it('reports a refused connection', async () => {
      const port = await closedPort();
      const r = await transport.send(request(`http://127.0.0.1:${port}/`));
      expect(r).toMatchObject({ status: 0, error: { code: 'connect_failed' } });
      expect(r.error?.message).toMatch(/ECONNREFUSED/);
    });

    it('reports a connection reset mid-body', async () => {
      const r = await transport.send(request(rx.url('/reset')));
      expect(r.status).toBe(0);
      expect(r.error?.code).toBe('reset');
    });

    it('cuts a 10 MB response at the cap without reading it all', async () => {
      let written = 0;
      let closed: Promise<unknown> = Promise.resolve();
      rx.route('/huge', (_req, res) => {
        closed = once(res, 'close');
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(10 * 1024 * 1024) });
        const chunk = Buffer.alloc(64 * 1024, 0x61);
        const pump = (): void => {
          while (written < 10 * 1024 * 1024 && !res.destroyed) {
            written += chunk.length;
            if (!res.write(chunk)) {
              res.once('drain', pump);
              return;
            }
          }
          res.end();
        };
        pump();
      });
      const r = await transport.send(request(rx.url('/huge')));
      expect(r.status).toBe(200);
      expect(r.bodyTruncated).toBe(true);
      expect(r.body.length).toBe(65_536);
      expect(r.error).toBeUndefined();
      await closed;
      expect(written).toBeLessThan(10 * 1024 * 1024); // the connection was cut, not read to the end
    });

    it('cuts at a small cap without splitting a character into garbage', async () => {
      rx.route('/euro', (_req, res) => res.end('€€€€'));
      const r = await transport.send(request(rx.url('/euro'), { maxResponseBytes: 7 }));
      expect(r.body).toBe('€€');
      expect(r.bodyTruncated).toBe(true);
    });

    it('decodes invalid UTF-8 with replacement characters', async () => {
      const r = await transport.send(request(rx.url('/bytes')));
      expect(r.body).toBe('hi\uFFFD\uFFFD!\uFFFD');
    });

    it('sends the exact body bytes, the method and the headers', async () => {
      const body = Buffer.from('{"name":"Zoë 🎟","crlf":"a\\r\\nb"}\n', 'utf8');
      const r = await transport.send(
        request(rx.url('/echo'), {
          method: 'PUT',
          body,
          headers: { 'x-custom': 'yes', 'content-type': 'text/x' },
        }),
      );
      const echo = JSON.parse(r.body) as { method: string; headers: Record<string, string>; body: string };
      expect(echo.method).toBe('PUT');
      expect(Buffer.from(echo.body, 'base64').equals(body)).toBe(true);
      expect(echo.headers['x-custom']).toBe('yes');
      expect(echo.headers['content-type']).toBe('text/x');
      expect(echo.headers['content-length']).toBe(String(body.length));
    });

    it('turns URL credentials into a Basic authorization header', async () => {
      const r = await transport.send(request(`http://user:p%40ss@127.0.0.1:${rx.port}/echo`));
      const echo = JSON.parse(r.body) as { headers: Record<string, string> };
      expect(echo.headers.authorization).toBe(`Basic ${Buffer.from('user:p@ss').toString('base64')}`);
    });

    it('rejects a non-http URL and a "bad port" as data', async () => {
      expect((await transport.send(request('ftp://127.0.0.1/x'))).error?.code).toBe('invalid_request');
      expect((await transport.send(request('not a url'))).error?.code).toBe('invalid_request');
      expect((await transport.send(request('http://127.0.0.1:25/'))).error?.code).toBe('ssrf_blocked');
    });

    it('blocks loopback by default and never connects', async () => {
      const guarded = make({});
      const before = rx.received.length;
      const r = await guarded.send(request(rx.url('/ok')));
      expect(r.status).toBe(0);
      expect(r.error?.code).toBe('ssrf_blocked');
      expect(r.error?.message).toMatch(/127\.0\.0\.1 is a loopback address/);
      expect(rx.received.length).toBe(before);
    });

    it('blocks loopback written as decimal, octal and hex IPv4 and as IPv6', async () => {
      const guarded = make({});
      for (const host of ['2130706433', '0x7f.1', '017700000001', '127.1', '[::ffff:127.0.0.1]', '[::1]']) {
        const r = await guarded.send(request(`http://${host}:${rx.port}/ok`));
        expect(r.error?.code, host).toBe('ssrf_blocked');
      }
    });

    it('reaches loopback written in other encodings once 127.0.0.1 is allowed', async () => {
      for (const host of ['2130706433', '0x7f.1', '017700000001']) {
        const r = await transport.send(request(`http://${host}:${rx.port}/ok`));
        expect(r.status, host).toBe(200);
      }
    });

    it('checks the resolved address of a hostname (fake resolver), rebinding included', async () => {
      const resolve = async (hostname: string) => {
        if (hostname === 'hooks.example') return [{ address: '127.0.0.1', family: 4 }];
        if (hostname === 'rebind.example')
          return [
            { address: '93.184.215.14', family: 4 },
            { address: '127.0.0.1', family: 4 },
          ];
        throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
      };
      const guarded = make({ ssrf: { lookup: resolve } });
      const blocked = await guarded.send(request(`http://hooks.example:${rx.port}/ok`));
      expect(blocked.error?.code).toBe('ssrf_blocked');
      expect(blocked.error?.message).toMatch(/hooks\.example resolves to 127\.0\.0\.1/);
      const rebind = await guarded.send(request(`http://rebind.example:${rx.port}/ok`));
      expect(rebind.error?.code).toBe('ssrf_blocked');
      const missing = await guarded.send(request(`http://missing.example:${rx.port}/ok`));
      expect(missing.error?.code).toBe('dns_failed');

      const byName = make({ ssrf: { lookup: resolve, allow: ['hooks.example'] } });
      expect((await byName.send(request(`http://hooks.example:${rx.port}/ok`))).status).toBe(200);
      const byCidr = make({ ssrf: { lookup: resolve, allow: ['127.0.0.0/8'] } });
      expect((await byCidr.send(request(`http://hooks.example:${rx.port}/ok`))).status).toBe(200);
      const privateOk = make({ ssrf: { lookup: resolve, allowPrivateNetworks: true } });
      expect((await privateOk.send(request(`http://rebind.example:${rx.port}/ok`))).status).toBe(200);
    });

    it('reuses connections across attempts', async () => {
      const sockets = new Set<unknown>();
      rx.route('/socket', (req, res) => {
        sockets.add(req.socket);
        res.end('ok');
      });
      const fresh = make({ ssrf: LOOPBACK });
      for (let i = 0; i < 10; i++) expect((await fresh.send(request(rx.url('/socket')))).status).toBe(200);
      // Sequential attempts: undici may open a second socket while the first settles, never ten.
      expect(sockets.size).toBeLessThanOrEqual(2);
    });
  });
}
