import type { Clock } from '../clock.js';

/** A {@link Clock} whose time moves only when told to. */
export interface FakeClock extends Clock {
  /** Moves time forward by `ms`, firing every timer that falls due, in order. */
  advance(ms: number): void;
  /** Moves time to `ms` since the epoch (never backwards), firing due timers. */
  set(ms: number | Date): void;
  /** How many timers are waiting. */
  readonly pendingTimers: number;
  /** When the earliest waiting timer is due, or `null`. */
  nextTimerAt(): number | null;
}

interface Timer {
  id: number;
  at: number;
  callback: () => void;
}

/**
 * A fake clock for tests: `now()` stands still until `advance()` or `set()` moves it, and timers
 * fire then. Use it to test retry schedules without waiting.
 *
 * @example
 * ```ts
 * const clock = createFakeClock({ now: new Date('2026-01-01T00:00:00Z') });
 * const worker = registry.worker({ clock });
 * clock.advance(5_000); // the first retry falls due
 * ```
 */
export function createFakeClock(options: { now?: number | Date } = {}): FakeClock {
  let now = options.now === undefined ? Date.parse('2026-01-01T00:00:00.000Z') : Number(options.now);
  let nextId = 1;
  const timers = new Map<number, Timer>();

  const fireDue = (until: number) => {
    for (;;) {
      let first: Timer | undefined;
      for (const timer of timers.values()) {
        if (
          timer.at <= until &&
          (!first || timer.at < first.at || (timer.at === first.at && timer.id < first.id))
        ) {
          first = timer;
        }
      }
      if (!first) break;
      timers.delete(first.id);
      now = Math.max(now, first.at);
      first.callback();
    }
    now = Math.max(now, until);
  };

  return {
    now: () => now,
    setTimeout(callback, ms) {
      const id = nextId++;
      timers.set(id, { id, at: now + Math.max(0, ms), callback });
      return id;
    },
    clearTimeout(handle) {
      if (typeof handle === 'number') timers.delete(handle);
    },
    advance(ms) {
      fireDue(now + ms);
    },
    set(at) {
      fireDue(Math.max(now, Number(at)));
    },
    get pendingTimers() {
      return timers.size;
    },
    nextTimerAt() {
      let min: number | null = null;
      for (const timer of timers.values()) if (min === null || timer.at < min) min = timer.at;
      return min;
    },
  };
}
