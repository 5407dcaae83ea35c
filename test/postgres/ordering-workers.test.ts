/**
 * Ordered delivery on PostgreSQL with worker processes that die: 4 worker processes, a
 * receiver that fails at random (seeded), two workers SIGKILLed while a request of theirs is
 * held open, short leases (3 s) so their heads go to the others. Per line: attempts in emit
 * order, never two requests of a line open at once among live workers, every delivery
 * succeeds, and the first successes come in emit order.
 *
 * What the check leaves out, because hookline no longer waits for it: requests of a killed
 * worker, and requests that reach the receiver only after their worker's attempt timed out (on
 * a busy machine the receiver, in this process, can read a request that late, after the line
 * has moved on: at-least-once, as docs/ordering.md says).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { WebhookRegistry } from '../../src/index.js';
import { type PostgresStore, postgresStore } from '../../src/stores/postgres/index.js';
import { seededRandom } from '../helpers/random.js';
import { DATABASE_URL, describeServer, destroyStore, serverPool, uniqueSchema } from './helpers.js';

const WORKERS = 4;
const CONCURRENCY = 8;
const KEYS = 16;
const PER_KEY = 40;
const N = KEYS * PER_KEY;
const LEASE_MS = 3_000;
/** The workers' attempt timeout (the fixture's `leaseMs / 4`). */
const TIMEOUT_MS = LEASE_MS / 4;
const FIXTURE = fileURLToPath(new URL('./fixtures/ordering-worker.ts', import.meta.url));

/** One request: who sent it, for which line and seq, and (once answered) the status. */
interface Request {
  worker: string;
  line: string;
  seq: number;
  webhookId: string;
  /** Counted in its line's open requests (until answered, or until its worker is killed). */
  counted: boolean;
  /**
   * Arrived after its worker had given up on it (its attempt timed out: a busy receiver can
   * read a request that late), or after its worker was killed: answered 503 and left out of
   * every check, as hookline no longer waits for it.
   */
  stale: boolean;
  status?: number;
  /** When it arrived (`Date.now()`). */
  at: number;
  socket: Socket;
}

/** A problem the receiver saw (asserted at the end, so the receiver never throws). */
const violations: string[] = [];
/** The lines with a problem (their story is printed when the test fails). */
const badLines = new Set<string>();

/**
 * The receiver. Per line (the notification's `data.line`) it checks, at each request's
 * arrival, that the seq never goes back and that every earlier seq was accepted before; it
 * counts open requests per line among live workers. 30 % of attempts get a 500 (at most 3 per
 * delivery), answered after 0–2 ms.
 */
class Receiver {
  readonly #server: http.Server;
  readonly #random = seededRandom(4_711);
  port = 0;
  readonly requests: Request[] = [];
  readonly #open = new Map<string, number>();
  readonly maxOpen = new Map<string, number>();
  globalOpen = 0;
  maxGlobalOpen = 0;
  /** Per line: the highest seq attempted so far, and the seqs accepted (first 2xx) in order. */
  readonly #highest = new Map<string, number>();
  readonly accepted = new Map<string, number[]>();
  /** webhook-id → the worker that got its first 2xx. */
  readonly firstSuccess = new Map<string, string>();
  readonly #attempts = new Map<string, number>();
  readonly #dead = new Set<string>();
  #hold: { worker: string; resolve: (request: Request) => void } | undefined;
  #acceptedWaiters: { n: number; resolve: () => void }[] = [];

