import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_USER_AGENT, type DeliveryRequest, deliver } from '../../src/delivery/deliver.js';
import type { Transport, TransportRequest } from '../../src/delivery/transport/contract.js';
import { kyTransport } from '../../src/delivery/transport/ky.js';
import type { SsrfOptions } from '../../src/delivery/transport/ssrf.js';
import { undiciTransport } from '../../src/delivery/transport/undici.js';
import { VERSION } from '../../src/version.js';
import { closedPort, type Receiver, startReceiver } from './receiver.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const SECRET_2 = 'whsec_dGhpcyBpcyBhIHNlY29uZCBzZWNyZXQga2V5IQ==';
const LOOPBACK: SsrfOptions = { allow: ['127.0.0.1'] };

let rx: Receiver;
const transports: Transport[] = [];

beforeAll(async () => {
  rx = await startReceiver();
  rx.route('/ok', (_req, res) => res.end('ok'));
  rx.route('/gone', (_req, res) => {
    res.writeHead(410);
    res.end();
  });
  rx.route('/fail', (_req, res) => {
    res.writeHead(503, { 'retry-after': '120' });
    res.end('busy');
  });
  rx.route('/redirect', (_req, res) => {
    res.writeHead(301, { location: '/target' });
    res.end();
  });
  rx.route('/target', (_req, res) => res.end('never'));
  rx.route('/headers', (_req, res) => {
    res.setHeader('X-Request-Id', ['first', 'second']);
    res.setHeader('Set-Cookie', 'session=secret');
    res.setHeader('Server', 'receiver/1.0');
    res.setHeader('Retry-After', 'x'.repeat(2000));
    res.setHeader('Content-Type', 'text/plain');
    res.end('ok');
  });
  rx.route('/slow', (req, res) => {
    const timer = setTimeout(() => res.end('late'), 5_000);
    req.socket.on('close', () => clearTimeout(timer));
  });
  transports.push(undiciTransport({ ssrf: LOOPBACK }), kyTransport({ ssrf: LOOPBACK }));
});

afterAll(async () => {
  await Promise.all(transports.map((t) => t.close?.()));
  await rx.close();
});

function req(path: string, extra: Partial<DeliveryRequest> = {}): DeliveryRequest {
  return {
    url: rx.url(path),
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"action":"pretix.event.order.paid","code":"ABC12"}',
    ...extra,
  };
}

function lastReceived(): NonNullable<Receiver['received'][number]> {
  const last = rx.received[rx.received.length - 1];
  if (!last) throw new Error('nothing received');
  return last;
}

