import { afterEach, describe, expect, it, vi } from 'vitest';
import { CoalescingQueue } from '../../src/delivery/coalescing-queue.js';

/** A run that records each batch and answers with `f(item)`. */
function recording<I, O>(f: (item: I) => O) {
  const batches: I[][] = [];
  const run = async (batch: I[]) => {
    batches.push([...batch]);
    return batch.map(f);
  };
  return { batches, run };
}

describe('CoalescingQueue', () => {
  it('runs the requests of one turn as one batch and gives each caller its own result', async () => {
    const { batches, run } = recording((n: number) => n * 10);
    const queue = new CoalescingQueue({ run });
    const results = await Promise.all([1, 2, 3].map((n) => queue.add(n)));
    expect(results).toEqual([10, 20, 30]);
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it('queues what arrives while a batch is in flight into the next batch', async () => {
    const batches: number[][] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const queue = new CoalescingQueue<number, number>({
      run: async (batch) => {
        batches.push([...batch]);
        if (batches.length === 1) await gate;
        return batch;
      },
    });
    const first = queue.add(1);
    await new Promise((resolve) => setImmediate(resolve));
    const later = [queue.add(2), queue.add(3)];
    release();
    expect(await Promise.all([first, ...later])).toEqual([1, 2, 3]);
    expect(batches).toEqual([[1], [2, 3]]);
  });

  it('splits at maxWeight (counting requests by default)', async () => {
    const { batches, run } = recording((n: number) => n);
    const queue = new CoalescingQueue({ run, maxWeight: 2 });
    await Promise.all([1, 2, 3, 4, 5].map((n) => queue.add(n)));
    expect(batches).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('weighs requests, always admits the first, and lets a later light one fill the gap', async () => {
    const { batches, run } = recording((n: number) => n);
    const queue = new CoalescingQueue({ run, maxWeight: 10, weight: (n: number) => n });
    await Promise.all([12, 3, 8, 2, 5].map((n) => queue.add(n)));
    expect(batches).toEqual([[12], [3, 2, 5], [8]]);
  });

  it('merges only compatible requests, keeping the others in order for later batches', async () => {
    const { batches, run } = recording((s: string) => s.toUpperCase());
    const queue = new CoalescingQueue({ run, compatible: (a: string, b: string) => a[0] === b[0] });
    const results = await Promise.all(['a1', 'b1', 'a2', 'b2', 'c1'].map((s) => queue.add(s)));
    expect(results).toEqual(['A1', 'B1', 'A2', 'B2', 'C1']);
    expect(batches).toEqual([['a1', 'a2'], ['b1', 'b2'], ['c1']]);
  });

  it('rejects every caller of a failed batch and goes on with the next', async () => {
    const boom = new Error('boom');
    let calls = 0;
    const queue = new CoalescingQueue<number, number>({
      maxWeight: 2,
      run: async (batch) => {
        if (++calls === 1) throw boom;
        return batch;
      },
    });
    const settled = await Promise.allSettled([1, 2, 3].map((n) => queue.add(n)));
    expect(settled).toEqual([
      { status: 'rejected', reason: boom },
      { status: 'rejected', reason: boom },
      { status: 'fulfilled', value: 3 },
    ]);
  });

  it('rejects a synchronous throw of run like a rejection', async () => {
    const boom = new Error('sync');
    const queue = new CoalescingQueue<number, number>({
      run: () => {
        throw boom;
      },
    });
    await expect(queue.add(1)).rejects.toBe(boom);
  });

  it('rejects the callers whose results are missing with missingResult()', async () => {
    const missing = new Error('missing');
    const queue = new CoalescingQueue<number, number>({
      run: async (batch) => batch.slice(0, 1),
      missingResult: () => missing,
    });
    const settled = await Promise.allSettled([1, 2].map((n) => queue.add(n)));
    expect(settled).toEqual([
      { status: 'fulfilled', value: 1 },
      { status: 'rejected', reason: missing },
    ]);
  });

  describe('delayMs', () => {
    // Only the timers are fake: setImmediate, which the queue also uses, stays real.
    afterEach(() => {
      vi.useRealTimers();
    });
    const turns = async (n = 3) => {
      for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
    };

    it('lets the first request of an idle queue wait delayMs for others', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      const { batches, run } = recording((n: number) => n);
      const queue = new CoalescingQueue({ run, delayMs: 5 });
      const first = queue.add(1);
      await turns();
      const second = queue.add(2);
      await turns();
      expect(batches).toEqual([]);
      vi.advanceTimersByTime(4);
      await turns();
      expect(batches).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(await Promise.all([first, second])).toEqual([1, 2]);
      expect(batches).toEqual([[1, 2]]);
    });

    it('runs at once for an urgent request, taking those that wait with it', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      const { batches, run } = recording((n: number) => n);
      const queue = new CoalescingQueue({ run, delayMs: 60_000 });
      const waiting = queue.add(1);
      await turns();
      expect(await Promise.all([waiting, queue.add(2, { urgent: true })])).toEqual([1, 2]);
      expect(batches).toEqual([[1, 2]]);
      // An urgent request of an idle queue does not wait either.
      expect(await queue.add(3, { urgent: true })).toBe(3);
      expect(batches).toEqual([[1, 2], [3]]);
      expect(vi.getTimerCount()).toBe(0);
    });

    it('runs at once when maxWeight requests wait', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      const { batches, run } = recording((n: number) => n);
      const queue = new CoalescingQueue({ run, delayMs: 60_000, maxWeight: 3 });
      const first = [queue.add(1), queue.add(2)];
      await turns();
      expect(batches).toEqual([]);
      expect(await Promise.all([...first, queue.add(3)])).toEqual([1, 2, 3]);
      expect(batches).toEqual([[1, 2, 3]]);
    });

    it('does not delay what arrives while a batch runs', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      let release: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      const batches: number[][] = [];
      const queue = new CoalescingQueue<number, number>({
        delayMs: 60_000,
        run: async (batch) => {
          batches.push([...batch]);
          if (batches.length === 1) await gate;
          return batch;
        },
      });
      const first = queue.add(1, { urgent: true });
      await turns();
      const later = [queue.add(2), queue.add(3)];
      release();
      expect(await Promise.all([first, ...later])).toEqual([1, 2, 3]);
      expect(batches).toEqual([[1], [2, 3]]);
    });

    it('flush() runs the waiting requests now', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      const { batches, run } = recording((n: number) => n);
      const queue = new CoalescingQueue({ run, delayMs: 60_000 });
      const waiting = queue.add(1);
      await turns();
      await queue.flush(); // resolves once the batch has run
      expect(batches).toEqual([[1]]);
      expect(await waiting).toBe(1);
      expect(vi.getTimerCount()).toBe(0);
      await queue.flush(); // nothing waits: nothing runs
      expect(batches).toEqual([[1]]);
      // A failing batch rejects its callers, not flush().
      const failing = new CoalescingQueue<number, number>({
        delayMs: 60_000,
        run: async () => {
          throw new Error('down');
        },
      });
      const rejected = failing.add(1);
      await failing.flush();
      await expect(rejected).rejects.toThrow('down');
    });
  });
});
