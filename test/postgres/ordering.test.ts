/**
 * Ordered lines on the real PostgreSQL, where several connections write at once: the races
 * the conformance suite (one connection at a time) cannot build.
 *
 * - the repair: a line left without a due head (an enqueue that saw the head pending committed
 *   after the head's record) gets its head due on a claim about a second later;
 * - two transactions enqueuing into one empty line at once: both rows are due, yet claims from
 *   several connections never hold two live claims of the line;
 * - the unordered claim's plan is unchanged (the range scan of `deliveries_due`, the line
 *   checks never run) and claims stay HOT updates;
 * - four claimers on four pools draining lines while more is enqueued: one live claim per
 *   line at any moment, each line in emit order.
 *
 * Time is the `now` passed to the store (leases of an hour never expire here), never the wall
 * clock.
 */
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ClaimedDelivery, NewDelivery, RecordAttemptInput } from '../../src/index.js';
import { type PostgresStore, postgresStore } from '../../src/stores/postgres/index.js';
import { claimDue as claimStatement, statementContext } from '../../src/stores/postgres/statements.js';
import { at, newDelivery, webhookFields } from '../../src/testing/conformance/fixtures.js';
import { describeServer, destroyStore, serverPool, successes, uniqueSchema } from './helpers.js';

const HOUR = 3_600_000;

let notificationSeq = 0;

/** Enqueues `deliveries` as one new notification of `acme` at `now` (on `tx` when given). */
async function emit(store: PostgresStore, deliveries: NewDelivery[], now: Date, tx?: pg.PoolClient) {
  notificationSeq += 1;
  await store.enqueue({
    scope: 'acme',
    notificationId: `n${notificationSeq}`,
    deliveries,
    now,
    ...(tx ? { tx } : {}),
  });
}

const ordered = (webhookId: number, key: string | null = null): NewDelivery =>
  newDelivery(webhookId, { ordered: true, orderingKey: key });

