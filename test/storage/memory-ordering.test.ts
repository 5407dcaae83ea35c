/**
 * The memory store's ordered lines against a plain model: random emits, claims, outcomes,
 * cancels and redeliveries on a few lines, checked after every step (who is claimed, every
 * delivery's `nextAttemptAt` and `pausesLine`, `deliveryLine`, the outbox counts). The contract
 * itself is pinned by the conformance part `ordering`; this checks the store's line queues
 * (lines.ts: front removal, removal from the middle, the paused delivery put back at the front,
 * compaction) over many shapes, and the `due` signal on promotion.
 */
import { describe, expect, it } from 'vitest';
import { memoryStore } from '../../src/index.js';
import { Line } from '../../src/stores/memory/lines.js';
import type { ClaimedDelivery, Store, StoreSignal } from '../../src/stores/types.js';
import { attemptData, newDelivery, webhookFields } from '../../src/testing/conformance/fixtures.js';
import { seededRandom } from '../helpers/random.js';

const T = 1_700_000_000_000;
const LEASE_MS = 1_000_000_000;
const KEYS = ['a', 'b', 'c', null] as const;

type State = 'pending' | 'succeeded' | 'failed' | 'canceled';

interface Made {
  key: string;
  state: State;
  /** The live claim's token, `null` when not leased. */
  lease: string | null;
  /** When it is due (epoch ms), `null` while held or finished. */
  dueAt: number | null;
  pausesLine: boolean;
}

interface ModelLine {
  /** Pending ids, head first. */
  pending: string[];
  pauser: string | null;
}

/** The model: every delivery and every line, and the rules of the contract written plainly. */
class Model {
  readonly made = new Map<string, Made>();
  readonly lines = new Map<string, ModelLine>();

  line(key: string): ModelLine {
    let line = this.lines.get(key);
    if (!line) {
      line = { pending: [], pauser: null };
      this.lines.set(key, line);
    }
    return line;
  }

  join(id: string, key: string, now: number): void {
    const line = this.line(key);
    const due = line.pending.length === 0 && line.pauser === null;
    line.pending.push(id);
    this.made.set(id, { key, state: 'pending', lease: null, dueAt: due ? now : null, pausesLine: false });
  }

  /** `id` leaves its line (finished or canceled); the next becomes due unless the line pauses. */
  leave(id: string, state: State, now: number, pause = false): void {
    const d = this.made.get(id) as Made;
    const line = this.line(d.key);
    const wasHead = line.pending[0] === id;
    line.pending = line.pending.filter((p) => p !== id);
    d.state = state;
    d.lease = null;
    d.dueAt = null;
    if (pause) {
      line.pauser = id;
      d.pausesLine = true;
    } else if (wasHead) this.promote(line, now);
  }

  promote(line: ModelLine, now: number): void {
    const head = line.pending[0];
    if (head === undefined || line.pauser !== null) return;
    const d = this.made.get(head) as Made;
    if (d.dueAt === null) d.dueAt = now;
  }

  redeliver(id: string, now: number): void {
    const d = this.made.get(id) as Made;
    const line = this.line(d.key);
    d.state = 'pending';
    d.lease = null;
    if (d.pausesLine) {
      d.pausesLine = false;
      line.pauser = null;
      line.pending.unshift(id);
      d.dueAt = now;
      return;
    }
    d.dueAt = line.pending.length === 0 && line.pauser === null ? now : null;
    line.pending.push(id);
  }

  /** The heads that a claim at `now` hands out. */
  claimable(now: number): string[] {
    const ids: string[] = [];
    for (const line of this.lines.values()) {
      const head = line.pending[0];
      if (head === undefined || line.pauser !== null) continue;
      const d = this.made.get(head) as Made;
      if (d.lease === null && d.dueAt !== null && d.dueAt <= now) ids.push(head);
    }
    return ids.sort();
  }

  ids(state: State): string[] {
    return [...this.made].filter(([, d]) => d.state === state).map(([id]) => id);
  }
}

