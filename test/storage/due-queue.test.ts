import { describe, expect, it } from 'vitest';
import { type DueEntry, DueQueue } from '../../src/stores/memory/due-queue.js';

/** A tiny seeded generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

/** The entry's time and item (entries also carry a sequence number). */
const view = (entry: { at: number; item: number } | undefined) =>
  entry === undefined ? undefined : { at: entry.at, item: entry.item };

describe('DueQueue', () => {
  it('pops the earliest entry, first pushed first among equal times, whatever the push order', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const rnd = random(seed);
      const queue = new DueQueue<number>();
      const reference: { at: number; item: number }[] = [];
      let now = 1_000;
      let next = 0;
      for (let step = 0; step < 3_000; step++) {
        const r = rnd();
        if (r < 0.55) {
          // Mostly in time order ("now", "now + lease"), sometimes back in time (retries, releases).
          const kind = rnd();
          const at = kind < 0.5 ? now : kind < 0.8 ? now + 120_000 : now + Math.floor(rnd() * 5_000) - 2_500;
          queue.push(next, at);
          reference.push({ at, item: next });
          next++;
          if (rnd() < 0.3) now += Math.floor(rnd() * 10);
        } else {
          // Stable sort: equal times keep their push order.
          reference.sort((a, b) => a.at - b.at);
          expect(view(queue.peek())).toEqual(reference[0]);
          expect(view(queue.pop())).toEqual(reference.shift());
        }
        expect(queue.size).toBe(reference.length);
      }
      reference.sort((a, b) => a.at - b.at);
      expect([...queue.entries()].map((e) => e.item).sort((a, b) => a - b)).toEqual(
        reference.map((e) => e.item).sort((a, b) => a - b),
      );
      while (reference.length > 0) expect(view(queue.pop())).toEqual(reference.shift());
      expect(queue.pop()).toBeUndefined();
      expect(queue.peek()).toBeUndefined();
    }
  });

  it('keeps order over a long in-order run and a push back in time', () => {
    const queue = new DueQueue<number>();
    for (let i = 0; i < 5_000; i++) queue.push(i, i);
    for (let i = 0; i < 4_000; i++) expect(queue.pop()?.item).toBe(i);
    for (let i = 5_000; i < 6_000; i++) queue.push(i, i);
    queue.push(-1, 0); // back in time: earliest now
    expect(queue.pop()?.item).toBe(-1);
    for (let i = 4_000; i < 6_000; i++) expect(queue.pop()?.item).toBe(i);
    expect(queue.size).toBe(0);
  });

  it('moves and removes entries in place: one entry per item, in order, whatever the moves', () => {
    for (const seed of [11, 12, 13, 14, 15]) {
      const rnd = random(seed);
      const queue = new DueQueue<number>();
      /** item → its entry (queued or not). */
      const entries = new Map<number, DueEntry<number>>();
      /** item → [at, order of its last push or move] while queued. */
      const queued = new Map<number, [number, number]>();
      let order = 0;
      let now = 1_000;
      const earliest = () =>
        [...queued].sort((a, b) => a[1][0] - b[1][0] || a[1][1] - b[1][1])[0]?.[0] ?? undefined;
      for (let step = 0; step < 4_000; step++) {
        const r = rnd();
        const item = Math.floor(rnd() * 200);
        const at = rnd() < 0.5 ? now : now + Math.floor(rnd() * 5_000) - 1_000;
        const entry = entries.get(item);
        if (r < 0.45) {
          // A claim, an attempt, a release: the item's one entry moves (or is queued again).
          if (entry) queue.move(entry, at);
          else entries.set(item, queue.push(item, at));
          queued.set(item, [at, order++]);
        } else if (r < 0.6) {
          if (entry) queue.remove(entry);
          queued.delete(item);
        } else {
          const top = queue.pop();
          expect(top?.item).toBe(earliest());
          if (top) {
            expect(top.at).toBe(queued.get(top.item)?.[0]);
            expect(top.index).toBe(-1);
            queued.delete(top.item);
          }
        }
        if (rnd() < 0.3) now += Math.floor(rnd() * 10);
        expect(queue.size).toBe(queued.size);
        expect(queue.peek()?.item).toBe(earliest());
      }
      expect(queue.entries().every((e, i) => e.index === i)).toBe(true);
      while (queued.size > 0) {
        const item = earliest();
        expect(queue.pop()?.item).toBe(item);
        queued.delete(item as number);
      }
      expect(queue.pop()).toBeUndefined();
    }
  });
});