describeServer('ordered lines on PostgreSQL with concurrent writers', () => {
  let pool: pg.Pool;
  /** Four more pools: four claimers that share nothing but the database. */
  let pools: pg.Pool[];
  /** Each test's own schema: claims are not scoped, so tests must not see each other's rows. */
  let store: PostgresStore;
  let claimers: PostgresStore[];
  let s: string;

  beforeAll(() => {
    // Few connections: other test files run worker processes on the same server meanwhile.
    pool = serverPool({ max: 4 });
    pools = Array.from({ length: 4 }, () => serverPool({ max: 1 }));
  });

  afterAll(async () => {
    await Promise.all(pools.map((p) => p.end()));
    await pool.end();
  });

  beforeEach(async () => {
    store = postgresStore({ db: pool, schema: uniqueSchema(), notify: false });
    await store.migrate();
    claimers = pools.map((p) => postgresStore({ db: p, schema: store.schema, notify: false }));
    s = `"${store.schema}"`;
  });

  afterEach(async () => {
    for (const claimer of claimers) await claimer.close();
    await destroyStore(store);
  });

  const fifoHook = async (): Promise<number> =>
    (await store.insertWebhook({ scope: 'acme', fields: webhookFields({ ordering: 'fifo' }), now: at(0) }))
      .id;

  const read = async (id: string) => {
    const delivery = await store.getDelivery({ scope: 'acme', id });
    expect(delivery).not.toBeNull();
    return delivery!;
  };

  /** A fresh store object on the shared pool: its repair clock starts over. */
  const freshClaimer = () => postgresStore({ db: pool, schema: store.schema, notify: false });

  describe('the repair of lines left without a due head', () => {
    it('promotes the head a race left waiting, on a claim at the latest a second later', async () => {
      const hook = await fifoHook();
      const claimer = freshClaimer();
      const base = 10 * HOUR;
      const a = ordered(hook, 'race');
      const b = ordered(hook, 'race');
      await emit(store, [a], at(base));
      const [head] = await claimer.claimDue({ limit: 10, leaseMs: HOUR, now: at(base) });
      expect(head?.id).toBe(a.id);

      // B's enqueue sees A pending, so B waits; A's record commits before B's transaction, so
      // it cannot see B and promotes nothing.
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await emit(store, [b], at(base + 10), client);
        await claimer.recordAttempts({ items: successes([head!], at(base + 20)) });
        await client.query('COMMIT');
      } finally {
        client.release();
      }
      expect(await read(a.id)).toMatchObject({ state: 'succeeded' });
      expect(await read(b.id)).toMatchObject({ state: 'pending', nextAttemptAt: null });

      // The repair ran with the first claim (at base); not again before a second has passed.
      expect(await claimer.claimDue({ limit: 10, leaseMs: HOUR, now: at(base + 999) })).toEqual([]);
      const repaired = await claimer.claimDue({ limit: 10, leaseMs: HOUR, now: at(base + 1000) });
      expect(repaired.map((c) => c.id)).toEqual([b.id]);
      expect(repaired[0]?.nextAttemptAt).toEqual(at(base + 1000));
      await claimer.close();
    });

    it('promotes a waiting head past a later delivery that is due, and leaves paused lines and live heads alone', async () => {
      const hook = await fifoHook();
      const base = 20 * HOUR;
      // Line "x": its head waits while the delivery behind it is due (two overlapping enqueues).
      const [x1, x2] = [ordered(hook, 'x'), ordered(hook, 'x')];
      // Line "p": paused by a failed delivery; one behind it waits, one is due (a race with the
      // pause: two transactions enqueued into the empty line at once).
      const [p1, p2, p3] = [ordered(hook, 'p'), ordered(hook, 'p'), ordered(hook, 'p')];
      // Line "h": its head is due; the one behind it waits, as it should.
      const [h1, h2] = [ordered(hook, 'h'), ordered(hook, 'h')];
      await emit(store, [x1, x2, p1, p2, p3, h1, h2], at(base));
      await pool.query(
        `UPDATE ${s}.deliveries SET next_attempt_at = CASE WHEN id = $1 THEN NULL ELSE $4::timestamptz END
          WHERE id IN ($1, $2, $3)`,
        [x1.id, x2.id, p3.id, at(base).toISOString()],
      );
      await pool.query(
        `UPDATE ${s}.deliveries SET state = 'failed', next_attempt_at = NULL, pauses_line = true WHERE id = $1`,
        [p1.id],
      );
      // The repair makes x1 due; the claim takes it and h1, never x2 ahead of its head nor p3 in
      // a paused line: those two wait again (they leave the due range for good).
      const claimer = freshClaimer();
      const claims = await claimer.claimDue({ limit: 10, leaseMs: HOUR, now: at(base + 5) });
      expect(claims.map((c) => c.id).sort()).toEqual([h1.id, x1.id].sort());
      for (const waiting of [x2, p2, p3, h2])
        expect(await read(waiting.id)).toMatchObject({ nextAttemptAt: null });
      // x1 done: x2 is the head now.
      const x1Claim = claims.find((c) => c.id === x1.id)!;
      await claimer.recordAttempts({ items: successes([x1Claim], at(base + 10)) });
      expect(await read(x2.id)).toMatchObject({ nextAttemptAt: at(base + 10) });
      expect(
        (await claimer.claimDue({ limit: 10, leaseMs: HOUR, now: at(base + 10) })).map((c) => c.id),
      ).toEqual([x2.id]);
      await claimer.close();
    });

    it('sweeps a thousand lines per repair, going on where the last one stopped', async () => {
      const hook = await fifoHook();
      const base = 25 * HOUR;
      // 2 500 lines whose only delivery waits with nothing before it.
      await pool.query(
        `INSERT INTO ${s}.deliveries (id, scope, webhook_id, notification_id, type, request, state,
           attempt_count, next_attempt_at, created_at, updated_at, line_key, line_seq)
         SELECT 'stuck_' || g, 'acme', $1, 'sn' || g, 't', '{}'::jsonb, 'pending', 0, NULL, now(), now(),
           'k' || g, nextval('${s}.deliveries_line_seq')
           FROM generate_series(1, 2500) AS g`,
        [hook],
      );
      await pool.query(`ANALYZE ${s}.deliveries`);
      const due = async () =>
        (await pool.query(`SELECT count(*)::int AS n FROM ${s}.deliveries WHERE next_attempt_at IS NOT NULL`))
          .rows[0].n as number;
      const claimer = freshClaimer();
      const claimAt = (ms: number) => claimer.claimDue({ limit: 1, leaseMs: HOUR, now: at(base + ms) });
      await claimAt(0);
      expect(await due()).toBe(1000);
      await claimAt(500); // within the second: no repair
      expect(await due()).toBe(1000);
      await claimAt(1000);
      expect(await due()).toBe(2000);
      await claimAt(2000);
      expect(await due()).toBe(2500);
      await claimer.close();
    });
  });

  describe('two transactions enqueuing into one empty line at once', () => {
    for (const firstCommit of ['earlier', 'later'] as const) {
      it(`never hands out two live claims of the line (the ${firstCommit} position commits first)`, async () => {
        const hook = await fifoHook();
        const base = (firstCommit === 'earlier' ? 30 : 40) * HOUR;
        const a = ordered(hook, 'both');
        const b = ordered(hook, 'both');
        const t1 = await pool.connect();
        const t2 = await pool.connect();
        try {
          await t1.query('BEGIN');
          await t2.query('BEGIN');
          await emit(store, [a], at(base), t1); // position 1
          await emit(store, [b], at(base), t2); // position 2; neither sees the other
          const [first, second] = firstCommit === 'earlier' ? [t1, t2] : [t2, t1];
          await first.query('COMMIT');
          // One claim of the line now: the delivery that is committed.
          const taken = (
            await Promise.all(claimers.map((c) => c.claimDue({ limit: 10, leaseMs: HOUR, now: at(base) })))
          ).flat();
          expect(taken.map((c) => c.id)).toEqual([firstCommit === 'earlier' ? a.id : b.id]);
          await second.query('COMMIT');
        } finally {
          t1.release();
          t2.release();
        }
        // Both are due now (each saw an empty line), yet no claimer gets the other one.
        expect(await read(a.id)).toMatchObject({ nextAttemptAt: at(base) });
        expect(await read(b.id)).toMatchObject({ nextAttemptAt: at(base) });
        for (let round = 1; round <= 3; round++) {
          const more = await Promise.all(
            claimers.map((c) => c.claimDue({ limit: 10, leaseMs: HOUR, now: at(base + round * 1000) })),
          );
          expect(more.flat()).toEqual([]);
        }
        // Once the live claim is recorded, the other one is claimed, once.
        const liveId = firstCommit === 'earlier' ? a.id : b.id;
        const [{ rows }] = [
          await pool.query(`SELECT lease_token FROM ${s}.deliveries WHERE id = $1`, [liveId]),
        ];
        const token = (rows[0] as { lease_token: string }).lease_token;
        const done = await store.recordAttempts({
          items: successes([{ id: liveId, leaseToken: token }], at(base + 5000)),
        });
        expect(done[0]?.applied).toBe(true);
        const next = (
          await Promise.all(
            claimers.map((c) => c.claimDue({ limit: 10, leaseMs: HOUR, now: at(base + 5000) })),
          )
        ).flat();
        expect(next.map((c) => c.id)).toEqual([liveId === a.id ? b.id : a.id]);
      });
    }
  });

  describe('the unordered claim', () => {
    beforeEach(async () => {
      const plain = await store.insertWebhook({ scope: 'plan', fields: webhookFields(), now: at(0) });
      const fifo = await fifoHook();
      // 20 000 finished and 400 due unordered deliveries, 50 ordered ones waiting in lines.
      await pool.query(
        `INSERT INTO ${s}.deliveries (id, scope, webhook_id, notification_id, type, request, state,
           attempt_count, next_attempt_at, created_at, updated_at)
         SELECT 'plan_' || g, 'plan', $1, 'pn' || g, 't', '{}'::jsonb,
           CASE WHEN g % 50 = 0 THEN 'pending' ELSE 'succeeded' END, 0,
           CASE WHEN g % 50 = 0 THEN now() - interval '1 day' END, now(), now()
           FROM generate_series(1, 20000) AS g`,
        [plain.id],
      );
      await pool.query(
        `INSERT INTO ${s}.deliveries (id, scope, webhook_id, notification_id, type, request, state,
           attempt_count, next_attempt_at, created_at, updated_at, line_key, line_seq)
         SELECT 'held_' || g, 'acme', $1, 'hn' || g, 't', '{}'::jsonb, 'pending', 0, NULL, now(), now(),
           'k' || (g % 5), nextval('${s}.deliveries_line_seq')
           FROM generate_series(1, 50) AS g`,
        [fifo],
      );
      await pool.query(`ANALYZE ${s}.deliveries`);
    });

    /** EXPLAIN (ANALYZE) of the claim statement of `shape`, in a transaction rolled back. */
    const explainClaim = async (shape: 'lines' | 'unordered', now: Date) => {
      const statement = claimStatement(statementContext(store.schema, false), 32, shape);
      const client = await pool.connect();
      // The backend's counters not yet reported include earlier transactions': read the change.
      const counters = async () =>
        (
          await client.query(
            `SELECT pg_stat_get_xact_tuples_updated($1::regclass)::int AS updated,
                    pg_stat_get_xact_tuples_hot_updated($1::regclass)::int AS hot`,
            [`${s}.deliveries`],
          )
        ).rows[0] as { updated: number; hot: number };
      try {
        await client.query('BEGIN');
        const before = await counters();
        const { rows } = await client.query(`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) ${statement.text}`, [
          now.toISOString(),
          new Date(now.getTime() + HOUR).toISOString(),
        ]);
        const after = await counters();
        return {
          plan: rows.map((r: { 'QUERY PLAN': string }) => r['QUERY PLAN']).join('\n'),
          stats: { updated: after.updated - before.updated, hot: after.hot - before.hot },
        };
      } finally {
        await client.query('ROLLBACK');
        client.release();
      }
    };

    it('is one statement of the unordered shape: the range scan of deliveries_due, nothing of lines, HOT', async () => {
      // The store's own calls: its schema check, the repair (its first claim), then the claim.
      const texts: string[] = [];
      const recording = postgresStore({
        db: {
          query: (text, params) => {
            texts.push(text);
            return pool.query(text, params);
          },
        },
        schema: store.schema,
        notify: false,
      });
      expect(await recording.claimDue({ limit: 32, leaseMs: HOUR, now: new Date() })).toHaveLength(32);
      const context = statementContext(store.schema, false);
      expect(texts.filter((text) => text.startsWith('WITH due'))).toEqual([
        claimStatement(context, 32, 'unordered').text,
      ]);
      await recording.close();

      const { plan, stats } = await explainClaim('unordered', new Date());
      if (process.env.SHOW_PLANS) console.log(plan);
      expect(plan).toMatch(/Index Scan using deliveries_due on deliveries/);
      expect(plan).not.toMatch(/Seq Scan on deliveries|deliveries_line|lines|SubPlan/);
      expect(stats).toEqual({ updated: 32, hot: 32 });
    });

    it('in the lines shape too: the range scan of deliveries_due, the line checks never run', async () => {
      const { plan, stats } = await explainClaim('lines', new Date());
      if (process.env.SHOW_PLANS) console.log(plan);
      expect(plan).toMatch(/Index Scan using deliveries_due on deliveries/);
      expect(plan).not.toMatch(/Seq Scan on deliveries/);
      // The line probes, the demotion and the lines upsert: planned, nothing done for unordered rows.
      for (const line of plan.split('\n').filter((l) => /deliveries_line|deliveries_line_paused/.test(l)))
        expect(line).toMatch(/never executed/);
      expect(plan).toMatch(/Insert on lines[^\n]*\(actual rows=0 loops=1\)/);
      expect(plan.match(/Update on deliveries[^\n]*\(actual rows=0 loops=1\)/g)).toHaveLength(1);
      expect(stats).toEqual({ updated: 32, hot: 32 });
    });

    it('probes lines by index, never reading every pending delivery of a scope', async () => {
      // The statements the store sends for an ordered enqueue into the scope of 400 pending
      // deliveries, a claim and a record of the lines shape, and a redelivery.
      const hook = (
        await store.insertWebhook({ scope: 'plan', fields: webhookFields({ ordering: 'fifo' }), now: at(0) })
      ).id;
      const sent: { text: string; params: unknown[] }[] = [];
      const recording = postgresStore({
        db: {
          query: (text, params) => {
            sent.push({ text, params: params ?? [] });
            return pool.query(text, params);
          },
        },
        schema: store.schema,
        notify: false,
      });
      const plan = async (match: RegExp) => {
        const statement = sent.filter((x) => match.test(x.text)).at(-1)!;
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          const { rows } = await client.query(`EXPLAIN ${statement.text}`, statement.params);
          return rows.map((r: { 'QUERY PLAN': string }) => r['QUERY PLAN']).join('\n');
        } finally {
          await client.query('ROLLBACK');
          client.release();
        }
      };
      const line = Array.from({ length: 20 }, (_, i) => ordered(hook, `o${i % 4}`));
      await recording.enqueue({ scope: 'plan', notificationId: 'probe', deliveries: line, now: at(HOUR) });
      const claims = await recording.claimDue({ limit: 500, leaseMs: HOUR, now: new Date() });
      // The four heads of the new lines, and the five of the waiting lines the repair made due.
      expect(claims.filter((c) => c.ordered)).toHaveLength(9);
      await recording.recordAttempts({
        items: successes(
          claims.filter((c) => c.ordered),
          new Date(),
        ),
      });
      await recording.redeliver({ scope: 'plan', id: line[0]!.id, now: new Date() });
      for (const match of [/^WITH fresh AS/, /heads AS/, /^WITH x AS/, /^WITH cur AS/]) {
        const text = await plan(match);
        if (process.env.SHOW_PLANS) console.log(text);
        expect(text).not.toMatch(
          /Seq Scan on deliveries|deliveries_pending_by_scope|deliveries_due on deliveries p/,
        );
        expect(text).toMatch(/deliveries_line /);
        // A hashed subplan reads its whole input once: never deliveries, only a CTE.
        const lines = text.split('\n');
        for (const [, n] of text.matchAll(/hashed SubPlan (\d+)/g)) {
          const at = lines.findIndex((l) => l.trim() === `SubPlan ${n}`);
          expect(lines[at + 1]).toMatch(/CTE Scan/);
        }
      }
      await recording.close();
    });

    it('claims ordered heads as HOT updates too', async () => {
      const hook = await fifoHook();
      const line = Array.from({ length: 3 }, () => ordered(hook, 'hot'));
      await emit(store, line, at(50 * HOUR));
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const hot = async () =>
          Number(
            (
              await client.query('SELECT pg_stat_get_xact_tuples_hot_updated($1::regclass) AS hot', [
                `${s}.deliveries`,
              ])
            ).rows[0].hot,
          );
        const before = await hot();
        const statement = claimStatement(statementContext(store.schema, false), 10, 'lines');
        await client.query(statement.text, [at(50 * HOUR).toISOString(), at(51 * HOUR).toISOString()]);
        const { rows } = await client.query(
          `SELECT count(*)::int AS claimed FROM ${s}.deliveries WHERE lease_until = $1::timestamptz AND line_key = 'hot'`,
          [at(51 * HOUR).toISOString()],
        );
        expect(rows[0]).toEqual({ claimed: 1 });
        expect((await hot()) - before).toBe(1);
      } finally {
        await client.query('ROLLBACK');
        client.release();
      }
    });
  });

  describe('the shapes of claims and records', () => {
    it('claims an ordered delivery another store object enqueued in one call, though it saw none before', async () => {
      const hook = await fifoHook();
      const plain = await store.insertWebhook({ scope: 'acme', fields: webhookFields(), now: at(0) });
      const claimer = claimers[0]!;
      const loose = newDelivery(plain.id);
      await emit(store, [loose], at(0));
      expect(
        (await claimer.claimDue({ limit: 10, leaseMs: 10 * HOUR, now: at(0) })).map((c) => c.id),
      ).toEqual([loose.id]);
      // Far later (its lines shape has lapsed): an ordered line and an unordered delivery.
      const [a, b] = [ordered(hook, 'k'), ordered(hook, 'k')];
      const more = newDelivery(plain.id);
      await emit(store, [a, b, more], at(HOUR));
      const claims = await claimer.claimDue({ limit: 10, leaseMs: HOUR, now: at(HOUR) });
      expect(claims.map((c) => c.id).sort()).toEqual([a.id, more.id].sort());
      expect(claims.find((c) => c.id === a.id)).toMatchObject({ ordered: true, orderingKey: 'k' });
    });

    it('finishes the line of an ordered delivery recorded through another store object', async () => {
      const hook = await fifoHook();
      const [a, b, c] = [ordered(hook, 'k'), ordered(hook, 'k'), ordered(hook, 'k')];
      await emit(store, [a, b, c], at(0));
      const [claimA] = await claimers[0]!.claimDue({ limit: 10, leaseMs: HOUR, now: at(0) });
      expect(claimA?.id).toBe(a.id);
      // claimers[1] never handed it out: its record takes the unordered shape, then finishLines.
      const [done] = await claimers[1]!.recordAttempts({ items: successes([claimA!], at(10)) });
      expect(done?.applied).toBe(true);
      expect(await read(b.id)).toMatchObject({ nextAttemptAt: at(10) });
      expect((await pool.query(`SELECT count(*)::int AS n FROM ${s}.lines`)).rows[0]).toEqual({ n: 0 });
      const [claimB] = await claimers[2]!.claimDue({ limit: 10, leaseMs: HOUR, now: at(10) });
      expect(claimB?.id).toBe(b.id);
      // A failure with pauseLine recorded the same way pauses the line in the record itself.
      const [paused] = await claimers[3]!.recordAttempts({
        items: [
          {
            ...successes([claimB!], at(20))[0]!,
            attempt: {
              ...successes([claimB!], at(20))[0]!.attempt,
              ok: false,
              status: 500,
              error: 'HTTP 500',
            },
            outcome: { state: 'failed' },
            pauseLine: true,
          },
        ],
      });
      expect(paused?.applied).toBe(true);
      expect(await read(b.id)).toMatchObject({ state: 'failed', pausesLine: true });
      expect(await read(c.id)).toMatchObject({ state: 'pending', nextAttemptAt: null });
      expect(await claimers[0]!.claimDue({ limit: 10, leaseMs: HOUR, now: at(5000) })).toEqual([]);
    });
  });

  describe('four claimers on four pools', () => {
    it('keep one live claim per line and each line in emit order while more is enqueued', {
      timeout: 120_000,
    }, async () => {
      const hook = await fifoHook();
      const KEYS = 12;
      const ROUNDS = 8;
      const base = 100 * HOUR;
      /** Per line: delivery ids in emit order. */
      const lines = new Map<string, string[]>();
      const keyOf = new Map<string, string>();
      /** Every third delivery fails its first attempt and asks for a retry due at once. */
      const retryOnce = new Set<string>();
      const enqueueRound = async (round: number) => {
        // One notification per key, all keys at once (one line's enqueues never overlap).
        await Promise.all(
          Array.from({ length: KEYS }, async (_, k) => {
            const key = `c${k}`;
            const d = ordered(hook, key);
            lines.set(key, [...(lines.get(key) ?? []), d.id]);
            keyOf.set(d.id, key);
            if (keyOf.size % 3 === 0) retryOnce.add(d.id);
            await emit(store, [d], at(base + round));
          }),
        );
      };
      /** The live claim of each line (test side), and what each line sent in order. */
      const live = new Map<string, string>();
      const sent = new Map<string, string[]>();
      const violations: string[] = [];
      let step = 0;
      let retries = 0;

      const drain = async (claimer: PostgresStore) => {
        for (let idle = 0; idle < 4; ) {
          step += 1;
          // Every claimer's clock moves on by 300 ms per call, so repairs run now and then.
          const now = at(base + 1000 + step * 300);
          const claims = await claimer.claimDue({ limit: 4, leaseMs: HOUR, now });
          if (claims.length === 0) {
            idle += 1;
            continue;
          }
          idle = 0;
          for (const claim of claims) {
            const key = keyOf.get(claim.id)!;
            const holder = live.get(key);
            if (holder !== undefined) violations.push(`${key}: ${claim.id} claimed while ${holder} is live`);
            live.set(key, claim.id);
          }
          const items: RecordAttemptInput[] = claims.map((claim: ClaimedDelivery) => {
            const success = successes([claim], now)[0]!;
            if (retryOnce.delete(claim.id)) {
              // The head stays the head, due at once: its line waits for it.
              retries += 1;
              return {
                ...success,
                attempt: { ...success.attempt, ok: false, status: 503, error: 'HTTP 503' },
                outcome: { state: 'pending', nextAttemptAt: now },
              };
            }
            const key = keyOf.get(claim.id)!;
            sent.set(key, [...(sent.get(key) ?? []), claim.id]);
            return success;
          });
          // Freed before the record: from its commit on, another claim of the line is allowed.
          for (const claim of claims) live.delete(keyOf.get(claim.id)!);
          const results = await claimer.recordAttempts({ items });
          expect(results.every((r) => r.applied)).toBe(true);
        }
      };

      const enqueuing = (async () => {
        for (let round = 0; round < ROUNDS; round++) await enqueueRound(round);
      })();
      await Promise.all([enqueuing, ...claimers.map((c) => drain(c))]);
      // What is left after enqueuing ended (a repair may be due): drained by one more pass.
      await Promise.all(claimers.map((c) => drain(c)));

      expect(violations).toEqual([]);
      expect(sent).toEqual(lines);
      expect(retries).toBe(Math.floor((KEYS * ROUNDS) / 3));
      const { rows } = await pool.query(
        `SELECT count(*)::int AS n FROM ${s}.deliveries WHERE webhook_id = $1 AND state <> 'succeeded'`,
        [hook],
      );
      expect(rows[0]).toEqual({ n: 0 });
      expect(
        (await pool.query(`SELECT count(*)::int AS n FROM ${s}.lines WHERE webhook_id = $1`, [hook])).rows[0],
      ).toEqual({
        n: 0,
      });
    });
  });
});
