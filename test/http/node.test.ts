import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import {
  combineHandlers,
  pretixHandler,
  requestMethod,
  talerHandler,
  toNodeHandler,
} from '../../src/http/index.js';
import { WebhookRegistry } from '../../src/index.js';
import { pretixCatalog, talerCatalog } from '../../src/matching/index.js';
import { authorize } from './helpers.js';

const HEADERS = { authorization: 'Token tok-a', 'content-type': 'application/json' };
const BODY = JSON.stringify({
  target_url: 'https://receiver.example/h',
  action_types: ['pretix.event.order.paid'],
});
const PATH = '/api/v1/organizers/orga/webhooks/';

let server: Server | undefined;
afterEach(async () => {
  const s = server;
  server = undefined;
  if (s) {
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
});

async function listen(s: Server): Promise<string> {
  server = s;
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

function handler(maxBodyBytes?: number) {
  const registry = new WebhookRegistry({ catalog: pretixCatalog });
  return pretixHandler(registry, { authorize, ...(maxBodyBytes === undefined ? {} : { maxBodyBytes }) });
}

/** Sends a chunked body (no Content-Length) of `size` bytes. */
function chunked(url: string, size: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}${PATH}`, { method: 'POST', headers: HEADERS }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    const chunk = Buffer.alloc(16 * 1024, 'x');
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

describe('toNodeHandler', () => {
  it('serves a handler on node:http, streaming the body', async () => {
    const url = await listen(createServer(toNodeHandler(handler())));
    const created = await fetch(`${url}${PATH}`, { method: 'POST', headers: HEADERS, body: BODY });
    expect(created.status).toBe(201);
    expect(created.headers.get('content-type')).toBe('application/json');
    expect(await created.json()).toMatchObject({ id: 1 });
    expect((await fetch(`${url}${PATH}?page=1`, { headers: HEADERS })).status).toBe(200);
  });

  it('answers 413 for a declared or a chunked body over the limit, and keeps serving', async () => {
    const url = await listen(createServer(toNodeHandler(handler(1000), { maxBodyBytes: 500 })));
    const declared = await fetch(`${url}${PATH}`, {
      method: 'POST',
      headers: HEADERS,
      body: 'x'.repeat(5000),
    });
    expect(declared.status).toBe(413);
    expect(await chunked(url, 4 * 1024 * 1024)).toBe(413);
    expect((await fetch(`${url}${PATH}`, { method: 'POST', headers: HEADERS, body: BODY })).status).toBe(201);
  });

  it('survives a client that aborts mid-upload', async () => {
    const url = await listen(createServer(toNodeHandler(handler())));
    await new Promise<void>((resolve) => {
      const req = httpRequest(`${url}${PATH}`, {
        method: 'POST',
        headers: { ...HEADERS, 'content-length': '1000' },
      });
      req.on('error', () => resolve());
      req.write('{"target_url": "https://');
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 50);
    });
    expect((await fetch(`${url}${PATH}`, { headers: HEADERS })).status).toBe(200);
  });

  it('works in Express after express.json() and calls next() for paths it does not serve', async () => {
    const app = express();
    app.use(express.json());
    app.use(toNodeHandler(handler()));
    app.get('/health', (_req, res) => {
      res.json({ ok: true });
    });
    const url = await listen(createServer(app));
    const created = await fetch(`${url}${PATH}`, { method: 'POST', headers: HEADERS, body: BODY });
    expect(created.status).toBe(201);
    expect(await (await fetch(`${url}/health`)).json()).toEqual({ ok: true });
  });
});

/** Sends one request with node:http (fetch cannot send TRACE) and reads the answer. */
function send(
  url: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}${path}`, { method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const TALER_PATH = '/private/webhooks';
const TALER_HEADERS = { authorization: 'Bearer tok-default' };
const TALER_405 = JSON.stringify({ code: 20, hint: 'The HTTP method used is invalid for this endpoint.' });

function talerNode() {
  return talerHandler(new WebhookRegistry({ catalog: talerCatalog }), { authorize });
}

describe('toNodeHandler: methods the Fetch API refuses (TRACE, TRACK, CONNECT)', () => {
  it('pretix answers TRACE with its own 405 and Allow, after authentication as DRF does', async () => {
    const url = await listen(createServer(toNodeHandler(handler())));
    const traced = await send(url, 'TRACE', PATH, { authorization: 'Token tok-a' });
    expect(traced.status).toBe(405);
    expect(traced.text).toBe(JSON.stringify({ detail: 'Method "TRACE" not allowed.' }));
    expect(traced.headers.allow).toBe('GET, POST, HEAD, OPTIONS');
    const anonymous = await send(url, 'TRACE', PATH, {});
    expect(anonymous.status).toBe(401);
    expect((await fetch(`${url}${PATH}`, { headers: HEADERS })).status).toBe(200);
  });

  it('Taler answers TRACE with its own 405 (code 20) and Allow', async () => {
    const url = await listen(createServer(toNodeHandler(talerNode())));
    const traced = await send(url, 'TRACE', TALER_PATH, TALER_HEADERS);
    expect(traced.status).toBe(405);
    expect(traced.text).toBe(TALER_405);
    expect(traced.headers.allow).toBe('GET, POST, HEAD, OPTIONS');
  });

  it.each(['TRACK', 'CONNECT', 'track'])(
    '%s (set by a framework) gets the same 405 in both dialects',
    async (method) => {
      const pretix = toNodeHandler(handler());
      const taler = toNodeHandler(talerNode());
      const url = await listen(
        createServer((req, res) => {
          req.method = method;
          void (req.url?.startsWith('/private') ? taler(req, res) : pretix(req, res));
        }),
      );
      const upper = method.toUpperCase();
      const fromPretix = await send(url, 'POST', PATH, HEADERS, BODY);
      expect(fromPretix.status).toBe(405);
      expect(fromPretix.text).toBe(JSON.stringify({ detail: `Method "${upper}" not allowed.` }));
      const fromTaler = await send(
        url,
        'POST',
        TALER_PATH,
        { ...TALER_HEADERS, 'content-type': 'application/json' },
        '{}',
      );
      expect(fromTaler.status).toBe(405);
      expect(fromTaler.text).toBe(TALER_405);
    },
  );

  it('through combineHandlers the dialect that owns the path answers', async () => {
    const combined = combineHandlers(handler(), talerNode());
    const url = await listen(createServer(toNodeHandler(combined)));
    expect((await send(url, 'TRACE', TALER_PATH, TALER_HEADERS)).text).toBe(TALER_405);
    expect((await send(url, 'TRACE', PATH, { authorization: 'Token tok-a' })).text).toBe(
      JSON.stringify({ detail: 'Method "TRACE" not allowed.' }),
    );
  });

  it('requestMethod() gives authorize the real method', async () => {
    const seen: string[] = [];
    const registry = new WebhookRegistry({ catalog: pretixCatalog });
    const pretix = pretixHandler(registry, {
      authorize: (context) => {
        seen.push(`${context.request.method} ${requestMethod(context.request)}`);
        return authorize(context);
      },
    });
    const url = await listen(createServer(toNodeHandler(pretix)));
    await send(url, 'TRACE', PATH, { authorization: 'Token tok-a' });
    expect(seen).toEqual(['X-HOOKLINE-UNSUPPORTED TRACE']);
  });
});

describe('toNodeHandler: deep bodies', () => {
  const deepBody = `{"target_url":"https://receiver.example/h","action_types":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;

  /** Sends the deep body to both dialects: pretix says `pretixDetail`, Taler code 22, both 400. */
  async function expectRefusedByBoth(url: string, pretixDetail: string): Promise<void> {
    const pretix = await send(url, 'POST', PATH, HEADERS, deepBody);
    expect(pretix.status).toBe(400);
    expect(JSON.parse(pretix.text)).toEqual({ detail: pretixDetail });
    const taler = await send(
      url,
      'POST',
      TALER_PATH,
      { ...TALER_HEADERS, 'content-type': 'application/json' },
      deepBody,
    );
    expect(taler.status).toBe(400);
    expect(JSON.parse(taler.text)).toMatchObject({ code: 22 });
  }

  it('a body of 100 000 nested arrays is a 400 in both dialects, streamed', async () => {
    const url = await listen(createServer(toNodeHandler(combineHandlers(handler(), talerNode()))));
    await expectRefusedByBoth(url, 'JSON parse error - The JSON is nested more than 64 levels deep.');
  });

  it('a deep body already parsed by express.json() is a 400, not a 500', async () => {
    const app = express();
    app.use(express.json({ limit: '10mb' }));
    app.use(toNodeHandler(combineHandlers(handler(), talerNode())));
    const url = await listen(createServer(app));
    await expectRefusedByBoth(url, 'JSON parse error - The request body could not be read.');
  });
});