/** Checks every delivery, its line and the outbox counts against the model. */
async function check(store: Store, model: Model, now: number): Promise<void> {
  let due = 0;
  let pending = 0;
  for (const [id, d] of model.made) {
    const stored = await store.getDelivery({ scope: 'acme', id });
    expect(stored, id).toMatchObject({
      state: d.state,
      pausesLine: d.pausesLine,
      nextAttemptAt: d.dueAt === null ? null : new Date(d.dueAt),
      ordered: true,
    });
    const line = await store.deliveryLine?.({ scope: 'acme', id });
    if (d.state !== 'pending') {
      expect(line, id).toBeNull();
      continue;
    }
    pending++;
    if (d.lease === null && d.dueAt !== null && d.dueAt <= now) due++;
    const modelLine = model.line(d.key);
    const rank = modelLine.pending.indexOf(id);
    const paused = modelLine.pauser !== null;
    expect({ ahead: line?.ahead, blockedBy: line?.blockedBy?.id ?? null }, id).toEqual({
      ahead: rank + (paused ? 1 : 0),
      blockedBy: paused ? modelLine.pauser : rank > 0 ? modelLine.pending[0] : null,
    });
  }
  const summary = await store.outboxSummary({ now: new Date(now) });
  expect({ due: summary.due, pending: summary.pending }).toEqual({ due, pending });
  const stats = await store.outboxStats?.({ now: new Date(now), perScope: true });
  expect(stats?.pending).toBe(pending);
  expect(stats?.scopes?.reduce((n, s) => n + s.pending, 0)).toBe(pending);
}

async function run(seed: number, steps: number): Promise<void> {
  const rnd = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T | undefined => items[Math.floor(rnd() * items.length)];
  const store = memoryStore();
  const hook = await store.insertWebhook({
    scope: 'acme',
    fields: webhookFields({ ordering: 'fifo', orderingOnFailure: 'pause' }),
    now: new Date(T),
  });
  const model = new Model();
  const claims = new Map<string, ClaimedDelivery>();
  let notification = 0;
  for (let step = 0; step < steps; step++) {
    const now = T + step * 10;
    const date = new Date(now);
    const roll = rnd();
    if (roll < 0.35) {
      const batch = Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => {
        const key = pick(KEYS) ?? null;
        return newDelivery(hook.id, { ordered: true, orderingKey: key });
      });
      await store.enqueue({
        scope: 'acme',
        notificationId: `n${notification++}`,
        deliveries: batch,
        now: date,
      });
      for (const d of batch) model.join(d.id, d.orderingKey ?? '', now);
    } else if (roll < 0.6) {
      const got = await store.claimDue({ limit: 100, leaseMs: LEASE_MS, now: date });
      expect(got.map((c) => c.id).sort()).toEqual(model.claimable(now));
      for (const claim of got) {
        claims.set(claim.id, claim);
        (model.made.get(claim.id) as Made).lease = claim.leaseToken;
      }
    } else if (roll < 0.85) {
      const id = pick([...claims.keys()]);
      if (id !== undefined) {
        const claim = claims.get(id) as ClaimedDelivery;
        claims.delete(id);
        const d = model.made.get(id) as Made;
        const what = rnd();
        const item = { deliveryId: id, leaseToken: claim.leaseToken, now: date };
        if (what < 0.3) {
          await store.recordAttempts({
            items: [{ ...item, attempt: attemptData(date), outcome: { state: 'succeeded' } }],
          });
          model.leave(id, 'succeeded', now);
        } else if (what < 0.55) {
          const pause = rnd() < 0.5;
          await store.recordAttempts({
            items: [
              {
                ...item,
                attempt: attemptData(date, { ok: false, status: 500, error: 'HTTP 500' }),
                outcome: { state: 'failed' },
                pauseLine: pause,
              },
            ],
          });
          model.leave(id, 'failed', now, pause);
        } else if (what < 0.75) {
          await store.recordAttempts({
            items: [
              {
                ...item,
                attempt: attemptData(date, { ok: false, status: 503, error: 'HTTP 503' }),
                outcome: { state: 'pending', nextAttemptAt: new Date(now + 20) },
              },
            ],
          });
          d.lease = null;
          d.dueAt = now + 20;
        } else if (what < 0.9) {
          await store.releaseClaim({ ...item });
          d.lease = null;
          d.dueAt = now;
        } else {
          await store.cancelClaimed({ ...item, reason: 'canceled' });
          model.leave(id, 'canceled', now);
        }
      }
    } else if (roll < 0.93) {
      const id = pick(model.ids('pending'));
      if (id !== undefined) {
        await store.cancelDelivery?.({ scope: 'acme', id, reason: 'not needed', now: date });
        claims.delete(id);
        model.leave(id, 'canceled', now);
      }
    } else if (roll < 0.995) {
      // Half the time the delivery pausing a line, when one does: it goes back to the front.
      const pausers = [...model.made].filter(([, d]) => d.pausesLine).map(([id]) => id);
      const id =
        pausers.length > 0 && rnd() < 0.5
          ? pick(pausers)
          : pick([...model.ids('failed'), ...model.ids('canceled'), ...model.ids('succeeded')]);
      if (id !== undefined) {
        await store.redeliver({ scope: 'acme', id, now: date });
        model.redeliver(id, now);
      }
    } else {
      await store.cancelPending({ scope: 'acme', webhookId: hook.id, reason: 'disabled', now: date });
      for (const [id, d] of model.made) {
        d.pausesLine = false;
        if (d.state === 'pending' && d.lease === null) {
          d.state = 'canceled';
          d.dueAt = null;
          const line = model.line(d.key);
          line.pending = line.pending.filter((p) => p !== id);
        }
      }
      for (const line of model.lines.values()) {
        line.pauser = null;
        model.promote(line, now);
      }
    }
    await check(store, model, now);
  }
}

