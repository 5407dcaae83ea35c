import { randomBytes } from 'node:crypto';
import { HooklineError, ValidationError } from '../../errors.js';
import { DELIVERY_STATES, type Delivery } from '../../model.js';
import { activityBucketCount, assertCancelable, assertRedeliverable, badRecoverCursor } from '../rules.js';
import { DUE_SIGNAL } from '../signals.js';
import {
  type DeliveryLine,
  type EnqueueItem,
  FAILING_WEBHOOKS_LIMIT,
  type RecordAttemptInput,
  type RecordAttemptResult,
  type RecoverDeliveriesInput,
  type RecoverDeliveriesResult,
  type SearchDeliveriesInput,
  type SearchDeliveriesResult,
  type Store,
  type WebhookActivity,
  type WebhookActivityInput,
} from '../types.js';
import { commitHooksOf, isQueryable, type NotificationClient, type Queryable } from './driver.js';
import { checkSchemaName, DEFAULT_SCHEMA, type MigrateResult, migrate } from './migrations.js';
import {
  type ActivityRow,
  type DeliveryRow,
  dateOrNull,
  type EnqueueRow,
  iso,
  json,
  type OutboxStatsRow,
  type RecordRow,
  type SearchRow,
  toAttempt,
  toClaims,
  toDelivery,
  toEnqueueRows,
  toOutboxStats,
  toPage,
  toRecordInputRows,
  toRecordResults,
  toWebhook,
  toWebhookActivities,
  type WebhookRow,
} from './rows.js';
import { createRunner } from './runner.js';
import { sqlState } from './sql-errors.js';
import * as statements from './statements.js';
import { createWaker } from './wake.js';
import { createWatcher } from './watcher.js';

export { preparedStatementName } from './runner.js';

/**
 * The keyset a recovery cursor holds: the last row's finishing time (UTC text, microseconds)
 * and id. `null` for no cursor, `undefined` for one this store did not make.
 */
function parseRecoverCursor(cursor: string | null): [string, string] | null | undefined {
  if (cursor === null) return null;
  try {
    const value: unknown = JSON.parse(cursor);
    if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'string'))
      return [value[0] as string, value[1] as string];
  } catch {
    // not ours
  }
  return undefined;
}

/** The earliest and latest `created_at` a delivery-log cursor can hold, in microseconds since 1970 (PostgreSQL's first day; JavaScript's last). */
const CURSOR_MIN_US = -210_866_803_200_000_000n;
const CURSOR_MAX_US = 8_640_000_000_000_000_000n;
const SEQ_MAX = 9_223_372_036_854_775_807n;

/** A delivery-log cursor: the last row's `created_at` (microseconds since 1970) and `seq`. */
const logCursor = (at: string, seq: string): string => `${at}:${seq}`;

/**
 * The (`created_at` in microseconds, `seq`) a delivery-log cursor of {@link logCursor} holds,
 * both as canonical decimal text in range; a `ValidationError` (path `cursor`) for any other
 * string, before any SQL runs.
 */
function readLogCursor(cursor: string): [string, string] {
  const match = /^(-?\d{1,19}):(\d{1,19})$/.exec(cursor);
  if (match) {
    const at = BigInt(match[1] as string);
    const seq = BigInt(match[2] as string);
    // The round trip refuses leading zeros and "-0": one position, one cursor.
    if (
      at >= CURSOR_MIN_US &&
      at <= CURSOR_MAX_US &&
      seq >= 1n &&
      seq <= SEQ_MAX &&
      logCursor(String(at), String(seq)) === cursor
    )
      return [String(at), String(seq)];
  }
  throw new ValidationError([
    {
      path: ['cursor'],
      code: 'invalid_cursor',
      message: 'A delivery-log cursor must be the cursor a previous page of the same store returned.',
    },
  ]);
}

/** One notification of `enqueueMany` as its statement's JSON row (see `statements.enqueueMany`). */
function toEnqueueManyRow(ord: number, item: EnqueueItem) {
  return {
    ord,
    scope: item.scope,
    id: item.notificationId,
    delivery_ids: item.deliveries.map((d) => d.id),
    deliveries: toEnqueueRows(item.deliveries),
  };
}

/** Whether an enqueue's rows hold an ordered delivery (the statement's shape). */
const hasLine = (rows: readonly EnqueueRow[]): boolean => rows.some((row) => row.lineKey !== undefined);

/**
 * How often `claimDue` checks whether `deliveries` and `attempts` need an `ANALYZE` (see
 * `statements.refreshStatistics`), by the `now` it is given.
 *
 * @example
 * ```ts
 * await store.claimDue({ limit: 32, leaseMs: 60_000, now: new Date(Date.now() + STATISTICS_INTERVAL_MS) });
 * ```
 */
export const STATISTICS_INTERVAL_MS = 5000;

/**
 * How often `claimDue` repairs lines left without a due head (see `statements.repairLines`), by
 * the `now` it is given: the "at the latest about a second after" of the claimDue contract. Each
 * repair looks at up to 1 000 lines with waiting deliveries, so with more of them a sweep of all
 * takes a second per thousand.
 *
 * @example
 * ```ts
 * await store.claimDue({ limit: 32, leaseMs: 60_000, now: new Date(Date.now() + LINE_REPAIR_INTERVAL_MS) });
 * ```
 */