describe.each(['undici', 'ky'])('deliver() over %s', (name) => {
  const transport = (): Transport => {
    const t = transports.find((x) => x.name === name);
    if (!t) throw new Error(name);
    return t;
  };

  it('succeeds on 2xx', async () => {
    const r = await deliver(req('/ok'), { transport: transport() });
    expect(r).toMatchObject({ ok: true, status: 200, classification: 'success', responseBody: 'ok' });
    expect(r.error).toBeUndefined();
    expect(r.durationMs).toBeGreaterThan(0);
  });

  it('classifies 410 as gone, 503 as retryable with retry-after', async () => {
    expect(await deliver(req('/gone'), { transport: transport() })).toMatchObject({
      ok: false,
      status: 410,
      classification: 'gone',
    });
    expect(await deliver(req('/fail'), { transport: transport() })).toMatchObject({
      ok: false,
      status: 503,
      classification: 'retryable',
      responseHeaders: { 'retry-after': '120' },
    });
  });

  it('keeps only the safe response headers: lowercased, repeats joined, long values cut', async () => {
    const r = await deliver(req('/headers'), { transport: transport() });
    expect(r.responseHeaders).toEqual({
      'content-type': 'text/plain',
      'content-length': '2',
      date: expect.any(String),
      'retry-after': 'x'.repeat(1024),
      'x-request-id': 'first, second',
    });
  });

  it('treats a 3xx as a retryable failure and does not follow it', async () => {
    const r = await deliver(req('/redirect'), { transport: transport() });
    expect(r).toMatchObject({
      ok: false,
      status: 301,
      classification: 'retryable',
      error: { code: 'redirect' },
    });
    expect(rx.hits('/target')).toBe(0);
  });

  it('returns a timeout as data', async () => {
    const r = await deliver(req('/slow'), { transport: transport(), timeoutMs: 150 });
    expect(r).toMatchObject({
      ok: false,
      status: 0,
      classification: 'retryable',
      error: { code: 'timeout' },
    });
  });

  it('returns a refused connection as data', async () => {
    const port = await closedPort();
    const r = await deliver(req('/', { url: `http://127.0.0.1:${port}/` }), { transport: transport() });
    expect(r).toMatchObject({ ok: false, status: 0, error: { code: 'connect_failed' } });
  });

  it('signs with Standard Webhooks headers that verify', async () => {
    const body = '{"name":"Zoë 🎟","n":1}';
    const r = await deliver(req('/ok', { id: 'dlv_42', body, secrets: [SECRET] }), {
      transport: transport(),
    });
    expect(r.ok).toBe(true);
    const got = lastReceived();
    expect(got.body.equals(Buffer.from(body, 'utf8'))).toBe(true);
    expect(got.headers['webhook-id']).toBe('dlv_42');
    expect(got.headers['webhook-timestamp']).toBe(String(r.timestamp));
    const headers = {
      'webhook-id': String(got.headers['webhook-id']),
      'webhook-timestamp': String(got.headers['webhook-timestamp']),
      'webhook-signature': String(got.headers['webhook-signature']),
    };
    expect(new Webhook(SECRET).verify(got.body.toString('utf8'), headers)).toEqual({ name: 'Zoë 🎟', n: 1 });
  });

  it('sends the user agent, the method and custom headers', async () => {
    await deliver(
      req('/ok', { method: 'PUT', headers: { 'x-tenant': 'acme', 'content-type': 'text/plain' } }),
      {
        transport: transport(),
      },
    );
    const got = lastReceived();
    expect(got.method).toBe('PUT');
    expect(got.headers['user-agent']).toBe(`hookline/${VERSION}`);
    expect(got.headers['x-tenant']).toBe('acme');
    expect(got.headers['content-type']).toBe('text/plain');
  });
});

