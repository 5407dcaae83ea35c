/**
 * The end-to-end demo: `npm run demo`.
 *
 * Starts a local receiver, registers a pretix-style webhook with a wildcard, one that fails
 * twice before it succeeds, one that answers 410, and a Taler-style webhook with header and
 * body templates and a signing secret; emits notifications; runs the worker with a fast retry
 * policy; and prints the deliveries, their attempts and the verified signatures.
 *
 * The store is embedded PostgreSQL (PGlite) in a data directory, so everything is durable with
 * no server: at the end the demo reopens the directory with `pgliteStore()` and reads the
 * webhooks back. (The first opening is spelled out, `PGlite.create()` then `postgresStore()`
 * and `migrate()`, so that each step is printed as it happens: a new data directory takes
 * PGlite several seconds.)
 * `npm run demo -- --memory` uses the in-memory store instead; `--data-dir DIR` keeps the data.
 * `npm run demo -- --ui` then keeps running and serves the delivery-log page (`hookline/ui`) of
 * what the demo did on http://127.0.0.1:3000/ui/ (`--ui-port N` for another port; loopback only,
 * no login: it is your own machine) until Ctrl-C.
 */
import { once } from 'node:events';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { toNodeHandler } from '../src/http/index.js';
import {
  combineCatalogs,
  type Delivery,
  defineRetryPolicy,
  generateSecret,
  memoryStore,
  pretixCatalog,
  type Store,
  talerCatalog,
  verifyWebhook,
  WebhookRegistry,
} from '../src/index.js';
import { pgliteStore, postgresStore } from '../src/stores/postgres/index.js';
import { deliveryLogUi } from '../src/ui/index.js';

const args = process.argv.slice(2);
const useMemory = args.includes('--memory');
const dataDirArg = args.includes('--data-dir') ? args[args.indexOf('--data-dir') + 1] : undefined;
const serveUi = args.includes('--ui');
const uiPort = args.includes('--ui-port') ? Number(args[args.indexOf('--ui-port') + 1]) : 3000;

/**
 * Serves the delivery-log page of `registry` on 127.0.0.1 until SIGINT or SIGTERM. Every scope
 * is open: the page listens on loopback only, for the person running the demo.
 */