export const LINE_REPAIR_INTERVAL_MS = 1000;

/**
 * How long (by the `now` of its calls) a store keeps claiming with the `lines` shape of the
 * claim statement after it last saw an ordered delivery due; then it goes back to the
 * `unordered` shape, which costs what the claim cost before ordered delivery and hands over to
 * the `lines` shape in the same call when it meets an ordered delivery (see `claimDue` in
 * statements.ts).
 *
 * @example
 * ```ts
 * const linesUntil = lastSeenOrdered.getTime() + LINES_SHAPE_MS;
 * ```
 */
export const LINES_SHAPE_MS = 1000;

/** Where a sweep of the line repair starts: before every line. */
const SWEEP_START: [string, string, string] = ['', '-9223372036854775808', ''];

/** Most ordered claims a store remembers for the shape of their records (see `orderedClaims`). */
const MAX_ORDERED_CLAIMS = 100_000;

/**
 * The default `recordDelayMs`. bench/postgres, enqueue included (16 producers, 4 worker
 * processes): see docs/postgres.md, "Record delay".
 */
const DEFAULT_RECORD_DELAY_MS = 2;
/**
 * The longest `recordDelayMs`: a worker slot waits that long, and a delay near a claim's lease
 * would let the lease end before the record (the delivery would be sent again).
 */
const MAX_RECORD_DELAY_MS = 1_000;

/**
 * Options of {@link postgresStore}.
 *
 * @example
 * ```ts
 * postgresStore({ db: pool, schema: 'hookline', notify: true });
 * ```
 */
export interface PostgresStoreOptions {
  /**
   * Where to keep everything: a `pg.Pool` (recommended), a `pg.Client` / `pg.PoolClient`, or a
   * `PGlite`. Anything with `query(text, params) → Promise<{ rows }>` works for the store's
   * own statements, which are each a single atomic statement.
   */
  db: Queryable;
  /** The schema holding hookline's tables. Default `'hookline'`. */
  schema?: string;
  /**
   * LISTEN/NOTIFY wake-ups on `'<schema>_deliveries'`. Default `true`. An `enqueue` or
   * `enqueueMany` on the store's own connection (no `tx`) that stored a pending delivery tells
   * this store's watchers at once and then sends `SELECT pg_notify(…)` on its own, after the
   * commit, and resolves once it is sent: at most one such statement per store in flight, and
   * one more for the emits that committed meanwhile (PostgreSQL serializes the commits of transactions that notify, so a notify in
   * each emit made concurrent emits wait for each other; see docs/postgres.md). With a `tx` that
   * `withTransaction` began, the same wake-up is sent once after its `COMMIT`; with a `tx` of
   * the host's own `BEGIN`, the notify runs in that transaction and goes out when it commits. `redeliver`,
   * `recoverDeliveries` (when they made a delivery due) and `releaseClaim` notify in their
   * statement; a record or cancel that made the next delivery of an ordered line due tells this
   * store's watchers at once and other processes by the waker's notify after the commit. `store.watch()` listens on a
   * dedicated connection: taken from the pool with `db.connect()`, from `connect()` when
   * given, PGlite's own `db.listen()`, or the client itself when `db` is a single `pg.Client`.
   * `false`: no notifications; workers poll.
   */
  notify?: boolean | { connect: () => Promise<NotificationClient> };
  /**
   * How long a finished attempt waits, when none is being written, for others of this
   * process's workers to share its write: one `recordAttempts` statement and one commit for
   * several. It delays when the outcome is written (and its worker slot frees), never the
   * request; attempts of ordered deliveries never wait. 0 to 1 000; default 2 ms; 0 writes at
   * the next turn. Measured in docs/postgres.md, "Record delay".
   */
  recordDelayMs?: number;
}

/**
 * The PostgreSQL store: a {@link Store} plus its migrations and its connection.
 *
 * @example
 * ```ts
 * const store: PostgresStore = postgresStore({ db: pool });
 * await store.migrate();
 * ```
 */
export interface PostgresStore extends Store {
  /** `postgres`, or `pglite` for {@link pgliteStore}. */
  readonly name: string;
  /** The schema holding its tables. */
  readonly schema: string;
  /** The connection it was given (for `withTransaction(store.db, …)`, or a PGlite's `transaction`). */
  readonly db: Queryable;
  /** The notify channel: `<schema>_deliveries`, lower case. */
  readonly channel: string;
  /** How long a finished attempt waits for others to share its write (the `recordDelayMs` option). */
  readonly recordDelayMs: number;
  /** Creates or upgrades its tables; see `migrate`. */
  migrate(): Promise<MigrateResult>;
  /** One batch of a bulk recovery, one statement (see {@link Store.recoverDeliveries}). */
  recoverDeliveries(input: RecoverDeliveriesInput): Promise<RecoverDeliveriesResult>;
  /** Stops a pending delivery's retries (see {@link Store.cancelDelivery}). */
  cancelDelivery(input: { scope: string; id: string; reason: string; now: Date }): Promise<Delivery | null>;
  /** One page of the delivery log, one index range scan (see {@link Store.searchDeliveries} and migration 6). */
  searchDeliveries(input: SearchDeliveriesInput): Promise<SearchDeliveriesResult>;
  /** What webhooks did in a window, one statement over `attempts_activity` (see {@link Store.webhookActivity}). */
  webhookActivity(input: WebhookActivityInput): Promise<WebhookActivity[]>;
  /** Where a pending ordered delivery stands in its line, one statement (see {@link Store.deliveryLine}). */
  deliveryLine(input: { scope: string; id: string }): Promise<DeliveryLine | null>;
  /** Stops listening. Does not end a pool or client you passed in (that is yours). */
  close(): Promise<void>;
}

