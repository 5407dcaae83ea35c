/**
 * The small structural surface hookline needs from a PostgreSQL driver, and the helpers that
 * tell the drivers apart. Nothing here imports `pg` or `@electric-sql/pglite`: a `pg.Pool`,
 * `pg.Client`, `pg.PoolClient`, a `PGlite` and a PGlite `Transaction` all fit these types as
 * they are.
 */

/**
 * What a query resolves to: at least the result rows.
 *
 * @example
 * ```ts
 * const { rows } = await db.query('SELECT 1 AS one'); // rows: [{ one: 1 }]
 * ```
 */
export interface QueryResultLike {
  rows: unknown[];
}

/**
 * Anything that runs one parameterized SQL statement: a `pg.Pool`, `pg.Client`,
 * `pg.PoolClient`, a `PGlite`, a PGlite `Transaction`, or your own wrapper.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * const db: Queryable = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * ```
 */
export interface Queryable {
  query(text: string, params?: unknown[]): Promise<QueryResultLike>;
}

/**
 * A message delivered by `LISTEN` on a `pg` client.
 *
 * @example
 * ```ts
 * client.on('notification', (m: NotificationMessage) => console.log(m.channel)); // 'hookline_deliveries'
 * ```
 */
export interface NotificationMessage {
  channel: string;
  payload?: string | undefined;
}

/**
 * A connection that can `LISTEN`: a `pg.Client` or `pg.PoolClient`. `release` (pool clients)
 * or `end` (plain clients) gives it back when hookline stops listening.
 *
 * @example
 * ```ts
 * const notify = { connect: async () => { const c = new pg.Client(url); await c.connect(); return c; } };
 * ```
 */