async function serveDeliveryLog(registry: WebhookRegistry, step: (message: string) => void): Promise<void> {
  const ui = deliveryLogUi(registry, {
    basePath: '/ui',
    title: 'hookline demo',
    authorize: () => true,
    scopes: () => ['bigevents', 'default'],
  });
  const server = http.createServer(toNodeHandler(ui));
  server.listen(uiPort, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  step(`ui: the delivery log is at http://127.0.0.1:${port}/ui/ (Ctrl-C to stop)`);
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  server.closeAllConnections();
  server.close();
  await once(server, 'close');
  step(`ui: stopped (${signal})`);
}

interface Arrival {
  path: string;
  status: number;
  signature: string;
}

async function startReceiver(
  secrets: Map<string, string>,
): Promise<{ url: string; arrivals: Arrival[]; close(): Promise<void> }> {
  const arrivals: Arrival[] = [];
  let flaky = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = req.url ?? '/';
      const body = Buffer.concat(chunks).toString('utf8');
      let status = 200;
      if (path === '/flaky') status = ++flaky <= 2 ? 503 : 200;
      if (path === '/gone') status = 410;
      let signature = 'unsigned';
      const secret = secrets.get(path);
      if (secret) {
        const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
        const result = verifyWebhook({ body, headers, secrets: [secret] });
        signature = `verified (webhook-id ${result.id})`;
      }
      arrivals.push({ path, status, signature });
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status === 200 ? 'ok' : status === 410 ? 'this endpoint is gone' : 'try again later');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    arrivals,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

function table(rows: Record<string, string | number>[]): string {
  const first = rows[0];
  if (!first) return '(none)';
  const columns = Object.keys(first);
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ');
  return [
    line(columns),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map((r) => line(columns.map((c) => String(r[c])))),
  ].join('\n');
}

/** Prints one step of the demo as it happens, with the seconds since the start. */
function stepper(started: number): (message: string) => void {
  return (message) => console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${message}`);
}

async function main(): Promise<void> {
  const started = Date.now();
  const step = stepper(started);
  console.log('hookline demo: a receiver, four webhooks, five notifications, one worker.\n');

  const talerSecret = generateSecret();
  step('receiver: starting an HTTP receiver on 127.0.0.1 (/flaky fails twice, /gone answers 410)');
  const receiver = await startReceiver(new Map([['/taler', talerSecret]]));
  step(`receiver: listening on ${receiver.url}`);

  const dataDir = useMemory ? undefined : (dataDirArg ?? (await mkdtemp(join(tmpdir(), 'hookline-demo-'))));
  let store: Store & { close?(): Promise<void> };
  let closeDb: () => Promise<void> = async () => undefined;
  if (dataDir) {
    step(`store: opening embedded PostgreSQL (PGlite) in ${dataDir}`);
    step('store: (a new data directory takes PGlite several seconds to initialise)');
    const opening = Date.now();
    const ticker = setInterval(
      () => step(`store: still initialising (${Math.round((Date.now() - opening) / 1000)} s)…`),
      3_000,
    );
    await mkdir(dataDir, { recursive: true }); // as pgliteStore() does: --data-dir a/b/c works
    const db = await PGlite.create({ dataDir }).finally(() => clearInterval(ticker));
    closeDb = () => db.close();
    step('store: database open; migrating');
    const postgres = postgresStore({ db });
    const { from, to, applied } = await postgres.migrate();
    step(
      applied.length > 0
        ? `store: migrated from schema version ${from} to ${to} (applied ${applied.join(', ')})`
        : `store: schema already at version ${to}`,
    );
    store = postgres;
  } else {
    store = memoryStore();
    step('store: in memory (--memory): nothing survives the process');
  }

  // One registry for both dialects: pretix organizers and Taler instances are both scopes.
  const registry = new WebhookRegistry({
    store,
    catalog: combineCatalogs(pretixCatalog, talerCatalog),
    payloadStyle: 'pretix',
    retryPolicy: defineRetryPolicy({ name: 'demo', delaysMs: [100, 200, 400] }),
  });

  step('webhooks: creating four');
  const changes = await registry.create('bigevents', {
    url: `${receiver.url}/orders`,
    eventTypes: ['pretix.event.order.changed.*'],
    allEvents: false,
    limitEvents: ['democon'],
    comment: 'every order change at democon',
  });
  step(`webhooks: #${changes.id} bigevents: pretix.event.order.changed.* at democon only -> /orders`);
  const paid = await registry.create('bigevents', {
    url: `${receiver.url}/flaky`,
    eventTypes: ['pretix.event.order.paid'],
  });
  step(`webhooks: #${paid.id} bigevents: pretix.event.order.paid -> /flaky`);
  const canceled = await registry.create('bigevents', {
    url: `${receiver.url}/gone`,
    eventTypes: ['pretix.event.order.canceled'],
  });
  step(`webhooks: #${canceled.id} bigevents: pretix.event.order.canceled -> /gone`);
  const pay = await registry.create('default', {
    key: 'pay-hook',
    url: `${receiver.url}/taler`,
    eventTypes: ['pay'],
    headerTemplate: 'X-Taler-Order: {{order_id}}',
    bodyTemplate: '{"order":"{{order_id}}","amount":"{{contract_terms.amount}}"}',
    secrets: [talerSecret],
  });
  step(`webhooks: #${pay.id} default (Taler): pay, templates, signed -> /taler`);

  const notifications = [
    {
      scope: 'bigevents',
      type: 'pretix.event.order.changed.item',
      event: 'democon',
      data: { code: 'ABC12' },
    },
    {
      scope: 'bigevents',
      type: 'pretix.event.order.changed.item',
      event: 'otherfest',
      data: { code: 'ZZZ99' },
    },
    { scope: 'bigevents', type: 'pretix.event.order.paid', event: 'democon', data: { code: 'ABC12' } },
    { scope: 'bigevents', type: 'pretix.event.order.canceled', event: 'democon', data: { code: 'XYZ34' } },
    {
      scope: 'default',
      type: 'pay',
      data: { order_id: '2025.123-01ABC', contract_terms: { amount: 'KUDOS:5', summary: 'Coffee' } },
    },
  ];
  let expected = 0;
  for (const n of notifications) {
    const result = await registry.emit(n);
    expected += result.deliveries;
    step(
      `emit: ${n.type.padEnd(31)} event=${String(n.event ?? '-').padEnd(9)} -> ${result.deliveries} delivery(ies)`,
    );
  }

  const worker = registry.worker({ ssrf: { allow: ['127.0.0.1'] }, pollIntervalMs: 50, timeoutMs: 5_000 });
  const finished: Delivery[] = [];
  const done = new Promise<void>((resolve) => {
    const finish = (delivery: Delivery) => {
      finished.push(delivery);
      if (finished.length === expected) resolve();
    };
    worker.on('delivery.succeeded', ({ delivery, result }) => {
      step(`deliver: ${delivery.id} #${delivery.webhookId} ${result.status}: succeeded`);
      finish(delivery);
    });
    worker.on('delivery.retrying', ({ delivery, result, nextAttemptAt }) =>
      step(
        `deliver: ${delivery.id} #${delivery.webhookId} ${result.status}: retrying in ${Math.max(0, nextAttemptAt.getTime() - Date.now())} ms`,
      ),
    );
    worker.on('delivery.failed', ({ delivery, result, reason }) => {
      step(`deliver: ${delivery.id} #${delivery.webhookId} ${result.status}: failed (${reason})`);
      finish(delivery);
    });
  });
  worker.on('webhook.disabled', ({ scope, webhookId, reason }) =>
    step(`worker: disabled webhook #${webhookId} of ${scope} (${reason})`),
  );
  step(`worker: starting; delivering ${expected} deliveries`);
  worker.start();
  await done;
  await worker.stop();
  step(`worker: all ${expected} deliveries finished; stopped`);

  const rows: Record<string, string | number>[] = [];
  for (const hook of [changes, paid, canceled, pay]) {
    for (const delivery of (await registry.deliveries(hook.scope, hook.id)).items) {
      const attempts = (await registry.attempts(hook.scope, delivery.id)).items.reverse();
      rows.push({
        webhook: `#${hook.id} ${hook.scope}`,
        type: delivery.type,
        state: delivery.state,
        attempts: attempts.map((a) => a.status).join(' > '),
        delivery: delivery.id,
      });
    }
  }
  console.log(`\nDeliveries and their attempts (status of each try):\n${table(rows)}`);
  console.log(`\nWhat the receiver saw:\n${table(receiver.arrivals.map((a) => ({ ...a })))}`);
  const gone = await registry.get('bigevents', canceled.id);
  console.log(
    `\nWebhook #${gone.id} is now enabled=${gone.enabled} (disabledReason: ${gone.disabledReason})`,
  );
  await receiver.close();
  if (serveUi && !dataDir) await serveDeliveryLog(registry, step);
  await store.close?.();
  await closeDb();

  if (dataDir) {
    // Durable with zero infrastructure: reopen the data directory as a new process would.
    console.log('');
    step(`store: reopening ${dataDir} with pgliteStore(), as a restarted process would`);
    const reopened = await pgliteStore({ dataDir });
    const again = new WebhookRegistry({ store: reopened });
    const hooks = [...(await again.list('bigevents')).items, ...(await again.list('default')).items];
    const [paidDelivery] = (await again.deliveries('bigevents', paid.id)).items;
    step(
      `store: reopened: ${hooks.length} webhooks; webhook #${paid.id}'s delivery is ${paidDelivery?.state} after ${paidDelivery?.attemptCount} attempts`,
    );
    if (serveUi) await serveDeliveryLog(again, step);
    await reopened.close();
    if (!dataDirArg) await rm(dataDir, { recursive: true, force: true });
  }
  console.log(`\nDone in ${Date.now() - started} ms.`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