/**
 * A {@link Store} in PostgreSQL: webhooks, the outbox and the attempt log in one schema
 * (default `hookline`), shared by any number of processes. Every method is one SQL statement
 * (atomic on its own, also on a pool; `claimDue` and `recordAttempts` may add one or two for
 * ordered lines, see docs/postgres.md); workers claim with `FOR UPDATE SKIP LOCKED` under
 * leases. Call `await store.migrate()` once at start-up (safe in every process at once).
 *
 * `db` is a `pg.Pool` (recommended; attach `pool.on('error', …)` as `pg` asks), a single
 * `pg.Client`, or a `PGlite`. `pg` and `@electric-sql/pglite` are optional peer dependencies:
 * hookline never imports them itself. Database errors become `HooklineError('store_failed')`
 * with the driver error as `cause`; a pool reconnects on the next call. Needs PostgreSQL 13+.
 *
 * `enqueue({ tx })` runs on your transaction handle (a `pg.PoolClient` inside `BEGIN`, a
 * PGlite `Transaction`), so deliveries commit or roll back with your own writes.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * import { postgresStore } from 'hookline/postgres';
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * const store = postgresStore({ db: pool }); // schema 'hookline', notify on
 * await store.migrate();
 * const registry = new WebhookRegistry({ store });
 * ```
 */