describe('deliver() headers and signing', () => {
  const capture = (): { transport: Transport; sent: TransportRequest[] } => {
    const sent: TransportRequest[] = [];
    return {
      sent,
      transport: {
        name: 'capture',
        send: async (r) => {
          sent.push(r);
          return { status: 204, headers: {}, body: '', bodyTruncated: false };
        },
      },
    };
  };

  it('stamps webhook-timestamp with the attempt time in whole seconds', async () => {
    const { transport, sent } = capture();
    const r = await deliver(req('/ok', { id: 'dlv_1', secrets: [SECRET] }), {
      transport,
      now: () => 1_700_000_000_999,
    });
    expect(r.timestamp).toBe(1_700_000_000);
    expect(sent[0]?.headers['webhook-timestamp']).toBe('1700000000');
  });

  it('fails the attempt as data, sending nothing, when a secret cannot sign', async () => {
    const { transport, sent } = capture();
    const r = await deliver(req('/ok', { id: 'dlv_1', secrets: ['whsk_AAAA'] }), { transport });
    expect(sent).toHaveLength(0);
    expect(r).toMatchObject({ ok: false, status: 0, classification: 'retryable' });
    expect(r.error?.code).toBe('invalid_request');
    expect(r.error?.message).toMatch(/^Could not sign the request: /);
  });

  it('signs with every secret during rotation; each verifies', async () => {
    const { transport, sent } = capture();
    await deliver(req('/ok', { id: 'dlv_2', secrets: [SECRET, SECRET_2] }), { transport });
    const headers = sent[0]?.headers ?? {};
    expect(headers['webhook-signature']?.split(' ')).toHaveLength(2);
    const body = Buffer.from(sent[0]?.body ?? new Uint8Array()).toString('utf8');
    for (const secret of [SECRET, SECRET_2]) {
      const h = {
        'webhook-id': headers['webhook-id'] ?? '',
        'webhook-timestamp': headers['webhook-timestamp'] ?? '',
        'webhook-signature': headers['webhook-signature'] ?? '',
      };
      expect(() => new Webhook(secret).verify(body, h)).not.toThrow();
    }
  });

  it('generates a msg_ id when signing without one, and sends no webhook headers without id or secrets', async () => {
    const { transport, sent } = capture();
    await deliver(req('/ok', { secrets: [SECRET] }), { transport });
    expect(sent[0]?.headers['webhook-id']).toMatch(/^msg_[0-9a-f-]{36}$/);
    await deliver(req('/ok'), { transport });
    expect(Object.keys(sent[1]?.headers ?? {}).filter((h) => h.startsWith('webhook-'))).toEqual([]);
  });

  it('replaces spoofed signature headers and drops hop-by-hop headers', async () => {
    const { transport, sent } = capture();
    await deliver(
      req('/ok', {
        id: 'dlv_3',
        secrets: [SECRET],
        headers: {
          'Webhook-Signature': 'v1,forged',
          'WEBHOOK-ID': 'other',
          Host: 'evil.example',
          'Content-Length': '1',
          Connection: 'close',
          'Transfer-Encoding': 'chunked',
          'X-Kept': 'yes',
        },
      }),
      { transport },
    );
    const headers = sent[0]?.headers ?? {};
    expect(headers['webhook-id']).toBe('dlv_3');
    expect(headers['webhook-signature']).not.toContain('forged');
    expect(Object.keys(headers).map((h) => h.toLowerCase())).not.toEqual(
      expect.arrayContaining(['host', 'content-length', 'connection', 'transfer-encoding']),
    );
    expect(Object.keys(headers).filter((h) => h.toLowerCase() === 'webhook-signature')).toHaveLength(1);
    expect(headers['X-Kept']).toBe('yes');
  });

  it('uses hookline/<version> unless userAgent or the request says otherwise', async () => {
    const { transport, sent } = capture();
    await deliver(req('/ok'), { transport });
    await deliver(req('/ok'), { transport, userAgent: 'acme-hooks/2' });
    await deliver(req('/ok', { headers: { 'User-Agent': 'template/1' } }), { transport });
    expect(DEFAULT_USER_AGENT).toBe(`hookline/${VERSION}`);
    expect(sent[0]?.headers['user-agent']).toBe(DEFAULT_USER_AGENT);
    expect(sent[1]?.headers['user-agent']).toBe('acme-hooks/2');
    expect(sent[2]?.headers['User-Agent']).toBe('template/1');
    expect(sent[2]?.headers['user-agent']).toBeUndefined();
  });

  it('passes the defaults to the transport: 30 s deadline, 64 KiB cap, exact UTF-8 bytes', async () => {
    const { transport, sent } = capture();
    await deliver(req('/ok', { body: 'é\r\n' }), { transport });
    expect(sent[0]).toMatchObject({ timeoutMs: 30_000, maxResponseBytes: 65_536, method: 'POST' });
    expect(Buffer.from(sent[0]?.body ?? new Uint8Array()).equals(Buffer.from([0xc3, 0xa9, 0x0d, 0x0a]))).toBe(
      true,
    );
  });

  it('turns a transport that throws into a failed result', async () => {
    const broken: Transport = {
      name: 'broken',
      send: () => Promise.reject(new Error('kaput')),
    };
    const r = await deliver(req('/ok'), { transport: broken });
    expect(r).toMatchObject({
      ok: false,
      status: 0,
      classification: 'retryable',
      error: { code: 'network', message: 'kaput' },
    });
  });
});

describe('deliver() default transport and the SSRF guard', () => {
  it('blocks loopback by default: status 0, ssrf_blocked, nothing received', async () => {
    const before = rx.received.length;
    const r = await deliver(req('/ok'));
    expect(r).toMatchObject({
      ok: false,
      status: 0,
      classification: 'retryable',
      error: { code: 'ssrf_blocked' },
    });
    expect(r.error?.message).toMatch(/Refused to connect to 127\.0\.0\.1/);
    expect(rx.received.length).toBe(before);
  });

  it('reaches loopback through the default transport when the ssrf option allows it', async () => {
    const r = await deliver(req('/ok'), { ssrf: LOOPBACK });
    expect(r).toMatchObject({ ok: true, status: 200 });
    const p = await deliver(req('/ok'), { ssrf: { allowPrivateNetworks: true } });
    expect(p.ok).toBe(true);
  });
});