describe('memory store: Line', () => {
  it('keeps slots in position order through pushes, removals, a put-back at the front and compaction', () => {
    const positions = new Float64Array(200);
    const line = new Line(1);
    const ranks = () => line.slots().map((slot) => line.rank(slot, positions));
    // Slot s joins with position s + 10, so slot 0 put back at the front (position 0) is lowest.
    const join = (slot: number) => {
      positions[slot] = slot + 10;
      line.push(slot);
    };
    join(1);
    expect(line.remove(1, positions)).toBe(true); // the line is empty: its array starts over
    expect(line.size).toBe(0);
    join(2);
    join(3);
    line.unshift(0); // at index 0 of a fresh array
    expect(line.slots()).toEqual([0, 2, 3]);
    expect(ranks()).toEqual([0, 1, 2]);
    expect(line.remove(3, positions)).toBe(false); // from the back, not the head
    expect(line.remove(7, positions)).toBe(false); // not in the line
    expect(line.rank(7, positions)).toBe(-1);
    expect(line.remove(0, positions)).toBe(true);
    expect(line.head()).toBe(2);
    line.unshift(0); // into the gap the head left
    expect(line.slots()).toEqual([0, 2]);
    for (let slot = 4; slot < 150; slot++) join(slot);
    for (const slot of [0, 2, ...Array.from({ length: 60 }, (_, i) => i + 4)])
      expect(line.remove(slot, positions)).toBe(true); // past 32 gone: compacted on the way
    expect(line.head()).toBe(64);
    expect(line.rank(149, positions)).toBe(85);
    line.filter((slot) => slot % 2 === 0);
    expect(line.slots()).toEqual(Array.from({ length: 43 }, (_, i) => 64 + 2 * i));
    expect(line.paused).toBe(false);
    line.pauser = 5;
    expect(line.paused).toBe(true);
  });
});

