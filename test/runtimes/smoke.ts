/**
 * Runtime smoke test: the built package (`dist/`) on Node, Bun and Deno.
 *
 *   npm run build
 *   npx tsx test/runtimes/smoke.ts                        # Node
 *   npx -y bun@1.4.5 test/runtimes/smoke.ts               # Bun
 *   npx -y deno@2.9.6 run -A test/runtimes/smoke.ts       # Deno
 *
 * Checks, each printed as one `ok`/`FAIL` line: the worker's default transport delivers a
 * signed notification to a local receiver (SSRF allow-list opened for 127.0.0.1) and the
 * signature verifies; with the default guard, loopback (by literal and by `localhost`) is
 * refused and the receiver gets nothing, for the worker's default transport, `kyTransport()`
 * and `deliver()`; the `node:http` transport connects to the address it checked with the right
 * `Host` and TLS server name; `stop()` and `close()` do not throw; the pretix and Taler handlers
 * answer real HTTP requests (served with `Bun.serve`, `Deno.serve`, or `node:http` on Node).
 * Exits non-zero when any check fails. `HOOKLINE_DIST` overrides the package directory.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import process from 'node:process';
import type { TLSSocket } from 'node:tls';
import type * as HooklineHttp from '../../src/http/index.js';
import type * as Hookline from '../../src/index.js';

type FetchHandler = (request: Request) => Promise<Response>;
interface BunLike {
  version: string;
  serve(options: { port: number; hostname: string; fetch: FetchHandler }): {
    port: number;
    stop(closeActiveConnections?: boolean): unknown;
  };
}
interface DenoLike {
  version: { deno: string };
  serve(
    options: { port: number; hostname: string; onListen?: () => void },
    handler: FetchHandler,
  ): { addr: { port: number }; shutdown(): Promise<void> };
}
const runtimeGlobals = globalThis as unknown as { Bun?: BunLike; Deno?: DenoLike };
const bun = runtimeGlobals.Bun;
const deno = runtimeGlobals.Deno;
const runtime = bun ? `bun ${bun.version}` : deno ? `deno ${deno.version.deno}` : `node ${process.version}`;
const kind: 'bun' | 'deno' | 'node' = bun ? 'bun' : deno ? 'deno' : 'node';

const dist = process.env.HOOKLINE_DIST
  ? new URL(`file://${process.env.HOOKLINE_DIST.replace(/\/?$/, '/')}`)
  : new URL('../../dist/', import.meta.url);
const hl = (await import(new URL('index.js', dist).href)) as typeof Hookline;
const hlHttp = (await import(new URL('http/index.js', dist).href)) as typeof HooklineHttp;

let failures = 0;
async function check(name: string, fn: () => Promise<string | undefined>): Promise<void> {
  try {
    const detail = await fn();
    console.log(`ok   - ${name}${detail ? ` (${detail})` : ''}`);
  } catch (err) {
    failures++;
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    console.log(`FAIL - ${name}: ${message}`);
  }
}
function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

/** A node:http receiver on 127.0.0.1 that records every request. */
interface Arrival {
  path: string;
  headers: Record<string, string>;
  body: string;
}
async function startReceiver(): Promise<{ port: number; arrivals: Arrival[]; close(): Promise<void> }> {
  const arrivals: Arrival[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
      arrivals.push({ path: req.url ?? '/', headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    arrivals,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** Serves a Fetch handler the runtime's own way: Bun.serve, Deno.serve, or node:http. */
async function serveFetch(handler: FetchHandler): Promise<{ origin: string; close(): Promise<void> }> {
  if (bun) {
    const server = bun.serve({ port: 0, hostname: '127.0.0.1', fetch: handler });
    return { origin: `http://127.0.0.1:${server.port}`, close: async () => void server.stop(true) };
  }
  if (deno) {
    const server = deno.serve({ port: 0, hostname: '127.0.0.1', onListen: () => undefined }, handler);
    return { origin: `http://127.0.0.1:${server.addr.port}`, close: () => server.shutdown() };
  }
  const server = http.createServer(hlHttp.toNodeHandler(handler));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

function sendRequest(url: string): Hookline.TransportRequest {
  return {
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: new TextEncoder().encode('{"smoke":true}'),
    timeoutMs: 5_000,
    maxResponseBytes: 65_536,
  };
}

console.log(`hookline smoke test on ${runtime}, package ${dist.pathname}`);
const receiver = await startReceiver();
const base = `http://127.0.0.1:${receiver.port}`;
const catalog = hl.combineCatalogs(hl.pretixCatalog, hl.talerCatalog);

await check('the runtime is detected by mechanism', async () => {
  const dispatcher = hl.undiciDispatcherSupported();
  const honoured = await hl.fetchHonoursDispatcher();
  const transport = hl.defaultTransport();
  const name = transport.name;
  await transport.close();
  const expected = kind === 'bun' ? 'node' : 'undici';
  assert(name === expected, `defaultTransport() is ${name}, expected ${expected}`);
  assert(honoured === (kind === 'node'), `fetchHonoursDispatcher() is ${honoured}`);
  return `undici dispatcher API: ${dispatcher}, fetch honours dispatcher: ${honoured}, default transport: ${name}`;
});

await check("the worker's default transport delivers a signed notification (loopback allowed)", async () => {
  const secret = hl.generateSecret();
  const registry = new hl.WebhookRegistry({ store: hl.memoryStore(), catalog });
  const hook = await registry.create('acme', {
    url: `${base}/signed`,
    eventTypes: ['pretix.event.order.paid'],
    secrets: [secret],
  });
  const worker = registry.worker({ ssrf: { allow: ['127.0.0.1'] }, pollIntervalMs: 50, timeoutMs: 5_000 });
  const outcome = new Promise<string>((resolve) => {
    worker.on('delivery.succeeded', ({ delivery }) => resolve(`succeeded ${delivery.id}`));
    worker.on('delivery.retrying', ({ result }) =>
      resolve(`retrying: ${result.error?.code} ${result.error?.message}`),
    );
    worker.on('delivery.failed', ({ result }) =>
      resolve(`failed: ${result.error?.code} ${result.error?.message}`),
    );
  });
  const emitted = await registry.emit({
    scope: 'acme',
    type: 'pretix.event.order.paid',
    event: 'democon',
    data: { code: 'ABC12' },
  });
  assert(emitted.deliveries === 1, `emit made ${emitted.deliveries} deliveries`);
  worker.start();
  const result = await outcome;
  await worker.stop();
  assert(result.startsWith('succeeded'), result);
  const arrival = receiver.arrivals.find((a) => a.path === '/signed');
  assert(arrival, 'the receiver got nothing');
  const verified = hl.verifyWebhook({ body: arrival.body, headers: arrival.headers, secrets: [secret] });
  assert(
    arrival.body.includes('pretix.event.order.paid') && arrival.body.includes('ABC12'),
    `unexpected body ${arrival.body}`,
  );
  return `webhook #${hook.id}, signature verified, webhook-id ${verified.id}`;
});

await check('the diagnostics channels publish emit, attempt and outcome', async () => {
  const seen: string[] = [];
  const listeners = Object.values(hl.CHANNELS).map((name) => {
    const listener = () => seen.push(name);
    diagnosticsChannel.subscribe(name, listener);
    return { name, listener };
  });
  try {
    const registry = new hl.WebhookRegistry({ store: hl.memoryStore() });
    await registry.create('acme', { url: `${base}/channels`, eventTypes: ['x'] });
    await registry.emit({ scope: 'acme', type: 'x', data: {} });
    const worker = registry.worker({ ssrf: { allow: ['127.0.0.1'] }, pollIntervalMs: 50, timeoutMs: 5_000 });
    await worker.drain();
    await worker.stop();
  } finally {
    for (const { name, listener } of listeners) diagnosticsChannel.unsubscribe(name, listener);
  }
  const expected = [
    hl.CHANNELS.emit,
    hl.CHANNELS.attemptStart,
    hl.CHANNELS.attemptEnd,
    hl.CHANNELS.deliveryOutcome,
  ];
  assert(JSON.stringify(seen) === JSON.stringify(expected), `published ${seen.join(', ')}`);
  return seen.join(', ');
});

await check("the worker's default guard refuses 127.0.0.1 and localhost; nothing arrives", async () => {
  const registry = new hl.WebhookRegistry({ store: hl.memoryStore(), catalog });
  for (const host of ['127.0.0.1', 'localhost']) {
    await registry.create('acme', { url: `http://${host}:${receiver.port}/blocked`, eventTypes: ['pay'] });
  }
  const worker = registry.worker({ pollIntervalMs: 50, timeoutMs: 5_000 });
  const codes: string[] = [];
  const both = new Promise<void>((resolve) => {
    const seen = (code: string | undefined): void => {
      codes.push(code ?? 'none');
      if (codes.length === 2) resolve();
    };
    worker.on('delivery.succeeded', () => seen('delivered'));
    worker.on('delivery.retrying', ({ result }) => seen(result.error?.code));
    worker.on('delivery.failed', ({ result }) => seen(result.error?.code));
  });
  await registry.emit({ scope: 'acme', type: 'pay', data: { order_id: 'X1' } });
  worker.start();
  await both;
  await worker.stop();
  assert(
    codes.every((c) => c === 'ssrf_blocked'),
    `attempt outcomes: ${codes.join(', ')}`,
  );
  assert(!receiver.arrivals.some((a) => a.path === '/blocked'), 'the receiver got a request');
  return codes.join(', ');
});

await check('kyTransport(): the default guard refuses loopback; an allowed loopback works', async () => {
  const guarded = hl.kyTransport();
  const before = receiver.arrivals.length;
  for (const host of ['127.0.0.1', 'localhost']) {
    const r = await guarded.send(sendRequest(`http://${host}:${receiver.port}/ky-blocked`));
    assert(
      r.error?.code === 'ssrf_blocked',
      `${host}: status ${r.status}, ${r.error?.code} ${r.error?.message}`,
    );
  }
  assert(receiver.arrivals.length === before, 'the receiver got a request');
  const open = hl.kyTransport({ ssrf: { allow: ['127.0.0.1'] } });
  const ok = await open.send(sendRequest(`${base}/ky-allowed`));
  assert(
    ok.status === 200 && ok.body === 'ok',
    `allowed: status ${ok.status}, ${ok.error?.code} ${ok.error?.message}`,
  );
  await guarded.close();
  await open.close();
  return 'close() did not throw';
});

await check('deliver() with its default transport refuses loopback', async () => {
  const r = await hl.deliver({ url: `${base}/deliver-blocked`, method: 'POST', headers: {}, body: '{}' });
  assert(r.error?.code === 'ssrf_blocked', `status ${r.status}, ${r.error?.code} ${r.error?.message}`);
  assert(!receiver.arrivals.some((a) => a.path === '/deliver-blocked'), 'the receiver got a request');
  return r.error.message;
});

await check(
  'nodeTransport(): connects to the checked address with the right Host and TLS server name',
  async () => {
    const fixtures = new URL('../delivery/fixtures/', import.meta.url);
    const cert = readFileSync(new URL('tls-cert.pem', fixtures), 'utf8');
    const key = readFileSync(new URL('tls-key.pem', fixtures), 'utf8');
    const seen: string[] = [];
    const server = https.createServer({ key, cert }, (req, res) => {
      seen.push(`${String((req.socket as TLSSocket).servername)} ${req.headers.host}`);
      req.resume();
      req.on('end', () => res.end('secure'));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    // hooks.example does not resolve anywhere: only a connection to the checked address works.
    const lookup: Hookline.SsrfLookup = async (name) => {
      if (name === 'hooks.example' || name === 'other.example') return [{ address: '127.0.0.1', family: 4 }];
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
    };
    const transport = hl.nodeTransport({ ssrf: { lookup, allow: ['127.0.0.1'] }, ca: cert });
    try {
      const r = await transport.send(sendRequest(`https://hooks.example:${port}/in`));
      assert(
        r.status === 200 && r.body === 'secure',
        `status ${r.status}, ${r.error?.code} ${r.error?.message}`,
      );
      assert(seen[0] === `hooks.example hooks.example:${port}`, `the server saw SNI and Host ${seen[0]}`);
      const wrong = await transport.send(sendRequest(`https://other.example:${port}/in`));
      assert(
        wrong.error?.code === 'tls',
        `a certificate for another name: ${wrong.status} ${wrong.error?.code}`,
      );
      const blocked = await hl
        .nodeTransport({ ssrf: { lookup } })
        .send(sendRequest(`https://hooks.example:${port}/in`));
      assert(blocked.error?.code === 'ssrf_blocked', `not allowed: ${blocked.error?.code}`);
      return `SNI and Host: ${seen[0]}`;
    } finally {
      await transport.close();
      server.closeAllConnections();
      server.close();
    }
  },
);

await check('the pretix and Taler handlers answer real HTTP requests', async () => {
  const registry = new hl.WebhookRegistry({ store: hl.memoryStore(), catalog });
  const authorize = async (): Promise<true> => true;
  const handler = hlHttp.combineHandlers(
    hlHttp.pretixHandler(registry, { authorize }),
    hlHttp.talerHandler(registry, { authorize }),
  );
  const server = await serveFetch(handler);
  try {
    const json = { 'content-type': 'application/json' };
    const created = await fetch(`${server.origin}/api/v1/organizers/acme/webhooks/`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ target_url: `${base}/pretix`, action_types: ['pretix.event.order.paid'] }),
    });
    assert(created.status === 201, `pretix create: ${created.status} ${await created.text()}`);
    const list = await fetch(`${server.origin}/api/v1/organizers/acme/webhooks/`);
    const page = (await list.json()) as { count: number; results: { target_url: string }[] };
    assert(list.status === 200 && page.count === 1, `pretix list: ${list.status} ${JSON.stringify(page)}`);
    assert(page.results[0]?.target_url === `${base}/pretix`, 'pretix list: wrong target_url');

    const posted = await fetch(`${server.origin}/private/webhooks`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({
        webhook_id: 'paid',
        event_type: 'pay',
        url: `${base}/taler`,
        http_method: 'POST',
      }),
    });
    assert(posted.status === 204, `Taler create: ${posted.status} ${await posted.text()}`);
    const talerList = await fetch(`${server.origin}/private/webhooks`);
    const hooks = (await talerList.json()) as { webhooks: { webhook_id: string; event_type: string }[] };
    assert(
      talerList.status === 200 && hooks.webhooks.length === 1 && hooks.webhooks[0]?.webhook_id === 'paid',
      `Taler list: ${talerList.status} ${JSON.stringify(hooks)}`,
    );
    const missing = await fetch(`${server.origin}/private/webhooks/nope`);
    const error = (await missing.json()) as { code: number };
    assert(missing.status === 404 && error.code === 2019, `Taler unknown webhook: ${missing.status}`);
    return `served by ${kind === 'node' ? 'node:http' : `${kind === 'bun' ? 'Bun' : 'Deno'}.serve`}`;
  } finally {
    await server.close();
  }
});

await receiver.close();
console.log(failures === 0 ? `all checks passed on ${runtime}` : `${failures} check(s) failed on ${runtime}`);
process.exit(failures === 0 ? 0 : 1);