export interface NotificationClient extends Queryable {
  on(event: 'notification', listener: (message: NotificationMessage) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
  removeListener(event: 'notification', listener: (message: NotificationMessage) => void): unknown;
  removeListener(event: 'error', listener: (error: Error) => void): unknown;
  removeListener(event: 'end', listener: () => void): unknown;
  release?(error?: Error | boolean): void;
  end?(): Promise<void>;
}

/**
 * A pooled client: a `pg.PoolClient`.
 *
 * @example
 * ```ts
 * const client: PoolClientLike = await pool.connect();
 * client.release();
 * ```
 */
export interface PoolClientLike extends Queryable {
  release(error?: Error | boolean): void;
}

/**
 * A pool: a `pg.Pool` (recognized by `connect()` plus the numeric `totalCount`).
 *
 * @example
 * ```ts
 * const pool: PoolLike = new pg.Pool({ connectionString });
 * ```
 */
export interface PoolLike extends Queryable {
  connect(): Promise<PoolClientLike>;
  readonly totalCount: number;
}

/**
 * A PGlite instance (or `PGliteWorker`): `transaction(fn)` plus `listen(channel, fn)`.
 *
 * @example
 * ```ts
 * const db: PGliteLike = await PGlite.create();
 * ```
 */
export interface PGliteLike extends Queryable {
  transaction<T>(callback: (tx: Queryable) => Promise<T>): Promise<T>;
  listen(channel: string, callback: (payload: string) => void): Promise<(() => Promise<void>) | (() => void)>;
  close?(): Promise<void>;
}

type Loose = Record<string, unknown>;

/** Whether `db` looks like a `pg.Pool`. */
export function isPool(db: unknown): db is PoolLike {
  const d = db as Loose;
  return (
    typeof d?.connect === 'function' && typeof d.totalCount === 'number' && typeof d.query === 'function'
  );
}

/** Whether `db` looks like a PGlite instance (not a PGlite `Transaction`, which has no `transaction`). */
export function isPGlite(db: unknown): db is PGliteLike {
  const d = db as Loose;
  return (
    typeof d?.transaction === 'function' && typeof d.listen === 'function' && typeof d.query === 'function'
  );
}

/** Whether `db` looks like a `pg` client that can receive notifications. */
export function isNotificationClient(db: unknown): db is NotificationClient {
  const d = db as Loose;
  return (
    typeof d?.query === 'function' &&
    typeof d.on === 'function' &&
    typeof d.removeListener === 'function' &&
    !isPool(db) &&
    !isPGlite(db)
  );
}

/** Whether `value` has a `query` function. */
export function isQueryable(value: unknown): value is Queryable {
  return typeof (value as Loose | null)?.query === 'function';
}

/** `'T'` while a `pg` client is inside a transaction block (pg ≥ 8.12 exposes it). */
function clientInTransaction(db: Queryable): boolean {
  const loose = db as unknown as Loose;
  // A PGlite `Transaction` handle: always inside its transaction.
  if (typeof loose.rollback === 'function' && typeof loose.closed === 'boolean') return true;
  const status = (db as { getTransactionStatus?: () => unknown }).getTransactionStatus;
  return typeof status === 'function' && ['T', 'E'].includes(String(status.call(db)));
}

/**
 * Work to run once a transaction that {@link withTransaction} began has committed, by the
 * transaction's handle: the store's wake-up of other processes' workers after an emit in it
 * (sent then, rather than as a `pg_notify` inside the transaction, whose commit PostgreSQL
 * would serialize with every other notifying commit). Only transactions `withTransaction`
 * began itself are here (not a savepoint inside the host's own `BEGIN`, whose commit it does
 * not see); a savepoint inside one of them shares its list.
 */
const afterCommit = new WeakMap<object, (() => Promise<void>)[]>();

/**
 * The after-commit list of `tx` when it is a transaction {@link withTransaction} began and will
 * commit, or `undefined` (a transaction of the host's own: work must happen inside it). Hooks
 * run in order after `COMMIT` succeeded (never after a rollback) and before `withTransaction`
 * resolves; they must not reject.
 */
export function commitHooksOf(tx: object): (() => Promise<void>)[] | undefined {
  return afterCommit.get(tx);
}

/**
 * Runs the after-commit hooks of a transaction that committed. Called once its connection is
 * free again (a pool client released): a hook that needs a connection (the store's wake-up)
 * must never wait for the one its own transaction holds, or a pool whose every connection is
 * in such a transaction would deadlock.
 */
async function runHooks(hooks: readonly (() => Promise<void>)[]): Promise<void> {
  for (const hook of hooks) await hook();
}

/** One transaction at a time per plain client (its queries would interleave otherwise). */
const clientQueues = new WeakMap<object, Promise<unknown>>();
let savepointSeq = 0;

async function onClient<T>(client: Queryable, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  if (clientInTransaction(client)) {
    // Already inside the host's transaction: nest with a savepoint instead of committing theirs.
    const name = `hookline_sp_${++savepointSeq}`;
    await client.query(`SAVEPOINT ${name}`);
    try {
      const result = await fn(client);
      await client.query(`RELEASE SAVEPOINT ${name}`);
      return result;
    } catch (error) {
      await client.query(`ROLLBACK TO SAVEPOINT ${name}`).catch(() => undefined);
      throw error;
    }
  }
  const hooks: (() => Promise<void>)[] = [];
  const result = await beginCommit(client, fn, hooks);
  await runHooks(hooks);
  return result;
}

/**
 * `BEGIN`, `fn`, `COMMIT` on one connection; `ROLLBACK` when `fn` throws (a failed rollback goes
 * to `onRollbackFailure`). While it runs, `hooks` is the transaction's after-commit list
 * ({@link commitHooksOf}); the caller runs it once the commit succeeded and the connection is
 * free ({@link runHooks}).
 */
async function beginCommit<T>(
  client: Queryable,
  fn: (tx: Queryable) => Promise<T>,
  hooks: (() => Promise<void>)[],
  onRollbackFailure: (error: unknown) => void = () => undefined,
): Promise<T> {
  await client.query('BEGIN');
  afterCommit.set(client, hooks);
  try {
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(onRollbackFailure);
    throw error;
  } finally {
    afterCommit.delete(client);
  }
}

/**
 * Runs `fn` inside one database transaction and passes it the transaction handle to use,
 * `tx`: commit when `fn` resolves, roll back when it throws. How depends on `db`:
 *
 * - a `pg.Pool` (has `connect()` and `totalCount`): takes a client, `BEGIN` … `COMMIT` on it,
 *   releases it (destroying it if the rollback failed);
 * - a `PGlite`: its own `db.transaction(fn)` (inside `fn`, use only `tx`; PGlite runs one
 *   transaction at a time and other queries on `db` wait for it);
 * - anything else (a `pg.Client`, a `pg.PoolClient`): `BEGIN` … `COMMIT` on it directly, one
 *   transaction at a time per client; when the client is already inside a transaction, a
 *   `SAVEPOINT` instead, so the outer transaction stays the host's.
 *
 * Use `tx` as the `tx` of `registry.emit(notification, { tx })` to enqueue deliveries that
 * commit or roll back with your own writes. Emits in a transaction `withTransaction` began
 * wake other processes' workers once, after its `COMMIT` and before it resolves, rather than
 * with a `pg_notify` inside the transaction (whose commit PostgreSQL would serialize with
 * every other notifying commit).
 *
 * @example
 * ```ts
 * await withTransaction(pool, async (tx) => {
 *   await tx.query('UPDATE orders SET paid = true WHERE id = $1', [orderId]);
 *   await registry.emit({ scope: 'acme', type: 'order.paid', data: { orderId } }, { tx });
 * });
 * ```
 */
export async function withTransaction<T>(db: Queryable, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  if (isPGlite(db)) {
    // PGlite commits when the callback resolves: the hooks run once transaction() resolved.
    const hooks: (() => Promise<void>)[] = [];
    const result = await db.transaction(async (tx) => {
      afterCommit.set(tx, hooks);
      try {
        return await fn(tx);
      } finally {
        afterCommit.delete(tx);
      }
    });
    await runHooks(hooks);
    return result;
  }
  if (isPool(db)) {
    const client = await db.connect();
    const hooks: (() => Promise<void>)[] = [];
    let broken: Error | undefined;
    let result: T;
    try {
      result = await beginCommit(client, fn, hooks, (rollbackError) => {
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      });
    } catch (error) {
      broken ??= error instanceof Error && isConnectionError(error) ? error : undefined;
      throw error;
    } finally {
      client.release(broken);
    }
    // After the release: the wake-up may need a connection of this very pool.
    await runHooks(hooks);
    return result;
  }
  const previous = clientQueues.get(db) ?? Promise.resolve();
  const run = previous.then(
    () => onClient(db, fn),
    () => onClient(db, fn),
  );
  clientQueues.set(
    db,
    run.catch(() => undefined),
  );
  return run;
}

/** Errors after which a pooled connection must not be reused. */
function isConnectionError(error: Error): boolean {
  const code = (error as { code?: unknown }).code;
  return (
    (typeof code === 'string' &&
      (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03')) ||
    /Connection terminated|ECONNRESET|ECONNREFUSED|EPIPE/i.test(error.message)
  );
}
