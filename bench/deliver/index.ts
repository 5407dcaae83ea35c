/**
 * Delivery benchmark: signed deliveries of ~600-byte JSON bodies at concurrency 64 to a
 * keep-alive `node:http` receiver in another process, through each hookline transport, compared
 * in the same run with raw undici `Pool.request` and plain ky.
 *
 *   npx tsx bench/deliver/index.ts            # 20 000 requests per case
 *   npx tsx bench/deliver/index.ts --quick    # 4 000 requests per case
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import ky from 'ky';
import { Pool } from 'undici';
import { deliver } from '../../src/delivery/deliver.js';
import type { Transport } from '../../src/delivery/transport/contract.js';
import { kyTransport } from '../../src/delivery/transport/ky.js';
import { undiciTransport } from '../../src/delivery/transport/undici.js';

const quick = process.argv.includes('--quick');
const TOTAL = quick ? 4_000 : 20_000;
const ROUNDS = 2; // cases are interleaved round by round to even out drift
const CONCURRENCY = 64;
const WARMUP = quick ? 300 : 1_000;
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

const body = JSON.stringify({
  id: 'evt_01HZX3K4ABCDEF',
  action: 'pretix.event.order.paid',
  organizer: 'bigevents',
  event: 'democon',
  code: 'ABC12',
  data: {
    email: 'alice@example.com',
    total: '123.45',
    currency: 'EUR',
    positions: [
      { item: 1, variation: null, price: '100.00', attendee_name: 'Alice Example', seat: 'A-12' },
      { item: 7, variation: 3, price: '23.45', attendee_name: 'Bob Example', seat: 'A-13' },
    ],
    meta: { source: 'web', campaign: 'spring', note: 'x'.repeat(170) },
  },
});

interface Case {
  name: string;
  send: (i: number) => Promise<number>;
}

interface Measure {
  requests: number;
  wallMs: number;
  cpuUs: number;
  failures: number;
}

async function runBatch(n: number, send: Case['send']): Promise<Measure> {
  let next = 0;
  let failures = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) {
        const i = next++;
        const status = await send(i);
        if (status !== 200) failures++;
      }
    }),
  );
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { requests: n, wallMs, cpuUs: cpu.user + cpu.system, failures };
}

async function main(): Promise<void> {
  const child = fork(fileURLToPath(new URL('./receiver.mjs', import.meta.url)), [], { stdio: 'inherit' });
  const [message] = (await once(child, 'message')) as [{ port: number }];
  const origin = `http://127.0.0.1:${message.port}`;
  const url = `${origin}/hooks/orders`;
  const headers = { 'content-type': 'application/json' };
  const ssrf = { allow: ['127.0.0.1'] };

  const pool = new Pool(origin, { connections: CONCURRENCY });
  const undiciT: Transport = undiciTransport({ ssrf });
  const kyT: Transport = kyTransport({ ssrf });
  const plainKy = ky.extend({ retry: 0, throwHttpErrors: false });
  const request = (i: number) => ({
    id: `dlv_${i}`,
    url,
    method: 'POST' as const,
    headers,
    body,
    secrets: [SECRET],
  });

  const cases: Case[] = [
    {
      name: 'raw undici Pool.request',
      send: async () => {
        const res = await pool.request({ path: '/hooks/orders', method: 'POST', headers, body });
        await res.body.text();
        return res.statusCode;
      },
    },
    {
      name: 'hookline undiciTransport (signed, guard on)',
      send: async (i) => (await deliver(request(i), { transport: undiciT })).status,
    },
    {
      name: 'plain ky',
      send: async () => {
        const res = await plainKy.post(url, { body, headers });
        await res.text();
        return res.status;
      },
    },
    {
      name: 'hookline kyTransport (signed, guard on)',
      send: async (i) => (await deliver(request(i), { transport: kyT })).status,
    },
  ];

  console.log(
    `bench/deliver: ${TOTAL} requests per case, concurrency ${CONCURRENCY}, body ${Buffer.byteLength(body)} bytes, ` +
      `receiver pid ${child.pid}, node ${process.version}${quick ? ' (--quick)' : ''}`,
  );
  for (const c of cases) await runBatch(WARMUP, c.send);

  const totals = new Map<string, Measure>(
    cases.map((c) => [c.name, { requests: 0, wallMs: 0, cpuUs: 0, failures: 0 }]),
  );
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of cases) {
      const m = await runBatch(TOTAL / ROUNDS, c.send);
      const t = totals.get(c.name) as Measure;
      t.requests += m.requests;
      t.wallMs += m.wallMs;
      t.cpuUs += m.cpuUs;
      t.failures += m.failures;
    }
  }

  const rps = (name: string): number => {
    const t = totals.get(name) as Measure;
    return t.requests / (t.wallMs / 1000);
  };
  console.log('');
  console.log(
    `${'case'.padEnd(46)} ${'req/s'.padStart(9)} ${'CPU µs/req'.padStart(11)} ${'failures'.padStart(9)}`,
  );
  for (const c of cases) {
    const t = totals.get(c.name) as Measure;
    console.log(
      `${c.name.padEnd(46)} ${rps(c.name).toFixed(0).padStart(9)} ${(t.cpuUs / t.requests).toFixed(1).padStart(11)} ${String(t.failures).padStart(9)}`,
    );
  }
  const names = cases.map((c) => c.name);
  const [rawName, undiciName, kyName, kyTName] = names as [string, string, string, string];
  const r1 = rps(undiciName) / rps(rawName);
  const r2 = rps(kyTName) / rps(kyName);
  const cpu = (name: string): number => {
    const t = totals.get(name) as Measure;
    return t.cpuUs / t.requests;
  };
  console.log(
    `CPU per request: undiciTransport ${(cpu(undiciName) / cpu(rawName)).toFixed(2)}x raw undici, ` +
      `kyTransport ${(cpu(kyTName) / cpu(kyName)).toFixed(2)}x plain ky (informational)`,
  );
  const failures = [...totals.values()].reduce((sum, t) => sum + t.failures, 0);
  console.log('');
  console.log(
    `undiciTransport / raw undici: ${r1.toFixed(2)}  (target >= 0.80)  ${r1 >= 0.8 ? 'PASS' : 'FAIL'}`,
  );
  console.log(
    `kyTransport / plain ky:       ${r2.toFixed(2)}  (target >= 1.00)  ${r2 >= 1 ? 'PASS' : 'FAIL'}`,
  );
  console.log(`failed requests:              ${failures}  ${failures === 0 ? 'PASS' : 'FAIL'}`);

  await pool.close();
  await Promise.all([undiciT.close?.(), kyT.close?.()]);
  child.disconnect();
  await once(child, 'exit');
}

await main();
