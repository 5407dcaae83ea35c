// A keep-alive `node:http` receiver for bench/postgres, run in its own process. Counts requests.
// Messages from the parent:
// - 'count': replies { count } (requests since start);
// - { arm: n }: starts a run: replies { reached } once n distinct `webhook-id`s have arrived
//   since (duplicates of at-least-once delivery are not counted twice). The first request of a
//   run and every 997th after it have their Standard Webhooks signature checked against
//   BENCH_SECRET (env): the reply says how many were checked and how many failed.
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';

const secret = process.env.BENCH_SECRET ?? '';
const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
let count = 0;
/** @type {{ target: number, seen: Set<string>, requests: number, bytes: number, checked: number, bad: number } | undefined} */
let run;
const reply = Buffer.from('ok');

function signatureValid(req, body) {
  const id = req.headers['webhook-id'];
  const timestamp = req.headers['webhook-timestamp'];
  const header = req.headers['webhook-signature'];
  if (typeof id !== 'string' || typeof timestamp !== 'string' || typeof header !== 'string') return false;
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false;
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest();
  return header.split(' ').some((entry) => {
    if (!entry.startsWith('v1,')) return false;
    const given = Buffer.from(entry.slice(3), 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    count++;
    if (run) {
      const body = Buffer.concat(chunks);
      run.requests++;
      run.bytes += body.length;
      if (run.requests % 997 === 1) {
        run.checked++;
        if (!signatureValid(req, body)) run.bad++;
      }
      const id = req.headers['webhook-id'];
      if (typeof id === 'string' && !run.seen.has(id)) {
        run.seen.add(id);
        if (run.seen.size === run.target) {
          const { seen, ...figures } = run;
          process.send?.({ reached: { ...figures, distinct: seen.size } });
          run = undefined;
        }
      }
    }
    res.writeHead(200, { 'content-length': reply.length });
    res.end(reply);
  });
});
server.listen(0, '127.0.0.1', () => {
  process.send?.({ port: server.address().port });
});
process.on('message', (m) => {
  if (m === 'count') process.send?.({ count });
  else if (m && typeof m === 'object' && typeof m.arm === 'number') {
    run = { target: m.arm, seen: new Set(), requests: 0, bytes: 0, checked: 0, bad: 0 };
    process.send?.({ armed: m.arm });
  }
});
process.on('disconnect', () => process.exit(0));