export function postgresStore(options: PostgresStoreOptions): PostgresStore {
  const db = options.db;
  if (!isQueryable(db)) {
    throw new ValidationError([
      {
        path: ['db'],
        code: 'invalid_db',
        message: 'db must have a query(text, params) method (a pg.Pool, pg.Client or PGlite).',
      },
    ]);
  }
  const schema = checkSchemaName(options.schema ?? DEFAULT_SCHEMA);
  const notify = options.notify ?? true;
  const recordDelayMs = options.recordDelayMs ?? DEFAULT_RECORD_DELAY_MS;
  if (
    typeof recordDelayMs !== 'number' ||
    !(recordDelayMs >= 0 && recordDelayMs <= MAX_RECORD_DELAY_MS) // also false for NaN
  ) {
    throw new ValidationError([
      {
        path: ['recordDelayMs'],
        code: 'invalid_record_delay',
        message: `recordDelayMs must be a number of milliseconds from 0 to ${MAX_RECORD_DELAY_MS}.`,
      },
    ]);
  }
  const sql = statements.statementContext(schema, notify !== false);
  const { run, markReady } = createRunner(db, schema);
  /** The payload of this store object's own wake-ups (see `wake` in statements.ts). */
  const ownPayload = `hookline:wake:${randomBytes(8).toString('hex')}`;
  const watcher =
    notify === false
      ? undefined
      : createWatcher(db, sql.channel, notify === true ? undefined : notify.connect, schema, ownPayload);

  // The statements of fixed text, built once (the claim's text depends on its limit, an
  // update's on the fields it changes).
  const insertWebhook = statements.insertWebhook(sql);
  const getWebhook = statements.getWebhook(sql);
  const getWebhookByKey = statements.getWebhookByKey(sql);
  const listWebhooks = statements.listWebhooks(sql);
  const webhooksVersion = statements.webhooksVersion(sql);
  const deleteWebhook = statements.deleteWebhook(sql);
  const scanWebhooks = statements.scanWebhooks(sql);
  const replaceWebhookSecrets = statements.replaceWebhookSecrets(sql);
  /** On the store's own connection: the waker sends the wake-up after the commit. */
  const enqueueOwn = statements.enqueue(sql, 'after');
  /** On the host's transaction: the wake-up goes out when it commits. */
  const enqueueInTx = statements.enqueue(sql, 'in-statement');
  const enqueueManyOwn = statements.enqueueMany(sql, 'after');
  const enqueueManyInTx = statements.enqueueMany(sql, 'in-statement');
  /** The same with ordered deliveries among them (see `enqueueShape` in statements.ts). */
  const enqueueOwnOrdered = statements.enqueue(sql, 'after', true);
  const enqueueInTxOrdered = statements.enqueue(sql, 'in-statement', true);
  const enqueueManyOwnOrdered = statements.enqueueMany(sql, 'after', true);
  const enqueueManyInTxOrdered = statements.enqueueMany(sql, 'in-statement', true);
  const repairLines = statements.repairLines(sql);
  const refreshStatistics = statements.refreshStatistics(sql, schema);
  const deliveryLine = statements.deliveryLine(sql);
  const enqueuedIds = statements.enqueuedIds(sql);
  const enqueuedIdsMany = statements.enqueuedIdsMany(sql);
  const recordLines = statements.recordAttempts(sql, 'lines');
  const recordUnordered = statements.recordAttempts(sql, 'unordered');
  const finishLines = statements.finishLines(sql);
  /** Claim statements by shape and limit, built when first used. */
  const claimStatements = new Map<string, statements.Statement>();
  const claimStatement = (limit: number, shape: 'lines' | 'unordered'): statements.Statement => {
    const key = `${shape} ${limit}`;
    let statement = claimStatements.get(key);
    if (statement === undefined) {
      statement = statements.claimDue(sql, limit, shape);
      if (claimStatements.size < 64) claimStatements.set(key, statement);
    }
    return statement;
  };
  const cancelClaimed = statements.cancelClaimed(sql);
  const releaseClaim = statements.releaseClaim(sql);
  const getDelivery = statements.getDelivery(sql);
  const listDeliveries = statements.listDeliveries(sql);
  const listAttempts = statements.listAttempts(sql);
  const redeliver = statements.redeliver(sql);
  const cancelPending = statements.cancelPending(sql);
  const cancelDelivery = statements.cancelDelivery(sql);
  /** recoverDeliveries by shape (states, after a cursor, dry run), built when first used. */
  const recoverStatements = new Map<string, statements.Statement>();
  /** searchDeliveries by shape (filters present, states), built when first used. */
  const searchStatements = new Map<string, ReturnType<typeof statements.searchDeliveries>>();
  const webhookActivity = statements.webhookActivity(sql);
  const purgeAttempts = statements.purgeAttempts(sql);
  const outboxSummary = statements.outboxSummary(sql);
  /** outboxStats by shape: [scoped][perScope]. */
  const outboxStats = [false, true].map((scoped) =>
    [false, true].map((perScope) =>
      statements.outboxStats(sql, { scoped, perScope, limit: FAILING_WEBHOOKS_LIMIT }),
    ),
  );

  /**
   * Wake-ups after emits on the store's own connection: one `pg_notify` statement at a time
   * (see wake.ts); a failed one is dropped (the rows are committed, workers poll).
   */
  const wakeStatement = statements.wake(sql);
  const waker = watcher === undefined ? undefined : createWaker(() => run(wakeStatement, [ownPayload]));
  /**
   * After an own-connection enqueue that committed a pending delivery: this store's watchers
   * now, every other store object (other processes) by NOTIFY; resolves once that is sent.
   */
  const wakeAfterCommit = async (): Promise<void> => {
    watcher?.signal(DUE_SIGNAL);
    await waker?.wake();
  };
  /**
   * After a statement (committed) made deliveries of ordered lines due: this store's watchers
   * now, other processes by the waker's NOTIFY, not awaited (a worker's record batch does not
   * wait for it; `close()` does).
   */
  const wakePromoted = (): void => {
    watcher?.signal(DUE_SIGNAL);
    void waker?.wake();
  };
  /** When `claimDue` last repaired lines (its `now`, ms). */
  let repairedAt = Number.NEGATIVE_INFINITY;
  /** When `claimDue` last looked at the tables' statistics (its `now`, ms). */
  let statisticsAt = Number.NEGATIVE_INFINITY;
  /** Where the repair's sweep goes on: after this line (scope, webhook id, key); see `repairLines`. */
  let repairAfter: [string, string, string] = SWEEP_START;
  /** Until when (a claim's `now`, ms) claims take the `lines` shape: see {@link LINES_SHAPE_MS}. */
  let linesUntil = Number.NEGATIVE_INFINITY;
  /**
   * The ordered deliveries this store object handed out and has not seen recorded, released
   * or canceled since: a record batch holding one takes the `lines` shape (one statement);
   * others take the `unordered` one, followed by `finishLines` should they have moved an
   * ordered delivery after all (claimed through another store object).
   */
  const orderedClaims = new Set<string>();
  /** The after-commit lists this store has put its wake-up on (once per transaction). */
  const wakesQueued = new WeakSet<object>();
  /**
   * How an enqueue on `on` wakes other processes: `'now'` on the store's own connection (after
   * the statement, which committed), `'hook'` in a transaction `withTransaction` began (after
   * its COMMIT, through its after-commit list), `'in-statement'` in the host's own transaction
   * (a `pg_notify` in the statement, sent by PostgreSQL at the commit it cannot see).
   */
  const wakeMode = (on: Queryable | undefined): 'now' | 'hook' | 'in-statement' =>
    on === undefined ? 'now' : commitHooksOf(on) === undefined ? 'in-statement' : 'hook';
  /** After an enqueue that stored a pending delivery: the wake-up its mode calls for. */
  const wakeFor = async (on: Queryable | undefined): Promise<void> => {
    if (on === undefined) return wakeAfterCommit();
    const hooks = commitHooksOf(on);
    if (hooks === undefined || wakesQueued.has(hooks)) return;
    wakesQueued.add(hooks);
    hooks.push(wakeAfterCommit);
  };
  const checkTx = (tx: unknown): Queryable | undefined => {
    if (tx === undefined) return undefined;
    if (isQueryable(tx)) return tx;
    throw new ValidationError([
      {
        path: ['tx'],
        code: 'invalid_tx',
        message:
          'tx must be a transaction handle with query(): a pg client inside BEGIN or a PGlite transaction.',
      },
    ]);
  };

  /**
   * Records a batch in one statement (one plan, one round trip, one commit; see
   * `recordAttempts` in statements.ts), run again when PostgreSQL aborts it as a deadlock
   * victim (it committed nothing).
   */
  const recordWithRetry = async (items: readonly RecordAttemptInput[]): Promise<RecordAttemptResult[]> => {
    const params = [JSON.stringify(toRecordInputRows(items))];
    const lines = orderedClaims.size > 0 && items.some((item) => orderedClaims.has(item.deliveryId));
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          const rows = await run<RecordRow & { promoted: unknown; ordered: boolean }>(
            lines ? recordLines : recordUnordered,
            params,
          );
          if (Number(rows[0]?.promoted ?? 0) > 0) wakePromoted();
          if (!lines) await finishOrdered(items, rows);
          return toRecordResults(items.length, rows);
        } catch (error) {
          const states = [sqlState(error), sqlState((error as { cause?: unknown }).cause)];
          const retryable = states.some((state) => state === '40P01' || state === '40001');
          if (!retryable || attempt >= 3) throw error;
        }
      }
    } finally {
      if (orderedClaims.size > 0) for (const item of items) orderedClaims.delete(item.deliveryId);
    }
  };

  /**
   * After a record of the `unordered` shape: the ordered deliveries it moved after all (claimed
   * through another store object) have their lines finished by `finishLines`. Should that
   * fail, the record stands: the line's claim ends with its lease, and the repair promotes.
   */
  const finishOrdered = async (
    items: readonly RecordAttemptInput[],
    rows: readonly (RecordRow & { ordered: boolean })[],
  ): Promise<void> => {
    const moved = rows.filter((row) => row.applied && row.ordered);
    if (moved.length === 0) return;
    const finished = moved.map((row) => {
      const item = items[Number(row.ord)] as RecordAttemptInput;
      return {
        id: item.deliveryId,
        state: item.outcome.state,
        pause_line: item.outcome.state === 'failed' && item.pauseLine === true,
        now: iso(item.now),
      };
    });
    try {
      const [row] = await run<{ promoted: unknown }>(finishLines, [JSON.stringify(finished)]);
      if (Number(row?.promoted ?? 0) > 0) wakePromoted();
    } catch {
      // Later, not lost: see above.
    }
  };

  const store: PostgresStore = {
    name: 'postgres',
    schema,
    db,
    channel: sql.channel,
    recordDelayMs,
    enqueueChecksVersion: true,

    async migrate() {
      const result = await migrate({ db, schema });
      markReady();
      return result;
    },

    async insertWebhook({ scope, fields, now }) {
      const rows = await run<WebhookRow>(
        insertWebhook,
        [
          scope,
          fields.key,
          fields.enabled,
          fields.enabled ? null : 'manual',
          fields.url,
          fields.method,
          JSON.stringify(fields.eventTypes),
          fields.allEvents,
          JSON.stringify(fields.limitEvents),
          fields.headerTemplate,
          fields.bodyTemplate,
          fields.templateEscape,
          fields.comment,
          JSON.stringify(fields.secrets),
          iso(now),
          fields.ordering ?? 'none',
          fields.orderingOnFailure ?? 'continue',
        ],
        { scope, key: fields.key },
      );
      return toWebhook(rows[0]!);
    },

    async getWebhook({ scope, id }) {
      if (!Number.isSafeInteger(id)) return null;
      const rows = await run<WebhookRow>(getWebhook, [scope, id]);
      return rows[0] ? toWebhook(rows[0]) : null;
    },

    async getWebhookByKey({ scope, key }) {
      const rows = await run<WebhookRow>(getWebhookByKey, [scope, key]);
      return rows[0] ? toWebhook(rows[0]) : null;
    },

    async listWebhooks({ scope, enabled, offset, limit, tx }) {
      // A `tx` runs the read on the host's transaction, which PGlite needs when emit() loads the
      // webhook index inside db.transaction().
      const on = tx !== undefined && isQueryable(tx) ? tx : undefined;
      const rows = await run(
        listWebhooks,
        [scope, enabled ?? null, offset, limit],
        on === undefined ? {} : { on },
      );
      return toPage(rows, toWebhook);
    },

    async updateWebhook({ scope, id, changes, now }) {
      if (!Number.isSafeInteger(id)) return null;
      const update = statements.updateWebhook(sql, changes);
      const rows = await run<WebhookRow>(update.statement, [scope, id, iso(now), ...update.values], {
        scope,
        key: changes.key ?? null,
      });
      if (!rows[0]) return null;
      const record = toWebhook(rows[0]);
      watcher?.signal({ type: 'webhook', scope, webhookId: record.id, enabled: record.enabled });
      return record;
    },

    /** The version column is a bigint; as a number it stays exact up to 2^53 writes of one scope. */
    async webhooksVersion({ scope, tx }) {
      const rows = await run<{ version: unknown }>(
        webhooksVersion,
        [scope],
        tx !== undefined && isQueryable(tx) ? { on: tx } : {},
      );
      return rows[0] ? Number(rows[0].version) : 0;
    },

    async scanWebhooks({ afterId, limit }) {
      const rows = await run<WebhookRow>(scanWebhooks, [Math.floor(afterId), Math.max(0, Math.floor(limit))]);
      return rows.map(toWebhook);
    },

    async replaceWebhookSecrets({ scope, id, expected, secrets }) {
      if (!Number.isSafeInteger(id)) return false;
      const rows = await run(replaceWebhookSecrets, [
        scope,
        id,
        JSON.stringify(expected),
        JSON.stringify(secrets),
      ]);
      return rows.length > 0;
    },

    async deleteWebhook({ scope, id }) {
      if (!Number.isSafeInteger(id)) return false;
      const rows = await run(deleteWebhook, [scope, id]);
      if (rows.length === 0) return false;
      watcher?.signal({ type: 'webhook', scope, webhookId: id, enabled: null });
      return true;
    },

    async enqueue({ scope, notificationId, deliveries, now, tx, webhooksVersion: expected }) {
      const on = checkTx(tx);
      const ids = JSON.stringify(deliveries.map((d) => d.id));
      const enqueueRows = toEnqueueRows(deliveries);
      const ordered = hasLine(enqueueRows);
      // This store's next claims meet them: the lines shape at once (see LINES_SHAPE_MS).
      if (ordered) linesUntil = Math.max(linesUntil, now.getTime() + LINES_SHAPE_MS);
      const batch = JSON.stringify(enqueueRows);
      const inStatement = wakeMode(on) === 'in-statement';
      const enqueue = ordered
        ? inStatement
          ? enqueueInTxOrdered
          : enqueueOwnOrdered
        : inStatement
          ? enqueueInTx
          : enqueueOwn;
      if (expected !== undefined && !(Number.isSafeInteger(expected) && expected >= 0)) {
        throw new ValidationError([
          {
            path: ['webhooksVersion'],
            code: 'invalid_webhooks_version',
            message: 'webhooksVersion must be a webhook version the store gave: an integer, 0 or more.',
          },
        ]);
      }
      const version = expected === undefined ? null : expected;
      for (let round = 0; round < 3; round++) {
        const rows = await run<{ created: boolean; pending: boolean; stale: boolean }>(
          enqueue,
          [scope, notificationId, ids, iso(now), batch, version],
          on === undefined ? { scope } : { scope, on },
        );
        if (rows[0]?.stale) return { created: false, deliveryIds: [], stale: true };
        if (rows[0]?.created) {
          if (rows[0].pending) await wakeFor(on);
          const deliveryIds = deliveries.map((d) => d.id);
          return version === null
            ? { created: true, deliveryIds }
            : { created: true, deliveryIds, stale: false };
        }
        const existing = await run<{ delivery_ids: unknown }>(
          enqueuedIds,
          [scope, notificationId],
          on === undefined ? {} : { on },
        );
        // No row: the transaction that held the id rolled back in between; try again.
        if (existing[0]) {
          const deliveryIds = json<string[]>(existing[0].delivery_ids);
          return version === null
            ? { created: false, deliveryIds }
            : { created: false, deliveryIds, stale: false };
        }
      }
      throw new HooklineError(
        'store_failed',
        `PostgreSQL store (schema "${schema}"): enqueue kept racing; try again.`,
      );
    },

    async enqueueMany({ items, now, tx }) {
      const on = checkTx(tx);
      const results: ({ created: boolean; deliveryIds: string[] } | undefined)[] = items.map(() => undefined);
      let left = items.map((item, ord) => ({ ord, item }));
      let pending = false;
      try {
        const inStatement = wakeMode(on) === 'in-statement';
        for (let round = 0; round < 3 && left.length > 0; round++) {
          const rows = left.map(({ ord, item }) => toEnqueueManyRow(ord, item));
          const ordered = rows.some((row) => hasLine(row.deliveries));
          if (ordered) linesUntil = Math.max(linesUntil, now.getTime() + LINES_SHAPE_MS);
          const enqueueMany = ordered
            ? inStatement
              ? enqueueManyInTxOrdered
              : enqueueManyOwnOrdered
            : inStatement
              ? enqueueManyInTx
              : enqueueManyOwn;
          const [row] = await run<{ created: unknown; pending: boolean }>(
            enqueueMany,
            [JSON.stringify(rows), iso(now)],
            on === undefined ? {} : { on },
          );
          if (row?.pending) pending = true;
          const created = new Set(json<number[]>(row?.created ?? []));
          for (const { ord, item } of left) {
            if (created.has(ord))
              results[ord] = { created: true, deliveryIds: item.deliveries.map((d) => d.id) };
          }
          left = left.filter(({ ord }) => !created.has(ord));
          if (left.length === 0) break;
          const keys = left.map(({ ord, item }) => ({ ord, scope: item.scope, id: item.notificationId }));
          const existing = await run<{ ord: number; delivery_ids: unknown }>(
            enqueuedIdsMany,
            [JSON.stringify(keys)],
            on === undefined ? {} : { on },
          );
          for (const { ord, delivery_ids } of existing) {
            results[ord] = { created: false, deliveryIds: json<string[]>(delivery_ids) };
          }
          // Not found: the transaction that held the id rolled back in between; try those again.
          left = left.filter(({ ord }) => results[ord] === undefined);
        }
      } finally {
        // Also when a later round failed: what an earlier one committed is due.
        if (pending) await wakeFor(on);
      }
      if (left.length > 0) {
        throw new HooklineError(
          'store_failed',
          `PostgreSQL store (schema "${schema}"): enqueueMany kept racing; try again.`,
        );
      }
      return results as { created: boolean; deliveryIds: string[] }[];
    },

    async claimDue({ limit, leaseMs, now }) {
      if (!(limit >= 1)) return [];
      const at = now.getTime();
      if (at - repairedAt >= LINE_REPAIR_INTERVAL_MS || at < repairedAt) {
        // Lines a race left without a due head (statements.repairLines), before the claim
        // that can then take their heads. Once per interval even when it fails.
        repairedAt = at;
        const [repaired] = await run<{
          visited: unknown;
          last_scope: string | null;
          last_webhook_id: unknown;
          last_key: string | null;
        }>(repairLines, [iso(now), ...repairAfter]);
        repairAfter =
          Number(repaired?.visited ?? 0) < statements.REPAIR_LINES_PER_STATEMENT ||
          repaired?.last_scope == null ||
          repaired.last_key == null
            ? SWEEP_START
            : [repaired.last_scope, String(repaired.last_webhook_id), repaired.last_key];
      }
      if (at - statisticsAt >= STATISTICS_INTERVAL_MS || at < statisticsAt) {
        // Fresh statistics for a young or fast-growing outbox (statements.refreshStatistics);
        // an optimisation only, so a failure is left for the next interval.
        statisticsAt = at;
        await run(refreshStatistics, []).catch(() => undefined);
      }
      const size = Math.min(Math.floor(limit), 100_000);
      const params = [iso(now), iso(new Date(at + leaseMs))];
      let row: { batch: unknown; ordered: boolean } | undefined;
      if (at >= linesUntil) {
        // No ordered delivery seen due lately: the claim of before ordered delivery, which
        // claims nothing when it meets one (then the lines shape claims, at once).
        [row] = await run<{ batch: unknown; ordered: boolean }>(claimStatement(size, 'unordered'), params);
        if (row?.ordered) linesUntil = at + LINES_SHAPE_MS;
      }
      if (at < linesUntil) {
        [row] = await run<{ batch: unknown; ordered: boolean }>(claimStatement(size, 'lines'), params);
        if (row?.ordered) linesUntil = at + LINES_SHAPE_MS;
      }
      const claims = toClaims(row?.batch);
      for (const claim of claims) {
        if (!claim.ordered) continue;
        if (orderedClaims.size >= MAX_ORDERED_CLAIMS) orderedClaims.clear(); // records fall back to finishLines
        orderedClaims.add(claim.id);
      }
      return claims;
    },

    async recordAttempts({ items }) {
      return items.length === 0 ? [] : recordWithRetry(items);
    },

    async cancelClaimed({ deliveryId, leaseToken, reason, now }) {
      orderedClaims.delete(deliveryId);
      const rows = await run<{ promoted: unknown }>(cancelClaimed, [
        deliveryId,
        leaseToken,
        reason,
        iso(now),
      ]);
      if (Number(rows[0]?.promoted ?? 0) > 0) wakePromoted();
      return rows.length > 0;
    },

    async releaseClaim({ deliveryId, leaseToken, now }) {
      orderedClaims.delete(deliveryId);
      const rows = await run(releaseClaim, [deliveryId, leaseToken, iso(now)]);
      return rows.length > 0;
    },

    async getDelivery({ scope, id }) {
      const rows = await run<DeliveryRow>(getDelivery, [scope, id]);
      return rows[0] ? toDelivery(rows[0]) : null;
    },

    async listDeliveries({ scope, webhookId, state, offset, limit }) {
      if (!Number.isSafeInteger(webhookId)) return { count: 0, items: [] };
      const rows = await run(listDeliveries, [scope, webhookId, state ?? null, offset, limit]);
      return toPage(rows, toDelivery);
    },

    async listAttempts({ scope, deliveryId, offset, limit }) {
      const rows = await run(listAttempts, [scope, deliveryId, offset, limit]);
      return toPage(rows, toAttempt);
    },

    async redeliver({ scope, id, now }) {
      const rows = await run<DeliveryRow & { previous_state: DeliveryRow['state'] }>(redeliver, [
        scope,
        id,
        iso(now),
      ]);
      const row = rows[0];
      if (!row) return null;
      assertRedeliverable(id, row.previous_state);
      return toDelivery(row);
    },

    async recoverDeliveries(input: RecoverDeliveriesInput): Promise<RecoverDeliveriesResult> {
      const { scope, since, until, webhookId, types, now, limit, dryRun } = input;
      const states = (['failed', 'canceled'] as const).filter((state) => input.states.includes(state));
      const after = parseRecoverCursor(input.cursor);
      if (after === undefined) throw badRecoverCursor();
      if (states.length === 0 || (webhookId !== null && !Number.isSafeInteger(webhookId)))
        return { matched: 0, queued: 0, skipped: 0, cursor: null };
      const key = `${states.join(',')}|${after !== null}|${dryRun}`;
      let statement = recoverStatements.get(key);
      if (statement === undefined) {
        statement = statements.recoverDeliveries(sql, { states, after: after !== null, dryRun });
        recoverStatements.set(key, statement);
      }
      const max = Math.max(1, Math.floor(limit));
      const rows = await run<{
        matched: unknown;
        queued: unknown;
        skipped: unknown;
        last_at: string | null;
        last_id: string | null;
      }>(statement, [
        scope,
        iso(since),
        iso(until ?? now),
        webhookId,
        types === null ? null : JSON.stringify(types),
        max,
        ...(dryRun ? [] : [iso(now)]),
        ...(after === null ? [] : after),
      ]);
      const row = rows[0];
      const matched = Number(row?.matched ?? 0);
      const more = matched >= max && row?.last_at != null && row.last_id != null;
      return {
        matched,
        queued: Number(row?.queued ?? 0),
        skipped: Number(row?.skipped ?? 0),
        cursor: more ? JSON.stringify([row.last_at, row.last_id]) : null,
      };
    },

    async searchDeliveries(input: SearchDeliveriesInput): Promise<SearchDeliveriesResult> {
      const { scope, webhookId, types, since, until, id, limit } = input;
      const after = input.cursor === null ? null : readLogCursor(input.cursor);
      // Known states only, in one order (one statement per set); all four filter nothing.
      const wanted = input.states;
      const states = wanted === null ? null : DELIVERY_STATES.filter((state) => wanted.includes(state));
      if (
        states?.length === 0 ||
        types?.length === 0 ||
        (webhookId !== null && !Number.isSafeInteger(webhookId))
      )
        return { items: [], cursor: null };
      const shape: statements.SearchShape = {
        webhook: webhookId !== null,
        states: states === null || states.length === DELIVERY_STATES.length ? null : states,
        types: types !== null,
        since: since !== null,
        until: until !== null,
        cursor: after !== null,
        id: id !== null,
      };
      const key = JSON.stringify(shape);
      let search = searchStatements.get(key);
      if (search === undefined) {
        search = statements.searchDeliveries(sql, shape);
        searchStatements.set(key, search);
      }
      // One row more than the page, to know whether an older one is left.
      const size = Math.max(1, Math.floor(limit) || 1);
      const values: Record<statements.SearchParam, unknown> = {
        scope,
        limit: size + 1,
        webhookId,
        types: types === null ? null : JSON.stringify(types),
        since: since === null ? null : iso(since),
        until: until === null ? null : iso(until),
        cursorAt: after?.[0] ?? null,
        cursorSeq: after?.[1] ?? null,
        id,
      };
      const rows = await run<SearchRow>(
        search.statement,
        search.params.map((name) => values[name]),
      );
      const page = rows.slice(0, size);
      const last = page[page.length - 1];
      return {
        items: page.map(toDelivery),
        cursor: rows.length > size && last !== undefined ? logCursor(last.cursor_at, String(last.seq)) : null,
      };
    },

    async webhookActivity(input: WebhookActivityInput): Promise<WebhookActivity[]> {
      const { scope, webhookIds, since, until, bucketMs } = input;
      const bucketCount = activityBucketCount({ since, until, bucketMs });
      const ids = [...new Set(webhookIds.filter((webhookId) => Number.isSafeInteger(webhookId)))];
      const rows =
        ids.length === 0
          ? []
          : await run<ActivityRow>(webhookActivity, [
              scope,
              JSON.stringify(ids),
              iso(since),
              iso(until),
              bucketMs,
            ]);
      return toWebhookActivities(rows, { webhookIds, since, bucketMs, bucketCount });
    },

    async cancelDelivery({ scope, id, reason, now }) {
      const rows = await run<DeliveryRow & { previous_state: DeliveryRow['state']; promoted: unknown }>(
        cancelDelivery,
        [scope, id, reason, iso(now)],
      );
      const row = rows[0];
      if (!row) return null;
      if (Number(row.promoted ?? 0) > 0) wakePromoted();
      assertCancelable(id, row.previous_state);
      return toDelivery(row);
    },

    async deliveryLine({ scope, id }) {
      const rows = await run<{ ahead: unknown; blocked_by: unknown }>(deliveryLine, [scope, id]);
      const row = rows[0];
      if (!row) return null;
      const blockedBy = row.blocked_by === null || row.blocked_by === undefined ? null : row.blocked_by;
      return {
        ahead: Number(row.ahead),
        blockedBy: blockedBy === null ? null : toDelivery(json<DeliveryRow>(blockedBy)),
      };
    },

    async cancelPending({ scope, webhookId, reason, now }) {
      if (!Number.isSafeInteger(webhookId)) return 0;
      const rows = await run<{ count: unknown }>(cancelPending, [scope, webhookId, reason, iso(now)]);
      return Number(rows[0]?.count ?? 0);
    },

    async purgeAttempts({ before }) {
      const rows = await run<{ count: unknown }>(purgeAttempts, [iso(before)]);
      return Number(rows[0]?.count ?? 0);
    },

    async outboxSummary({ now }) {
      const rows = await run<{ due: unknown; pending: unknown; next: unknown }>(outboxSummary, [iso(now)]);
      const row = rows[0];
      return {
        due: Number(row?.due ?? 0),
        pending: Number(row?.pending ?? 0),
        nextAttemptAt: dateOrNull(row?.next),
      };
    },

    async outboxStats({ now, scope, perScope = false }) {
      const scoped = scope !== undefined;
      const statement = outboxStats[Number(scoped)]?.[Number(perScope)] as statements.Statement;
      const rows = await run<OutboxStatsRow>(statement, scoped ? [iso(now), scope] : [iso(now)]);
      return toOutboxStats(rows[0], { perScope });
    },

    async close() {
      // Wake-ups owed for emits that committed go out first.
      await waker?.idle();
      await watcher?.close();
    },
  };
  if (watcher) store.watch = (listener) => watcher.watch(listener);
  return store;
}
