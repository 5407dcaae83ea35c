/**
 * The wake-up coalescer of the PostgreSQL store: after an emit has committed on the store's own
 * connection, other processes' workers are woken by one `pg_notify` statement of its own rather
 * than by a `pg_notify` inside the emitting transaction. PostgreSQL serializes the commits of
 * every transaction that sent a notification (a database-wide lock taken at commit), so a
 * notify in each emit made concurrent emits commit one at a time; here at most one notify
 * statement per store is in flight, and emits commit side by side.
 *
 * @module
 */

/**
 * Sends wake-ups for one store, at most one at a time: see {@link createWaker}.
 *
 * @example
 * ```ts
 * const waker = createWaker(() => pool.query("SELECT pg_notify('hookline_deliveries', '')"));
 * await waker.wake(); // sent now
 * ```
 */
export interface Waker {
  /**
   * Asks for a wake-up and resolves once one that started after this call has been sent (or
   * has failed): one is sent now when none is in flight; otherwise one more is sent when the
   * one in flight has finished, for however many were asked for meanwhile. Never rejects.
   */
  wake(): Promise<void>;
  /** How many wake-ups were sent, for tests and measurements. */
  readonly sent: number;
  /** Resolves once no wake-up is in flight or owed. */
  idle(): Promise<void>;
}

/**
 * A coalescer of wake-ups (leading and trailing): the first `wake()` calls `send` at once; the
 * `wake()`s made while a send is in flight are answered together by exactly one more send after
 * it. A wake-up asked for after a commit therefore goes out after that commit (never only
 * before it, which would wake workers too early), one round trip later, or two when one was in
 * flight. A send that fails is ignored (`onError` hears it): the rows are committed, and
 * workers find them at their next poll.
 *
 * The PostgreSQL store awaits its wake-up before `enqueue` resolves: the notify then runs on
 * the connection the enqueue just gave back to the pool, not on a second one beside the
 * caller's next statement, and an emit that resolved has woken the workers.
 *
 * @example
 * ```ts
 * const waker = createWaker(() => run(wakeStatement, [payload]));
 * await store.enqueue(input); // committed
 * await waker.wake();
 * ```
 */
export function createWaker(send: () => Promise<unknown>, onError?: (error: unknown) => void): Waker {
  let inFlight: Promise<void> | undefined;
  /** The callers waiting for the send after the one in flight. */
  let owed: { promise: Promise<void>; resolve: () => void } | undefined;
  let sent = 0;

  const start = (): Promise<void> => {
    sent++;
    const current: Promise<void> = send()
      .then(
        () => undefined,
        (error: unknown) => {
          try {
            onError?.(error);
          } catch {
            // A throwing onError must not leave the waker stuck with a send "in flight".
          }
        },
      )
      .then(() => {
        inFlight = undefined;
        const waiting = owed;
        owed = undefined;
        if (waiting) void start().then(waiting.resolve);
      });
    inFlight = current;
    return current;
  };

  return {
    wake() {
      if (!inFlight) return start();
      if (!owed) {
        let resolve = (): void => undefined;
        const promise = new Promise<void>((r) => {
          resolve = r;
        });
        owed = { promise, resolve };
      }
      return owed.promise;
    },
    get sent() {
      return sent;
    },
    async idle() {
      while (inFlight) await inFlight;
    },
  };
}