describe('memory store: ordered lines against a model', () => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    it(`keeps every line in order through random steps (seed ${seed})`, async () => {
      await run(seed, 250);
    });
  }

  it('keeps a long line in order past the compaction of its queue, and ranks every waiting delivery', async () => {
    const store = memoryStore();
    const hook = await store.insertWebhook({
      scope: 'acme',
      fields: webhookFields({ ordering: 'fifo' }),
      now: new Date(T),
    });
    const deliveries = Array.from({ length: 300 }, () => newDelivery(hook.id, { ordered: true }));
    await store.enqueue({ scope: 'acme', notificationId: 'n', deliveries, now: new Date(T) });
    // One from the middle leaves: the ranks behind it close up.
    await store.cancelDelivery?.({ scope: 'acme', id: deliveries[150]!.id, reason: 'x', now: new Date(T) });
    const order: string[] = [];
    for (let i = 0; i < 299; i++) {
      const now = new Date(T + i + 1);
      if (i % 37 === 0) {
        const last = deliveries[299]!.id;
        expect((await store.deliveryLine?.({ scope: 'acme', id: last }))?.ahead).toBe(298 - i);
      }
      const [claim, ...more] = await store.claimDue({ limit: 10, leaseMs: 60_000, now });
      expect(more).toEqual([]);
      order.push((claim as ClaimedDelivery).id);
      await store.recordAttempts({
        items: [
          {
            deliveryId: (claim as ClaimedDelivery).id,
            leaseToken: (claim as ClaimedDelivery).leaseToken,
            attempt: attemptData(now),
            outcome: { state: 'succeeded' },
            now,
          },
        ],
      });
    }
    expect(order).toEqual(deliveries.filter((_, i) => i !== 150).map((d) => d.id));
    expect(await store.outboxSummary({ now: new Date(T + 1_000) })).toMatchObject({ pending: 0, due: 0 });
  });

  it('signals `due` to its watchers when a head is promoted', async () => {
    const store = memoryStore();
    const hook = await store.insertWebhook({
      scope: 'acme',
      fields: webhookFields({ ordering: 'fifo' }),
      now: new Date(T),
    });
    const [a, b, c] = [0, 1, 2].map(() => newDelivery(hook.id, { ordered: true, orderingKey: 'k' }));
    await store.enqueue({ scope: 'acme', notificationId: 'n', deliveries: [a!, b!, c!], now: new Date(T) });
    const signals: StoreSignal[] = [];
    await store.watch?.((signal) => signals.push(signal));
    const flush = () => new Promise((resolve) => setImmediate(resolve));

    const [head] = await store.claimDue({ limit: 10, leaseMs: 60_000, now: new Date(T) });
    await store.recordAttempts({
      items: [
        {
          deliveryId: a!.id,
          leaseToken: (head as ClaimedDelivery).leaseToken,
          attempt: attemptData(new Date(T)),
          outcome: { state: 'succeeded' },
          now: new Date(T + 1),
        },
      ],
    });
    await flush();
    expect(signals).toEqual([{ type: 'due' }]);

    // A retry keeps the line: nothing promoted, nothing signaled.
    const [second] = await store.claimDue({ limit: 10, leaseMs: 60_000, now: new Date(T + 1) });
    await store.recordAttempts({
      items: [
        {
          deliveryId: b!.id,
          leaseToken: (second as ClaimedDelivery).leaseToken,
          attempt: attemptData(new Date(T + 1), { ok: false, status: 503, error: 'HTTP 503' }),
          outcome: { state: 'pending', nextAttemptAt: new Date(T + 100) },
          now: new Date(T + 2),
        },
      ],
    });
    await flush();
    expect(signals).toHaveLength(1);

    await store.cancelDelivery?.({ scope: 'acme', id: b!.id, reason: 'x', now: new Date(T + 3) });
    await flush();
    expect(signals).toEqual([{ type: 'due' }, { type: 'due' }]);
    expect(await store.getDelivery({ scope: 'acme', id: c!.id })).toMatchObject({
      nextAttemptAt: new Date(T + 3),
    });
  });

  it('keeps an ordered delivery that failed to render out of its line until it is redelivered', async () => {
    const store = memoryStore();
    const hook = await store.insertWebhook({
      scope: 'acme',
      fields: webhookFields({ ordering: 'fifo' }),
      now: new Date(T),
    });
    const broken = newDelivery(hook.id, { ordered: true, failure: 'render_failed: x' });
    const next = newDelivery(hook.id, { ordered: true });
    await store.enqueue({ scope: 'acme', notificationId: 'n', deliveries: [broken, next], now: new Date(T) });
    expect(await store.getDelivery({ scope: 'acme', id: broken.id })).toMatchObject({
      state: 'failed',
      ordered: true,
      pausesLine: false,
    });
    expect(await store.getDelivery({ scope: 'acme', id: next.id })).toMatchObject({
      nextAttemptAt: new Date(T),
    });
    expect(await store.redeliver({ scope: 'acme', id: broken.id, now: new Date(T + 1) })).toMatchObject({
      state: 'pending',
      nextAttemptAt: null,
    });
    expect(await store.deliveryLine?.({ scope: 'acme', id: broken.id })).toMatchObject({
      ahead: 1,
      blockedBy: { id: next.id },
    });
  });

  it('lets the head claimed before cancelPending pause its line when its failure is recorded', async () => {
    const store = memoryStore();
    const hook = await store.insertWebhook({
      scope: 'acme',
      fields: webhookFields({ ordering: 'fifo', orderingOnFailure: 'pause' }),
      now: new Date(T),
    });
    const [a, b] = [0, 1].map(() => newDelivery(hook.id, { ordered: true }));
    await store.enqueue({ scope: 'acme', notificationId: 'n', deliveries: [a!, b!], now: new Date(T) });
    const [head] = await store.claimDue({ limit: 10, leaseMs: 60_000, now: new Date(T) });
    expect(
      await store.cancelPending({
        scope: 'acme',
        webhookId: hook.id,
        reason: 'disabled',
        now: new Date(T + 1),
      }),
    ).toBe(1);
    await store.recordAttempts({
      items: [
        {
          deliveryId: a!.id,
          leaseToken: (head as ClaimedDelivery).leaseToken,
          attempt: attemptData(new Date(T + 1), { ok: false, status: 500, error: 'HTTP 500' }),
          outcome: { state: 'failed' },
          now: new Date(T + 2),
          pauseLine: true,
        },
      ],
    });
    expect(await store.getDelivery({ scope: 'acme', id: a!.id })).toMatchObject({
      state: 'failed',
      pausesLine: true,
    });
    const c = newDelivery(hook.id, { ordered: true });
    await store.enqueue({ scope: 'acme', notificationId: 'n2', deliveries: [c], now: new Date(T + 3) });
    expect(await store.getDelivery({ scope: 'acme', id: c.id })).toMatchObject({ nextAttemptAt: null });
    expect(await store.deliveryLine?.({ scope: 'acme', id: c.id })).toMatchObject({
      ahead: 1,
      blockedBy: { id: a!.id },
    });
  });
});