  constructor() {
    this.#server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => this.#handle(req, res, Buffer.concat(chunks)));
    });
  }

  async start(): Promise<void> {
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
    this.port = (this.#server.address() as AddressInfo).port;
  }

  #handle(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): void {
    const { line, seq } = (JSON.parse(body.toString('utf8')) as { data: { line: string; seq: number } }).data;
    const worker = String(req.headers['x-test-worker']);
    const webhookId = String(req.headers['webhook-id']);
    const at = Date.now();
    const stale = this.#dead.has(worker) || at - Number(req.headers['x-test-sent-at']) > TIMEOUT_MS;
    const request: Request = { worker, line, seq, webhookId, counted: false, stale, at, socket: req.socket };
    this.requests.push(request);
    if (stale) {
      request.status = 503;
      res.writeHead(503);
      res.end('too late');
      return;
    }
    {
      // Order: never back to an earlier seq, and only once every earlier one was accepted.
      const highest = this.#highest.get(line) ?? 0;
      const accepted = this.accepted.get(line)?.length ?? 0;
      if (seq < highest) violations.push(`${line}: seq ${seq} attempted after seq ${highest} (${worker})`);
      if (seq > accepted)
        violations.push(`${line}: seq ${seq} attempted before seq ${accepted} was accepted`);
      if (seq < highest || seq > accepted) badLines.add(line);
      this.#highest.set(line, Math.max(highest, seq));
      request.counted = true;
      const open = (this.#open.get(line) ?? 0) + 1;
      this.#open.set(line, open);
      this.maxOpen.set(line, Math.max(open, this.maxOpen.get(line) ?? 0));
      this.globalOpen += 1;
      this.maxGlobalOpen = Math.max(this.maxGlobalOpen, this.globalOpen);
    }
    if (this.#hold && this.#hold.worker === worker) {
      // Held open until the test kills its worker (then the socket is destroyed).
      const { resolve } = this.#hold;
      this.#hold = undefined;
      resolve(request);
      return;
    }
    const attempt = (this.#attempts.get(webhookId) ?? 0) + 1;
    this.#attempts.set(webhookId, attempt);
    const status = attempt <= 3 && this.#random() < 0.3 ? 500 : 200;
    const delay = Math.floor(this.#random() * 3);
    setTimeout(() => this.#answer(request, res, status), delay);
  }

  #answer(request: Request, res: http.ServerResponse, status: number): void {
    this.#uncount(request);
    request.status = status;
    if (status < 300 && !this.firstSuccess.has(request.webhookId)) {
      this.firstSuccess.set(request.webhookId, request.worker);
      const list = this.accepted.get(request.line) ?? [];
      list.push(request.seq);
      this.accepted.set(request.line, list);
      const total = this.firstSuccess.size;
      this.#acceptedWaiters = this.#acceptedWaiters.filter((w) => {
        if (total < w.n) return true;
        w.resolve();
        return false;
      });
    }
    res.writeHead(status);
    res.end(status < 300 ? 'ok' : 'not now');
  }

  #uncount(request: Request): void {
    if (!request.counted) return;
    request.counted = false;
    this.#open.set(request.line, (this.#open.get(request.line) ?? 1) - 1);
    this.globalOpen -= 1;
  }

  /** Resolves once `n` distinct deliveries were accepted. */
  untilAccepted(n: number): Promise<void> {
    if (this.firstSuccess.size >= n) return Promise.resolve();
    return new Promise((resolve) => this.#acceptedWaiters.push({ n, resolve }));
  }

  /** Holds the next request from `worker` open; resolves with it once it arrived. */
  holdNext(worker: string): Promise<Request> {
    return new Promise((resolve) => {
      this.#hold = { worker, resolve };
    });
  }

  /**
   * `worker` is being killed: its open requests no longer count (another worker may take
   * their deliveries after the lease), nor does anything it sent that arrives later.
   */
  markDead(worker: string): Request[] {
    this.#dead.add(worker);
    const open = this.requests.filter((r) => r.worker === worker && r.counted);
    for (const request of open) this.#uncount(request);
    return open;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    this.#server.close();
    await once(this.#server, 'close');
  }
}

describeServer('ordered delivery with worker processes killed mid-flight (PostgreSQL)', () => {
  let pool: pg.Pool;
  let store: PostgresStore;
  let receiver: Receiver;
  const children = new Map<string, ChildProcess>();

  beforeAll(async () => {
    pool = serverPool();
    store = postgresStore({ db: pool, schema: uniqueSchema() });
    await store.migrate();
    receiver = new Receiver();
    await receiver.start();
  });

  afterAll(async () => {
    for (const child of children.values())
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await receiver.close();
    await destroyStore(store);
    await pool.end();
  });

  const startWorker = async (name: string) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', FIXTURE, DATABASE_URL!, store.schema, String(LEASE_MS), String(CONCURRENCY), name],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    children.set(name, child);
    let buffer = '';
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`worker ${name} exited early (${code})`)));
      child.stdout!.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        if (buffer.includes('ready')) resolve();
      });
    });
  };

  /** Holds the next request of `name`, then SIGKILLs `name` while it is open. */
  const killWhileHeld = async (name: string) => {
    const held = await receiver.holdNext(name);
    const child = children.get(name)!;
    const open = receiver.markDead(name);
    child.kill('SIGKILL');
    await once(child, 'exit');
    for (const request of open) request.socket.destroy();
    return held;
  };

  /**
   * Waits for `promise`; after 90 s fails with what is still pending in the store (a hang
   * says where it hangs instead of running into the test's timeout).
   */
  const stage = async <T>(name: string, promise: Promise<T>): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const stuck = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        void pool
          .query(
            `SELECT id, line_key, line_seq, state, attempt_count, next_attempt_at, lease_until, pauses_line
               FROM "${store.schema}".deliveries WHERE state <> 'succeeded' ORDER BY line_key, line_seq LIMIT 40`,
          )
          .then(
            async ({ rows }) => {
              const lines = await pool
                .query(`SELECT * FROM "${store.schema}".lines`)
                .catch((error: Error) => ({ rows: [error.message] }));
              reject(
                new Error(
                  `stuck waiting for ${name} (${receiver.firstSuccess.size} of ${N} accepted); ` +
                    `not succeeded: ${JSON.stringify(rows)}; lines: ${JSON.stringify(lines.rows)}`,
                ),
              );
            },
            (error: Error) =>
              reject(new Error(`stuck waiting for ${name}; reading the store: ${error.message}`)),
          );
      }, 90_000);
    });
    try {
      return await Promise.race([promise, stuck]);
    } finally {
      clearTimeout(timer);
    }
  };

  it('keeps every line in emit order and one request at a time while two of four workers are SIGKILLed', {
    timeout: 240_000,
  }, async () => {
    const registry = new WebhookRegistry({ store });
    const hook = await registry.create('load', {
      url: `http://127.0.0.1:${receiver.port}/ordered`,
      eventTypes: ['load.*'],
      ordering: 'fifo',
    });
    await Promise.all(Array.from({ length: WORKERS }, (_, i) => startWorker(`w${i}`)));

    const killing = (async () => {
      await receiver.untilAccepted(N / 4);
      const first = await killWhileHeld('w0');
      await receiver.untilAccepted(N / 2);
      const second = await killWhileHeld('w1');
      return [first, second];
    })();
    // Emitted while the workers run: one notification per key at a time, so each key's
    // notifications are committed in seq order.
    for (let seq = 0; seq < PER_KEY; seq++) {
      await Promise.all(
        Array.from({ length: KEYS }, (_, k) =>
          registry.emit({
            scope: 'load',
            type: 'load.step',
            orderingKey: `k${k}`,
            data: { line: `k${k}`, seq },
          }),
        ),
      );
    }
    const held = await stage('the two kills', killing);
    await stage('every delivery accepted', receiver.untilAccepted(N));
    // The receiver answers before the attempt is recorded: wait for the last records.
    await vi.waitFor(
      async () => {
        const summary = await store.outboxSummary({ now: new Date() });
        expect(summary.pending).toBe(0);
      },
      { timeout: 30_000, interval: 50 },
    );

    if (violations.length > 0) {
      // What the receiver saw and what the store recorded, for the first few lines in trouble.
      for (const line of [...badLines].slice(0, 3)) {
        const t0 = receiver.requests[0]?.at ?? 0;
        console.log(
          `[ordering-workers] ${line} as received:\n${receiver.requests
            .filter((r) => r.line === line)
            .map(
              (r) =>
                `  +${r.at - t0} ms ${r.worker} seq ${r.seq} ${r.webhookId} -> ${r.status ?? 'no answer'}` +
                (r.stale ? ' (stale)' : ''),
            )
            .join('\n')}`,
        );
        const { rows: story } = await pool.query(
          `SELECT d.id, d.line_seq, d.state, a.attempt_number, a.started_at, a.status, a.error
             FROM "${store.schema}".deliveries d LEFT JOIN "${store.schema}".attempts a ON a.delivery_id = d.id
            WHERE d.line_key = $1 ORDER BY a.started_at NULLS LAST, d.line_seq`,
          [line],
        );
        console.log(`[ordering-workers] ${line} as recorded:`, story);
      }
    }
    expect(violations).toEqual([]);
    const { rows } = await pool.query(
      `SELECT state, count(*)::int AS n FROM "${store.schema}".deliveries WHERE webhook_id = $1 GROUP BY state`,
      [hook.id],
    );
    expect(rows).toEqual([{ state: 'succeeded', n: N }]);
    for (let k = 0; k < KEYS; k++) {
      expect(receiver.accepted.get(`k${k}`), `line k${k}`).toEqual(
        Array.from({ length: PER_KEY }, (_, i) => i),
      );
      expect(receiver.maxOpen.get(`k${k}`), `line k${k}: requests open at once`).toBe(1);
    }
    // Lines proceeded in parallel.
    expect(receiver.maxGlobalOpen).toBeGreaterThan(1);
    // Each held request's delivery was delivered by another worker after the lease.
    for (const request of held) {
      expect(request.status).toBeUndefined();
      expect(receiver.firstSuccess.get(request.webhookId)).toBeDefined();
      expect(receiver.firstSuccess.get(request.webhookId)).not.toBe(request.worker);
    }
    const failures = receiver.requests.filter((r) => r.status === 500).length;
    const killedSends = receiver.requests.filter((r) => r.worker === 'w0' || r.worker === 'w1').length;
    const stale = receiver.requests.filter((r) => r.stale).length;
    console.log(
      `[ordering-workers] ${N} deliveries over ${KEYS} lines: ${receiver.requests.length} requests, ` +
        `${failures} answered 500, ${killedSends} sent by the two killed workers, ${stale} stale, ` +
        `at most ${receiver.maxGlobalOpen} open at once`,
    );

    for (const name of ['w2', 'w3']) {
      const child = children.get(name)!;
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });
});
