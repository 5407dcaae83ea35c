import { Dispatcher, Pool } from 'undici';

/** Most origins kept at once before idle ones are closed. */
export const MAX_IDLE_ORIGINS = 1024;

/**
 * An undici dispatcher with one `Pool` per origin, kept while the origin is in use.
 *
 * Why not undici's `Agent`: it closes an origin's pool whenever the pool has no connection left,
 * which is after every refused connection and every idle keep-alive close. To a receiver that is
 * down, each attempt then built a new Pool and Client (bench/backlog, 100 000 deliveries to a
 * refused port, two attempts each: 6 534 attempts/s with the Agent, 9 412 with this).
 * Here a pool stays; past {@link MAX_IDLE_ORIGINS} origins, the idle ones created first are
 * closed.
 */
export class OriginPools extends Dispatcher {
  readonly #options: Pool.Options;
  readonly #pools = new Map<string, Pool>();
  #closed = false;

  constructor(options: Pool.Options) {
    super();
    this.#options = options;
  }

  /** How many origins have a pool now. */
  get origins(): number {
    return this.#pools.size;
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const origin = String(options.origin);
    let pool = this.#pools.get(origin);
    if (pool === undefined) {
      if (this.#closed) throw new Error('The dispatcher is closed.');
      pool = new Pool(origin, this.#options);
      this.#pools.set(origin, pool);
      if (this.#pools.size > MAX_IDLE_ORIGINS) this.#closeIdle();
    }
    return pool.dispatch(options, handler);
  }

  /** Closes the oldest origins' pools that have nothing running or waiting. */
  #closeIdle(): void {
    for (const [origin, pool] of this.#pools) {
      if (this.#pools.size <= MAX_IDLE_ORIGINS / 2) return;
      const { running, pending } = pool.stats;
      if (running === 0 && pending === 0) {
        this.#pools.delete(origin);
        void pool.close();
      }
    }
  }

  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | void {
    this.#closed = true;
    const done = Promise.all([...this.#pools.values()].map((pool) => pool.close())).then(() => undefined);
    this.#pools.clear();
    if (callback) {
      void done.then(callback);
      return;
    }
    return done;
  }

  override destroy(): Promise<void>;
  override destroy(error: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(error: Error | null, callback: () => void): void;
  override destroy(
    errorOrCallback?: Error | null | (() => void),
    callback?: () => void,
  ): Promise<void> | void {
    const error = typeof errorOrCallback === 'function' ? null : (errorOrCallback ?? null);
    const cb = typeof errorOrCallback === 'function' ? errorOrCallback : callback;
    this.#closed = true;
    const done = Promise.all([...this.#pools.values()].map((pool) => pool.destroy(error))).then(
      () => undefined,
    );
    this.#pools.clear();
    if (cb) {
      void done.then(cb);
      return;
    }
    return done;
  }
}
