/**
 * bench/backlog's peer: raw undici (a `Pool`, undici's default connect timeout) sending the same
 * number of POSTs of the same size at the same concurrency to the same refused loopback port,
 * while the process holds as much memory as hookline's memory store held for the backlog (a
 * ballast of small objects on the heap, a buffer outside it). It shows the floor that the
 * platform (Node's sockets, undici, V8's heap growth) sets for this workload. Prints one JSON
 * line. Run by bench/backlog/index.ts, in its own process, under the same loader.
 *
 * Args: --port N --requests N --concurrency N --body-bytes N --heap-mb N --external-mb N
 */
import { parseArgs } from 'node:util';
import { Pool } from 'undici';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    requests: { type: 'string' },
    concurrency: { type: 'string' },
    'body-bytes': { type: 'string' },
    'heap-mb': { type: 'string' },
    'external-mb': { type: 'string' },
  },
});
const num = (name: keyof typeof values) => Number(values[name]);
const MB = 1024 * 1024;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

gc();
const baseHeap = process.memoryUsage().heapUsed;
// Ballast: objects shaped like ids and small records. The size of one is measured on the first
// 10 000, then the rest are made without collections in between: forced collections while it
// grows would change V8's heap-growing heuristics, which the comparison is about. hookline's
// side collects twice before and twice after emitting; so does this one (below and at the end).
const ballast: { id: string; n: number }[] = [];
const make = (i: number) => ({ id: `dlv_${i.toString(36).padStart(22, '0')}`, n: i });
for (let i = 0; i < 10_000; i++) ballast.push(make(i));
gc();
const perObject = (process.memoryUsage().heapUsed - baseHeap) / 10_000;
const wanted = Math.round((num('heap-mb') * MB) / perObject);
for (let i = ballast.length; i < wanted; i++) ballast.push(make(i));
gc();
gc();
const external = Buffer.alloc(Math.round(num('external-mb') * MB), 1);

const pool = new Pool(`http://127.0.0.1:${num('port')}`);
const body = Buffer.alloc(num('body-bytes'), 'x');
const total = num('requests');
let started = 0;
let done = 0;
let failed = 0;
await new Promise<void>((resolve) => {
  const one = () => {
    if (started >= total) return;
    started++;
    pool
      .request({ path: '/hook', method: 'POST', body, headers: { 'content-type': 'application/json' } })
      .then(
        (res) => res.body.dump(),
        () => {
          failed++;
        },
      )
      .finally(() => {
        if (++done === total) resolve();
        else one();
      });
  };
  for (let c = 0; c < num('concurrency'); c++) one();
});
await pool.close();
gc();
console.log(
  JSON.stringify({
    failed,
    heldHeapMb: (process.memoryUsage().heapUsed - baseHeap) / MB,
    heldExternalMb: external.length / MB,
    ballastObjects: ballast.length,
    peakRss: process.resourceUsage().maxRSS * 1024,
  }),
);
