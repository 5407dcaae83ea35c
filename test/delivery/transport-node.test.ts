import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import ky from 'ky';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultTransport } from '../../src/delivery/transport/default.js';
import { kyTransport } from '../../src/delivery/transport/ky.js';
import { createGuardedFetch, nodeTransport } from '../../src/delivery/transport/node.js';
import { fetchHonoursDispatcher, undiciDispatcherSupported } from '../../src/delivery/transport/runtime.js';
import { SsrfBlockedError, type SsrfLookup } from '../../src/delivery/transport/ssrf.js';
import { fetchIgnoringDispatcher } from './fetch-ignoring-dispatcher.js';
import {
  closedPort,
  type Receiver,
  type SilentServer,
  startReceiver,
  startSilentServer,
} from './receiver.js';
import { request } from './transport-conformance.js';

const CERT = readFileSync(new URL('./fixtures/tls-cert.pem', import.meta.url), 'utf8');
const KEY = readFileSync(new URL('./fixtures/tls-key.pem', import.meta.url), 'utf8');

/** A resolver that answers from a table and counts its calls. */
function fakeResolver(table: Record<string, string[]>): SsrfLookup & { calls: string[] } {
  const calls: string[] = [];
  const lookup = async (hostname: string) => {
    calls.push(hostname);
    const addresses = table[hostname];
    if (!addresses)
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(lookup, { calls });
}

describe('runtime detection', () => {
  it('finds the undici dispatcher API on Node, so the default transport is undici', async () => {
    expect(undiciDispatcherSupported()).toBe(true);
    const transport = defaultTransport();
    expect(transport.name).toBe('undici');
    await transport.close();
  });

  it("finds that Node's fetch honours `dispatcher` and a fetch that drops it does not", async () => {
    expect(await fetchHonoursDispatcher(globalThis.fetch)).toBe(true);
    expect(await fetchHonoursDispatcher(fetchIgnoringDispatcher)).toBe(false);
    // Probed once per function.
    expect(fetchHonoursDispatcher(fetchIgnoringDispatcher)).toBe(
      fetchHonoursDispatcher(fetchIgnoringDispatcher),
    );
  });

  it('treats a fetch that throws or answers without a connection as not honouring it', async () => {
    const throws = (): Promise<Response> => {
      throw new TypeError('no fetch here');
    };
    const answers = async (): Promise<Response> => new Response('mocked');
    expect(await fetchHonoursDispatcher(throws)).toBe(false);
    expect(await fetchHonoursDispatcher(answers)).toBe(false);
  });
});

describe('nodeTransport: resolve, check, connect to the checked address', () => {
  let rx: Receiver;
  beforeAll(async () => {
    rx = await startReceiver();
    rx.route('/ok', (_req, res) => res.end('ok'));
    rx.route('/late', (_req, res) => {
      const timer = setTimeout(() => res.end('late but fine'), 300);
      res.on('close', () => clearTimeout(timer));
    });
  });
  afterAll(async () => {
    await rx.close();
  });

  it('connects to the address it checked, with the URL host in Host, resolving the name once', async () => {
    const lookup = fakeResolver({ 'hooks.example': ['127.0.0.1'] });
    const transport = nodeTransport({ ssrf: { lookup, allow: ['127.0.0.1/32'] } });
    const before = rx.received.length;
    const r = await transport.send(request(`http://hooks.example:${rx.port}/ok?x=1`));
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(200);
    expect(lookup.calls).toEqual(['hooks.example']);
    const got = rx.received[before];
    expect(got?.headers.host).toBe(`hooks.example:${rx.port}`);
    expect(got?.url).toBe('/ok?x=1');
    await transport.close();
  });

  it('blocks loopback by name (the OS resolver) and by literal, and sends nothing', async () => {
    const transport = nodeTransport();
    const before = rx.received.length;
    for (const host of ['localhost', '127.0.0.1', '[::1]', '[::ffff:127.0.0.1]']) {
      const r = await transport.send(request(`http://${host}:${rx.port}/ok`));
      expect(r.status, host).toBe(0);
      expect(r.error?.code, host).toBe('ssrf_blocked');
    }
    expect(rx.received.length).toBe(before);
    await transport.close();
  });

  it('blocks a name when any address it resolves to is blocked (rebinding)', async () => {
    const lookup = fakeResolver({ 'rebind.example': ['93.184.215.14', '127.0.0.1'] });
    const transport = nodeTransport({ ssrf: { lookup } });
    const r = await transport.send(request(`http://rebind.example:${rx.port}/ok`));
    expect(r.error?.code).toBe('ssrf_blocked');
    expect(r.error?.message).toMatch(/rebind\.example resolves to 127\.0\.0\.1/);
    await transport.close();
  });

  it('tries the next checked address when connecting to one is refused', async () => {
    // 127.0.0.2 refuses (the receiver listens on 127.0.0.1 only).
    const lookup = fakeResolver({ 'two.example': ['127.0.0.2', '127.0.0.1'] });
    const transport = nodeTransport({ ssrf: { lookup, allowPrivateNetworks: true } });
    const r = await transport.send(request(`http://two.example:${rx.port}/ok`));
    expect(r.status).toBe(200);
    const refused = await transport.send(request(`http://127.0.0.1:${await closedPort()}/`));
    expect(refused.error?.code).toBe('connect_failed');
    await transport.close();
  });

  it('keeps an active connection past the idle keep-alive timeout', async () => {
    const transport = nodeTransport({ ssrf: { allow: ['127.0.0.1'] }, keepAliveTimeoutMs: 50 });
    const r = await transport.send(request(rx.url('/late')));
    expect(r).toMatchObject({ status: 200, body: 'late but fine' });
    await transport.close();
  });

  it('reports a bad header as invalid_request and closes twice without throwing', async () => {
    const transport = nodeTransport({ ssrf: { allow: ['127.0.0.1'] } });
    const r = await transport.send(request(rx.url('/ok'), { headers: { 'x-bad': 'a\r\nb' } }));
    expect(r.error?.code).toBe('invalid_request');
    await transport.close();
    await transport.close();
  });
});

describe('nodeTransport over TLS', () => {
  let server: https.Server;
  let port: number;
  const seen: { servername: string | false | null | undefined; host: string | undefined }[] = [];
  let silent: SilentServer;
  let silentPort: number;

  beforeAll(async () => {
    server = https.createServer({ key: KEY, cert: CERT }, (req, res) => {
      seen.push({ servername: (req.socket as TLSSocket).servername, host: req.headers.host });
      req.resume();
      req.on('end', () => res.end('secure'));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
    // Accepts TCP connections and never answers the TLS handshake.
    silent = await startSilentServer();
    silentPort = silent.port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    server.close();
    await Promise.all([once(server, 'close'), silent.close()]);
  });

  const lookup = fakeResolver({ 'hooks.example': ['127.0.0.1'], 'other.example': ['127.0.0.1'] });

  it('sends the URL name as SNI and checks the certificate against it, connecting to the checked address', async () => {
    const transport = nodeTransport({ ssrf: { lookup, allow: ['127.0.0.1'] }, ca: CERT });
    const r = await transport.send(request(`https://hooks.example:${port}/in`));
    expect(r.error).toBeUndefined();
    expect(r).toMatchObject({ status: 200, body: 'secure' });
    expect(seen.at(-1)).toEqual({ servername: 'hooks.example', host: `hooks.example:${port}` });
    await transport.close();
  });

  it('refuses a certificate for another name, and an untrusted one', async () => {
    const trusted = nodeTransport({ ssrf: { lookup, allow: ['127.0.0.1'] }, ca: CERT });
    const wrongName = await trusted.send(request(`https://other.example:${port}/in`));
    expect(wrongName.error?.code).toBe('tls');
    expect(wrongName.error?.message).toMatch(/other\.example/);
    const untrusted = nodeTransport({ ssrf: { lookup, allow: ['127.0.0.1'] } });
    expect((await untrusted.send(request(`https://hooks.example:${port}/in`))).error?.code).toBe('tls');
    await Promise.all([trusted.close(), untrusted.close()]);
  });

  it('checks an IP literal against the certificate without sending SNI', async () => {
    const transport = nodeTransport({ ssrf: { allow: ['127.0.0.1'] }, ca: CERT });
    const r = await transport.send(request(`https://127.0.0.1:${port}/in`));
    expect(r.status).toBe(200);
    expect(seen.at(-1)?.servername).toBeFalsy();
    await transport.close();
  });

  it('times out a handshake that never completes at connectTimeoutMs', async () => {
    const transport = nodeTransport({ ssrf: { lookup, allow: ['127.0.0.1'] }, connectTimeoutMs: 100 });
    const r = await transport.send(request(`https://hooks.example:${silentPort}/in`, { timeoutMs: 5_000 }));
    expect(r.error?.code).toBe('timeout');
    expect(r.error?.message).toMatch(/Connect timeout after 100 ms/);
    await transport.close();
  });
});

describe('createGuardedFetch', () => {
  let rx: Receiver;
  beforeAll(async () => {
    rx = await startReceiver();
    rx.route('/stream', (_req, res) => {
      res.writeHead(201, { 'content-type': 'text/plain', 'x-extra': 'kept' });
      res.end('streamed body');
    });
    rx.route('/redirect', (_req, res) => {
      res.writeHead(307, { location: '/elsewhere' });
      res.end();
    });
    rx.route('/empty', (_req, res) => {
      res.writeHead(204);
      res.end();
    });
  });
  afterAll(async () => {
    await rx.close();
  });

  it('answers like fetch: status, headers, a streamed body, redirects not followed', async () => {
    const { fetch: guarded, close } = createGuardedFetch({ ssrf: { allow: ['127.0.0.1'] } });
    const res = await guarded(rx.url('/stream'), { method: 'POST', body: 'hi' });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-extra')).toBe('kept');
    expect(await res.text()).toBe('streamed body');
    const redirect = await guarded(rx.url('/redirect'));
    expect(redirect.status).toBe(307);
    expect(rx.hits('/elsewhere')).toBe(0);
    const empty = await guarded(rx.url('/empty'));
    expect(empty.status).toBe(204);
    expect(empty.body).toBeNull();
    close();
  });

  it('rejects like fetch, with the guard error as the cause', async () => {
    const { fetch: guarded, close } = createGuardedFetch();
    const before = rx.received.length;
    const err: unknown = await guarded(rx.url('/stream')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect((err as TypeError).cause).toBeInstanceOf(SsrfBlockedError);
    expect(rx.received.length).toBe(before);
    close();
  });

  it('rejects with the signal reason when aborted', async () => {
    const { fetch: guarded, close } = createGuardedFetch({ ssrf: { allow: ['127.0.0.1'] } });
    const controller = new AbortController();
    const reason = new Error('stop');
    controller.abort(reason);
    await expect(guarded(rx.url('/stream'), { signal: controller.signal })).rejects.toBe(reason);
    close();
  });
});

describe('kyTransport where fetch ignores the dispatcher', () => {
  it('still blocks loopback, and keeps the hooks of your ky instance', async () => {
    const rx = await startReceiver();
    rx.route('/ok', (_req, res) => res.end('ok'));
    const seenByHook: string[] = [];
    const instance = ky.create({
      fetch: fetchIgnoringDispatcher,
      hooks: { beforeRequest: [(req) => void seenByHook.push(req.url)] },
    });
    const guarded = kyTransport({ ky: instance });
    const blocked = await guarded.send(request(rx.url('/ok')));
    expect(blocked.error?.code).toBe('ssrf_blocked');
    expect(rx.received.length).toBe(0);
    const open = kyTransport({ ky: instance, ssrf: { allow: ['127.0.0.1'] } });
    expect((await open.send(request(rx.url('/ok')))).status).toBe(200);
    expect(seenByHook).toEqual([rx.url('/ok'), rx.url('/ok')]);
    await Promise.all([guarded.close(), open.close()]);
    await rx.close();
  });
});
