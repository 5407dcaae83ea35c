/**
 * The clock hookline reads time and waits with. The worker and registry take one so that tests
 * can move time with a fake clock (`createFakeClock` from `hookline/testing`) instead of sleeping.
 *
 * @example
 * ```ts
 * const worker = registry.worker({ clock: createFakeClock() });
 * ```
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `callback` after `ms` milliseconds; returns a handle for {@link Clock.clearTimeout}. */
  setTimeout(callback: () => void, ms: number): unknown;
  /** Cancels a pending {@link Clock.setTimeout}. */
  clearTimeout(handle: unknown): void;
}

/**
 * The real clock: `Date.now()` and the global timers, unref'd: a worker's timers never keep the
 * process alive (a started worker does that on purpose, see its `keepAlive` option).
 *
 * @example
 * ```ts
 * systemClock.now();
 * ```
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(callback, ms) {
    const handle = setTimeout(callback, Math.max(0, ms));
    handle.unref?.();
    return handle;
  },
  clearTimeout(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};
