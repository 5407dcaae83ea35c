/**
 * bench/pipeline: 20 000 notifications, each matching one webhook, emitted and delivered
 * through the memory store to a keep-alive receiver in another process, worker concurrency 64.
 * Compared in the same run with raw undici requests (Pool.request, concurrency 64) to the same
 * receiver. Targets: at least 60 % of raw undici end to end; peak RSS under 300 MB with 20 000
 * deliveries queued.
 *
 * Method: one untimed warm-up run of each side (both JIT-compiled before timing), then ROUNDS
 * interleaved timed runs of each; each side is represented by its best run, and every run is
 * listed. Each hookline run uses a new registry and memory store; its peak RSS is measured from a
 * collected heap when the process runs with --expose-gc (as `npm run bench` does).
 *
 * Run: npx tsx bench/pipeline/index.ts [--quick]
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { memoryStore, WebhookRegistry } from '../../src/index.js';
import { createOrderWebhooks, emitOrders } from '../shared/orders.js';
import { registerNoopSdk } from '../shared/otel.js';

const quick = process.argv.includes('--quick');
const N = quick ? 4_000 : 20_000;
const ROUNDS = quick ? 1 : 3;
const CONCURRENCY = 64;
const WEBHOOKS = 200;

let peakRss = 0;
const rssTimer = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 20);
const collect = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

async function startReceiver(): Promise<{ port: number; stop(): void }> {
  const child = fork(fileURLToPath(new URL('../deliver/receiver.mjs', import.meta.url)), [], {
    stdio: 'inherit',
  });
  const [message] = (await once(child, 'message')) as [{ port: number }];
  return { port: message.port, stop: () => child.kill() };
}

async function rawUndici(port: number, body: string): Promise<number> {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: CONCURRENCY });
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < N) {
        next++;
        const res = await pool.request({
          path: '/hook',
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        await res.body.text();
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await pool.close();
  return N / seconds;
}

async function hookline(port: number) {
  collect();
  peakRss = process.memoryUsage().rss;
  const registry = new WebhookRegistry({ store: memoryStore() });
  await createOrderWebhooks(registry, { port, webhooks: WEBHOOKS, typePrefix: 'bench.type' });
  const started = performance.now();
  await emitOrders(registry, { count: N, webhooks: WEBHOOKS, typePrefix: 'bench.type' });
  const emitSeconds = (performance.now() - started) / 1000;
  const queuedRss = process.memoryUsage().rss;
  let delivered = 0;
  let failed = 0;
  let retried = 0;
  const worker = registry.worker({
    concurrency: CONCURRENCY,
    perWebhookConcurrency: 8,
    ssrf: { allow: ['127.0.0.1'] },
  });
  const done = new Promise<void>((resolve) => {
    worker.on('delivery.succeeded', () => {
      if (++delivered + failed === N) resolve();
    });
    worker.on('delivery.failed', () => {
      if (delivered + ++failed === N) resolve();
    });
    worker.on('delivery.retrying', () => {
      retried++;
    });
  });
  const deliverStarted = performance.now();
  const cpuBefore = process.cpuUsage();
  worker.start();
  await done;
  const cpu = process.cpuUsage(cpuBefore);
  const deliverSeconds = (performance.now() - deliverStarted) / 1000;
  const seconds = (performance.now() - started) / 1000;
  await worker.stop();
  if (failed > 0 || retried > 0) throw new Error(`${failed} deliveries failed, ${retried} attempts retried`);
  return {
    perSecond: N / seconds,
    emitPerSecond: N / emitSeconds,
    deliverPerSecond: N / deliverSeconds,
    cpuPerDeliveryUs: (cpu.user + cpu.system) / N,
    cpuShare: (cpu.user + cpu.system) / 1e6 / deliverSeconds,
    queuedRss,
    peakRss: Math.max(peakRss, process.memoryUsage().rss),
  };
}

const receiver = await startReceiver();
try {
  const body = JSON.stringify({
    order: 'ORDER-1',
    amount: 'EUR:12.50',
    items: [{ sku: 'tee', qty: 2 }],
    note: 'x'.repeat(300),
  });
  // Warm-up: both sides run once untimed, so neither is measured while being compiled.
  await rawUndici(receiver.port, body);
  await hookline(receiver.port);
  const raws: number[] = [];
  const ours: Awaited<ReturnType<typeof hookline>>[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    raws.push(await rawUndici(receiver.port, body));
    ours.push(await hookline(receiver.port));
  }
  // Then with an OpenTelemetry SDK registered (exporters that drop everything): what recording
  // hookline's spans and metrics costs. After the runs without one, not between them: a process
  // has an SDK or not, and call sites that saw both would measure neither.
  const unregister = registerNoopSdk();
  await hookline(receiver.port); // warm-up with the SDK
  const traced: Awaited<ReturnType<typeof hookline>>[] = [];
  for (let round = 0; round < ROUNDS; round++) traced.push(await hookline(receiver.port));
  await unregister();
  clearInterval(rssTimer);
  const raw = Math.max(...raws);
  const best = ours.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
  const ratio = best.perSecond / raw;
  const peak = Math.max(...ours.map((r) => r.peakRss));
  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
  const runs = (values: number[]) => values.map((v) => v.toFixed(0)).join(' / ');
  console.log(
    `bench/pipeline: ${N} notifications -> ${N} signed deliveries, concurrency ${CONCURRENCY}, memory store`,
  );
  console.log(`  best of ${ROUNDS} interleaved runs per side, after one untimed warm-up run of each`);
  console.log(`  raw undici Pool.request      ${raw.toFixed(0).padStart(7)} req/s   (runs: ${runs(raws)})`);
  console.log(`  hookline emit only           ${best.emitPerSecond.toFixed(0).padStart(7)} notifications/s`);
  console.log(
    `  hookline deliver only        ${best.deliverPerSecond.toFixed(0).padStart(7)} deliveries/s, ${best.cpuPerDeliveryUs.toFixed(0)} µs CPU each, process busy ${(best.cpuShare * 100).toFixed(0)} %`,
  );
  console.log(
    `  hookline emit + deliver      ${best.perSecond.toFixed(0).padStart(7)} deliveries/s (end to end)   (runs: ${runs(ours.map((r) => r.perSecond))})`,
  );
  console.log(
    `  ratio hookline / raw undici  ${(ratio * 100).toFixed(0)} %  (target >= 60 %)  ${ratio >= 0.6 ? 'PASS' : 'FAIL'}`,
  );
  console.log(
    `  deliver only / raw undici    ${((best.deliverPerSecond / raw) * 100).toFixed(0)} %  (informational: sending, signing and recording, without emit)`,
  );
  const bestTraced = traced.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
  console.log(
    `  with an OpenTelemetry SDK    ${bestTraced.perSecond.toFixed(0).padStart(7)} deliveries/s (end to end, no-op exporters)   (runs: ${runs(traced.map((r) => r.perSecond))})`,
  );
  console.log(
    `  SDK on / SDK off             ${((bestTraced.perSecond / best.perSecond) * 100).toFixed(0)} %  (informational: the cost of recording spans and metrics)`,
  );
  console.log(`  RSS with ${N} queued          ${mb(best.queuedRss)}`);
  console.log(
    `  peak RSS                     ${mb(peak)}  (target < 300 MB)  ${peak < 300 * 1024 * 1024 ? 'PASS' : 'FAIL'}`,
  );
} finally {
  receiver.stop();
}
