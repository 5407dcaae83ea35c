import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { pretixHandler, toNodeHandler } from '../../src/http/index.js';
import { WebhookRegistry } from '../../src/index.js';
import { pretixCatalog } from '../../src/matching/index.js';
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
