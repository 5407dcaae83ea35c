import { createHash } from 'node:crypto';
import { ConflictError, HooklineError, ValidationError } from '../../errors.js';
import type { Attempt, Delivery, DeliveryState, WebhookRecord } from '../../model.js';
import type { ClaimedDelivery, RecordAttemptInput, RecordAttemptResult, Store } from '../types.js';
import { isPool, isQueryable, type NotificationClient, type Queryable } from './driver.js';
import {
  assertSchemaVersion,
  checkSchemaName,
  DEFAULT_SCHEMA,
  type MigrateResult,
  migrate,
  quoteIdent,
} from './migrations.js';
import { sqlState, wrapError } from './sql-errors.js';
import { createWatcher } from './watcher.js';

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
   * LISTEN/NOTIFY wake-ups. Default `true`: `enqueue`, `redeliver` and `releaseClaim` run
   * `pg_notify('<schema>_deliveries', '')` in their statement (so in the host's transaction
   * when given `tx`: the wake-up goes out on commit), and `store.watch()` listens on a
   * dedicated connection: taken from the pool with `db.connect()`, from `connect()` when
   * given, PGlite's own `db.listen()`, or the client itself when `db` is a single `pg.Client`.
   * `false`: no notifications; workers poll.
   */
  notify?: boolean | { connect: () => Promise<NotificationClient> };
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
  /** Creates or upgrades its tables; see `migrate`. */
  migrate(): Promise<MigrateResult>;
  /** Stops listening. Does not end a pool or client you passed in (that is yours). */
  close(): Promise<void>;
}

interface WebhookRow {
  id: unknown;
  scope: string;
  key: string | null;
  enabled: boolean;
  disabled_reason: WebhookRecord['disabledReason'];
  url: string;
  method: WebhookRecord['method'];
  event_types: unknown;
  all_events: boolean;
  limit_events: unknown;
  header_template: string | null;
  body_template: string | null;
  template_escape: WebhookRecord['templateEscape'];
  comment: string | null;
  secrets: unknown;
  failing_since: unknown;
  consecutive_failures: unknown;
  created_at: unknown;
  updated_at: unknown;
}

interface DeliveryRow {
  id: string;
  seq: unknown;
  scope: string;
  webhook_id: unknown;
  notification_id: string;
  type: string;
  event: string | null;
  request: unknown;
  state: DeliveryState;
  attempt_count: unknown;
  next_attempt_at: unknown;
  last_status: unknown;
  last_error: string | null;
  lease_token: string | null;
  lease_until: unknown;
  created_at: unknown;
  updated_at: unknown;
}

interface AttemptRow {
  id: unknown;
  delivery_id: string;
  scope: string;
  webhook_id: unknown;
  attempt_number: unknown;
  retry: boolean;
  started_at: unknown;
  duration_ms: unknown;
  status: unknown;
  ok: boolean;
  error: string | null;
  response_body: string;
  response_headers: unknown;
}

const WEBHOOK_COLUMNS = [
  'id',
  'scope',
  'key',
  'enabled',
  'disabled_reason',
  'url',
  'method',
  'event_types',
  'all_events',
  'limit_events',
  'header_template',
  'body_template',
  'template_escape',
  'comment',
  'secrets',
  'failing_since',
  'consecutive_failures',
  'created_at',
  'updated_at',
];

const DELIVERY_COLUMNS = [
  'id',
  'seq',
  'scope',
  'webhook_id',
  'notification_id',
  'type',
  'event',
  'request',
  'state',
  'attempt_count',
  'next_attempt_at',
  'last_status',
  'last_error',
  'lease_token',
  'lease_until',
  'created_at',
  'updated_at',
];

const ATTEMPT_COLUMNS = [
  'id',
  'delivery_id',
  'scope',
  'webhook_id',
  'attempt_number',
  'retry',
  'started_at',
  'duration_ms',
  'status',
  'ok',
  'error',
  'response_body',
  'response_headers',
];

const columns = (list: string[], alias?: string) => list.map((c) => (alias ? `${alias}.${c}` : c)).join(', ');

/** Webhook fields a change may set: property → [column, SQL type]. */
const CHANGEABLE: Record<string, [string, string]> = {
  key: ['key', 'text'],
  enabled: ['enabled', 'boolean'],
  url: ['url', 'text'],
  method: ['method', 'text'],
  eventTypes: ['event_types', 'jsonb'],
  allEvents: ['all_events', 'boolean'],
  limitEvents: ['limit_events', 'jsonb'],
  headerTemplate: ['header_template', 'text'],
  bodyTemplate: ['body_template', 'text'],
  templateEscape: ['template_escape', 'text'],
  comment: ['comment', 'text'],
  secrets: ['secrets', 'jsonb'],
  disabledReason: ['disabled_reason', 'text'],
};

/** A jsonb column's value: drivers hand out freshly parsed objects (or text, which is parsed here). */
function json<T>(value: unknown): T {
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

/** A timestamptz value: drivers hand out fresh Date objects (or text, which is parsed here). */
function date(value: unknown): Date {
  return value instanceof Date ? value : new Date(value as string);
}

function dateOrNull(value: unknown): Date | null {
  return value === null || value === undefined ? null : date(value);
}

function numberOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

/** A `pg` client or pool: `query()` also takes `{ name, text, values }` (a prepared statement). */
interface NamedQueryable {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}

/**
 * The prepared-statement name of a statement text: `hookline_` and 40 hex digits of its SHA-256,
 * within PostgreSQL's 63-byte identifiers. Equal texts share a name; different texts never do.
 */
export function preparedStatementName(text: string): string {
  return `hookline_${createHash('sha256').update(text).digest('hex').slice(0, 40)}`;
}

function acceptsNamedQueries(q: Queryable): boolean {
  return isPool(q) || (typeof q === 'object' && q !== null && 'connectionParameters' in q);
}

function toWebhook(row: WebhookRow): WebhookRecord {
  return {
    id: Number(row.id),
    scope: row.scope,
    key: row.key,
    enabled: row.enabled,
    disabledReason: row.disabled_reason,
    url: row.url,
    method: row.method,
    eventTypes: json(row.event_types),
    allEvents: row.all_events,
    limitEvents: json(row.limit_events),
    headerTemplate: row.header_template,
    bodyTemplate: row.body_template,
    templateEscape: row.template_escape,
    comment: row.comment,
    secrets: json(row.secrets),
    failingSince: dateOrNull(row.failing_since),
    consecutiveFailures: Number(row.consecutive_failures),
    createdAt: date(row.created_at),
    updatedAt: date(row.updated_at),
  };
}

function toDelivery(row: DeliveryRow): Delivery {
  return {
    id: row.id,
    scope: row.scope,
    webhookId: Number(row.webhook_id),
    notificationId: row.notification_id,
    type: row.type,
    event: row.event,
    request: json(row.request),
    state: row.state,
    attemptCount: Number(row.attempt_count),
    nextAttemptAt: dateOrNull(row.next_attempt_at),
    lastStatus: numberOrNull(row.last_status),
    lastError: row.last_error,
    createdAt: date(row.created_at),
    updatedAt: date(row.updated_at),
  };
}

function toAttempt(row: AttemptRow): Attempt {
  return {
    id: Number(row.id),
    deliveryId: row.delivery_id,
    scope: row.scope,
    webhookId: Number(row.webhook_id),
    attemptNumber: Number(row.attempt_number),
    retry: row.retry,
    startedAt: date(row.started_at),
    durationMs: Number(row.duration_ms),
    status: Number(row.status),
    ok: row.ok,
    error: row.error,
    responseBody: row.response_body,
    responseHeaders: json(row.response_headers),
  };
}

const iso = (d: Date) => d.toISOString();

/** A page of rows plus the total: one row with `total` and null columns when the page is empty. */
type Paged<R> = R & { total: unknown };

function splitPage<R extends { id: unknown }>(rows: unknown[]): { count: number; rows: R[] } {
  const typed = rows as Paged<R>[];
  const count = Number(typed[0]?.total ?? 0);
  return { count, rows: typed.filter((r) => r.id !== null && r.id !== undefined) };
}

/**
 * A {@link Store} in PostgreSQL: webhooks, the outbox and the attempt log in one schema
 * (default `hookline`), shared by any number of processes. Every method is one SQL statement
 * (atomic on its own, also on a pool); workers claim with `FOR UPDATE SKIP LOCKED` under
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
  const s = quoteIdent(schema);
  const T = {
    webhooks: `${s}.webhooks`,
    notifications: `${s}.notifications`,
    deliveries: `${s}.deliveries`,
    attempts: `${s}.attempts`,
    versions: `${s}.webhook_versions`,
  };
  /** A CTE that bumps the scope's webhook version when `source` (a CTE with a `scope` column) has rows. */
  const bumpVersion = (source: string) =>
    `bump AS (
           INSERT INTO ${T.versions} AS v (scope, version) SELECT DISTINCT scope, 1 FROM ${source}
           ON CONFLICT (scope) DO UPDATE SET version = v.version + 1
         )`;
  const channel = `${schema}_deliveries`.toLowerCase();
  const notify = options.notify ?? true;
  const notifyOn = notify !== false;

  /**
   * Hot statements with fixed text run as named prepared statements on `pg` (planned once per
   * connection instead of on every call). PGlite and other drivers get plain queries. A name is
   * derived from the statement's text alone (which includes the schema), so any number of stores,
   * schemas and processes can share pools and connections: one name never stands for two texts.
   */
  const statementNames = new Map<string, string>();
  const statementName = (target: Queryable, text: string): string | undefined => {
    if (!acceptsNamedQueries(target)) return undefined;
    let name = statementNames.get(text);
    if (!name && statementNames.size < 64) {
      name = preparedStatementName(text);
      statementNames.set(text, name);
    }
    return name;
  };

  /** Checks the schema version once (on first use), unless `migrate()` did. */
  let ready: Promise<void> | null = null;
  const ensureReady = (): Promise<void> => {
    ready ??= assertSchemaVersion(db, schema).catch((error: unknown) => {
      ready = null;
      throw wrapError(error, { schema, operation: 'checking the schema version' });
    });
    return ready;
  };

  const run = async <R>(
    operation: string,
    text: string,
    params: unknown[],
    context: { on?: Queryable; scope?: string; key?: string | null; prepare?: boolean } = {},
  ): Promise<R[]> => {
    try {
      if (!context.on) await ensureReady();
      const target = context.on ?? db;
      const name = context.prepare ? statementName(target, text) : undefined;
      const result = name
        ? await (target as unknown as NamedQueryable).query({ name, text, values: params })
        : await target.query(text, params);
      return result.rows as R[];
    } catch (error) {
      throw wrapError(error, {
        schema,
        operation,
        ...(context.scope === undefined ? {} : { scope: context.scope }),
        ...(context.key === undefined ? {} : { key: context.key }),
      });
    }
  };

  const notifySql = (condition: string) =>
    notifyOn ? `CASE WHEN ${condition} THEN pg_notify('${channel}', '') END` : 'NULL';
  /** Tells every process's watchers of a webhook change (the row is `w`); see `parseSignal` in watcher.ts. */
  const notifyWebhookSql = (enabled: string) =>
    notifyOn
      ? `pg_notify('${channel}', json_build_object('s', w.scope, 'w', w.id, 'e', ${enabled})::text)`
      : 'NULL';

  const watcher = notifyOn
    ? createWatcher(db, channel, notify === true ? undefined : notify.connect, schema)
    : undefined;

  /**
   * Records a batch of attempts in one statement (one plan, one round trip, one commit):
   * inserts the attempts, moves the deliveries whose lease is still current, and updates each
   * webhook's health as if the items were applied in order. A webhook row is only written when
   * its health changes, and the new values are computed from the row as locked, so concurrent
   * batches never lose an update. Each result carries its webhook's health after the batch.
   */
  const recordBatch = async (items: readonly RecordAttemptInput[]): Promise<RecordAttemptResult[]> => {
    const input = items.map((item, ord) => ({
      ord,
      delivery_id: item.deliveryId,
      lease_token: item.leaseToken,
      started_at: iso(item.attempt.startedAt),
      duration_ms: item.attempt.durationMs,
      status: item.attempt.status,
      ok: item.attempt.ok,
      error: item.attempt.error,
      response_body: item.attempt.responseBody,
      response_headers: item.attempt.responseHeaders,
      state: item.outcome.state,
      next_attempt_at: item.outcome.state === 'pending' ? iso(item.outcome.nextAttemptAt) : null,
      now: iso(item.now),
    }));
    const rows = await run<{
      ord: unknown;
      found: boolean;
      applied: boolean;
      has_health: boolean;
      failing_since: unknown;
      consecutive_failures: unknown;
    }>(
      'recordAttempts',
      `WITH x AS (
           SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(ord integer, delivery_id text, lease_token text,
             started_at timestamptz, duration_ms double precision, status integer, ok boolean, error text,
             response_body text, response_headers jsonb, state text, next_attempt_at timestamptz, now timestamptz)
         ), cur AS (
           SELECT d.id, d.scope, d.webhook_id, d.attempt_count, x.ord,
                  (d.state = 'pending' AND d.lease_token IS NOT DISTINCT FROM x.lease_token) AS leased,
                  -- A scalar probe of attempts_by_delivery per row: an EXISTS here may be planned as a
                  -- hashed scan of the whole attempts table.
                  (SELECT true FROM ${T.attempts} AS a WHERE a.delivery_id = d.id LIMIT 1) IS NOT NULL AS prior
             FROM ${T.deliveries} AS d JOIN x ON x.delivery_id = d.id
            -- a canceled delivery never gains an attempt (see Store.recordAttempts)
            WHERE d.state <> 'canceled'
            ORDER BY d.id
              FOR UPDATE OF d
         ), att AS (
           INSERT INTO ${T.attempts} (delivery_id, scope, webhook_id, attempt_number, retry, started_at, duration_ms,
             status, ok, error, response_body, response_headers)
           SELECT cur.id, cur.scope, cur.webhook_id, cur.attempt_count + 1, cur.prior, x.started_at, x.duration_ms,
                  x.status, x.ok, x.error, x.response_body, x.response_headers
             FROM cur JOIN x ON x.ord = cur.ord
            ORDER BY x.ord
           RETURNING 1
         ), moved AS (
           UPDATE ${T.deliveries} AS d
              SET attempt_count = d.attempt_count + 1, last_status = x.status, last_error = x.error,
                  state = x.state, next_attempt_at = x.next_attempt_at, lease_token = NULL, lease_until = NULL,
                  updated_at = x.now
             FROM cur JOIN x ON x.ord = cur.ord
            WHERE d.id = cur.id AND cur.leased
           RETURNING cur.ord
         ), hooks AS (
           -- Per webhook: the last successful attempt of the batch, the first failure after it,
           -- and how many deliveries failed for good after it.
           SELECT cur.scope, cur.webhook_id, max(x.ord) FILTER (WHERE x.ok) AS last_ok
             FROM cur JOIN x ON x.ord = cur.ord
            GROUP BY cur.scope, cur.webhook_id
         ), change AS (
           SELECT h.scope, h.webhook_id, h.last_ok,
                  (array_agg(x.started_at ORDER BY x.ord)
                     FILTER (WHERE NOT x.ok AND x.ord > coalesce(h.last_ok, -1)))[1] AS first_fail,
                  count(*) FILTER (WHERE NOT x.ok AND x.state = 'failed' AND cur.leased
                                     AND x.ord > coalesce(h.last_ok, -1)) AS new_failures
             FROM hooks AS h
             JOIN cur ON cur.scope = h.scope AND cur.webhook_id = h.webhook_id
             JOIN x ON x.ord = cur.ord
            GROUP BY h.scope, h.webhook_id, h.last_ok
         ), health AS (
           UPDATE ${T.webhooks} AS w
              SET failing_since = CASE WHEN c.last_ok IS NOT NULL THEN c.first_fail
                                       ELSE coalesce(w.failing_since, c.first_fail) END,
                  consecutive_failures = CASE WHEN c.last_ok IS NOT NULL THEN c.new_failures
                                              ELSE w.consecutive_failures + c.new_failures END
             FROM change AS c
            WHERE w.scope = c.scope AND w.id = c.webhook_id
              AND (CASE WHEN c.last_ok IS NOT NULL THEN c.first_fail ELSE coalesce(w.failing_since, c.first_fail) END
                     IS DISTINCT FROM w.failing_since
                   OR CASE WHEN c.last_ok IS NOT NULL THEN c.new_failures
                           ELSE w.consecutive_failures + c.new_failures END <> w.consecutive_failures)
           RETURNING w.scope, w.id, w.failing_since, w.consecutive_failures
         )
         SELECT x.ord, cur.ord IS NOT NULL AS found, m.ord IS NOT NULL AS applied,
                coalesce(h.id, w.id) IS NOT NULL AS has_health,
                CASE WHEN h.id IS NOT NULL THEN h.failing_since ELSE w.failing_since END AS failing_since,
                coalesce(h.consecutive_failures, w.consecutive_failures) AS consecutive_failures,
                (SELECT count(*) FROM att) AS stored
           FROM x
           LEFT JOIN cur ON cur.ord = x.ord
           LEFT JOIN moved AS m ON m.ord = x.ord
           LEFT JOIN health AS h ON h.scope = cur.scope AND h.id = cur.webhook_id
           LEFT JOIN ${T.webhooks} AS w ON w.scope = cur.scope AND w.id = cur.webhook_id
          ORDER BY x.ord`,
      [JSON.stringify(input)],
      { prepare: true },
    );
    const results: RecordAttemptResult[] = items.map(() => ({ applied: false, health: null }));
    for (const row of rows) {
      const ord = Number(row.ord);
      if (!row.found) continue;
      results[ord] = {
        applied: row.applied,
        health: row.has_health
          ? {
              failingSince: dateOrNull(row.failing_since),
              consecutiveFailures: Number(row.consecutive_failures),
            }
          : null,
      };
    }
    return results;
  };

  /** {@link recordBatch}, run again when PostgreSQL aborts it as a deadlock victim (it committed nothing). */
  const recordWithRetry = async (items: readonly RecordAttemptInput[]): Promise<RecordAttemptResult[]> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await recordBatch(items);
      } catch (error) {
        const states = [sqlState(error), sqlState((error as { cause?: unknown }).cause)];
        const retryable = states.some((state) => state === '40P01' || state === '40001');
        if (!retryable || attempt >= 3) throw error;
      }
    }
  };

  const store: PostgresStore = {
    name: 'postgres',
    schema,
    db,
    channel,

    async migrate() {
      const result = await migrate({ db, schema });
      ready = Promise.resolve();
      return result;
    },

    async insertWebhook({ scope, fields, now }) {
      const rows = await run<WebhookRow>(
        'insertWebhook',
        `WITH w AS (
           INSERT INTO ${T.webhooks} (scope, key, enabled, disabled_reason, url, method, event_types, all_events,
             limit_events, header_template, body_template, template_escape, comment, secrets, consecutive_failures,
             created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9::jsonb, $10, $11, $12, $13, $14::jsonb, 0,
             $15::timestamptz, $15::timestamptz)
           RETURNING ${columns(WEBHOOK_COLUMNS)}
         ), ${bumpVersion('w')}
         SELECT * FROM w`,
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
        ],
        { scope, key: fields.key },
      );
      return toWebhook(rows[0]!);
    },

    async getWebhook({ scope, id }) {
      if (!Number.isSafeInteger(id)) return null;
      const rows = await run<WebhookRow>(
        'getWebhook',
        `SELECT ${columns(WEBHOOK_COLUMNS)} FROM ${T.webhooks} WHERE scope = $1 AND id = $2`,
        [scope, id],
      );
      return rows[0] ? toWebhook(rows[0]) : null;
    },

    async getWebhookByKey({ scope, key }) {
      const rows = await run<WebhookRow>(
        'getWebhookByKey',
        `SELECT ${columns(WEBHOOK_COLUMNS)} FROM ${T.webhooks} WHERE scope = $1 AND key = $2`,
        [scope, key],
      );
      return rows[0] ? toWebhook(rows[0]) : null;
    },

    async listWebhooks({ scope, enabled, offset, limit, tx }) {
      // A `tx` runs the read on the host's transaction, which PGlite needs when emit() loads the
      // webhook index inside db.transaction().
      const on = tx !== undefined && isQueryable(tx) ? tx : undefined;
      const rows = await run<WebhookRow>(
        'listWebhooks',
        `SELECT (SELECT count(*) FROM ${T.webhooks}
                  WHERE scope = $1 AND ($2::boolean IS NULL OR enabled = $2::boolean)) AS total, page.*
           FROM (SELECT 1) AS one
           LEFT JOIN LATERAL (
             SELECT ${columns(WEBHOOK_COLUMNS)} FROM ${T.webhooks}
              WHERE scope = $1 AND ($2::boolean IS NULL OR enabled = $2::boolean)
              ORDER BY id OFFSET $3 LIMIT $4
           ) AS page ON true`,
        [scope, enabled ?? null, offset, limit],
        on === undefined ? {} : { on },
      );
      const page = splitPage<WebhookRow>(rows);
      return { count: page.count, items: page.rows.map(toWebhook) };
    },

    async updateWebhook({ scope, id, changes, now }) {
      if (!Number.isSafeInteger(id)) return null;
      const params: unknown[] = [scope, id, iso(now)];
      const sets = ['updated_at = $3::timestamptz'];
      for (const [property, value] of Object.entries(changes)) {
        const column = CHANGEABLE[property];
        if (!column || value === undefined) continue;
        params.push(column[1] === 'jsonb' ? JSON.stringify(value) : value);
        sets.push(`${column[0]} = $${params.length}::${column[1]}`);
      }
      const rows = await run<WebhookRow>(
        'updateWebhook',
        `WITH w AS (
           UPDATE ${T.webhooks} SET ${sets.join(', ')} WHERE scope = $1 AND id = $2
           RETURNING ${columns(WEBHOOK_COLUMNS)}
         ), ${bumpVersion('w')}
         SELECT *, ${notifyWebhookSql('w.enabled')} AS notified FROM w`,
        params,
        { scope, key: changes.key ?? null },
      );
      if (!rows[0]) return null;
      const record = toWebhook(rows[0]);
      watcher?.signal({ type: 'webhook', scope, webhookId: record.id, enabled: record.enabled });
      return record;
    },

    /** The version column is a bigint; as a number it stays exact up to 2^53 writes of one scope. */
    async webhooksVersion({ scope, tx }) {
      const rows = await run<{ version: unknown }>(
        'webhooksVersion',
        `SELECT version FROM ${T.versions} WHERE scope = $1`,
        [scope],
        tx !== undefined && isQueryable(tx) ? { on: tx, prepare: true } : { prepare: true },
      );
      return rows[0] ? Number(rows[0].version) : 0;
    },

    async deleteWebhook({ scope, id }) {
      if (!Number.isSafeInteger(id)) return false;
      const rows = await run(
        'deleteWebhook',
        `WITH w AS (DELETE FROM ${T.webhooks} WHERE scope = $1 AND id = $2 RETURNING scope, id), ${bumpVersion('w')}
         SELECT 1 AS gone, ${notifyWebhookSql('NULL::boolean')} AS notified FROM w`,
        [scope, id],
      );
      if (rows.length === 0) return false;
      watcher?.signal({ type: 'webhook', scope, webhookId: id, enabled: null });
      return true;
    },

    async enqueue({ scope, notificationId, deliveries, now, tx }) {
      if (tx !== undefined && !isQueryable(tx)) {
        throw new ValidationError([
          {
            path: ['tx'],
            code: 'invalid_tx',
            message:
              'tx must be a transaction handle with query(): a pg client inside BEGIN or a PGlite transaction.',
          },
        ]);
      }
      const on = tx === undefined ? undefined : (tx as Queryable);
      const batch = deliveries.map((d) => ({
        id: d.id,
        webhookId: d.webhookId,
        type: d.type,
        event: d.event,
        request: d.request,
        failure: d.failure ? d.failure : null,
      }));
      const ids = JSON.stringify(deliveries.map((d) => d.id));
      // One statement: the notification row decides (ON CONFLICT DO NOTHING) whether the
      // deliveries go in; both commit or roll back together, with the host's transaction if any.
      for (let round = 0; round < 3; round++) {
        const rows = await run<{ created: boolean }>(
          'enqueue',
          `WITH note AS (
             INSERT INTO ${T.notifications} (scope, id, delivery_ids, created_at)
             VALUES ($1, $2, $3::jsonb, $4::timestamptz)
             ON CONFLICT (scope, id) DO NOTHING
             RETURNING 1 AS created
           ), ins AS (
             INSERT INTO ${T.deliveries} (id, scope, webhook_id, notification_id, type, event, request, state,
               attempt_count, next_attempt_at, last_error, created_at, updated_at)
             SELECT e.v->>'id', $1, (e.v->>'webhookId')::bigint, $2, e.v->>'type', e.v->>'event', e.v->'request',
               CASE WHEN e.v->>'failure' IS NULL THEN 'pending' ELSE 'failed' END, 0,
               CASE WHEN e.v->>'failure' IS NULL THEN $4::timestamptz END, e.v->>'failure',
               $4::timestamptz, $4::timestamptz
               FROM jsonb_array_elements($5::jsonb) WITH ORDINALITY AS e(v, ord)
              WHERE EXISTS (SELECT 1 FROM note)
              ORDER BY e.ord
             RETURNING state
           )
           SELECT EXISTS (SELECT 1 FROM note) AS created,
                  ${notifySql("EXISTS (SELECT 1 FROM ins WHERE state = 'pending')")} AS notified`,
          [scope, notificationId, ids, iso(now), JSON.stringify(batch)],
          on === undefined ? { scope, prepare: true } : { scope, on, prepare: true },
        );
        if (rows[0]?.created) return { created: true, deliveryIds: deliveries.map((d) => d.id) };
        const existing = await run<{ delivery_ids: unknown }>(
          'enqueue',
          `SELECT delivery_ids FROM ${T.notifications} WHERE scope = $1 AND id = $2`,
          [scope, notificationId],
          on === undefined ? {} : { on },
        );
        // No row: the transaction that held the id rolled back in between; try again.
        if (existing[0]) return { created: false, deliveryIds: json<string[]>(existing[0].delivery_ids) };
      }
      throw new HooklineError(
        'store_failed',
        `PostgreSQL store (schema "${schema}"): enqueue kept racing; try again.`,
      );
    },

    async claimDue({ limit, leaseMs, now }) {
      if (!(limit >= 1)) return [];
      // The limit is a literal: with it as a parameter PostgreSQL re-plans the prepared claim on
      // every call instead of settling on its generic plan. Workers ask for a few distinct limits
      // (their concurrency, and sums of it when claims of several workers are merged).
      const claimLimit = Math.min(Math.floor(limit), 100_000);
      // One row holding the batch as JSON (deliveries in due order, each distinct webhook once):
      // a single field to decode instead of some forty per delivery.
      const [row] = await run<{ batch: unknown }>(
        'claimDue',
        `WITH due AS (
           SELECT id FROM ${T.deliveries}
            WHERE state = 'pending' AND next_attempt_at <= $1::timestamptz
              AND (lease_until IS NULL OR lease_until <= $1::timestamptz)
            ORDER BY next_attempt_at, seq
            LIMIT ${claimLimit}
            FOR UPDATE SKIP LOCKED
         )
         , claimed AS (
           UPDATE ${T.deliveries} AS d
              SET lease_token = gen_random_uuid()::text, lease_until = $2::timestamptz
             FROM due WHERE d.id = due.id
           RETURNING ${columns(DELIVERY_COLUMNS, 'd')}
         )
         SELECT json_build_object(
           'deliveries', (SELECT json_agg(c ORDER BY c.next_attempt_at, c.seq) FROM claimed AS c),
           'webhooks', (SELECT json_agg(json_build_object(${WEBHOOK_COLUMNS.map((c) => `'${c}', w.${c}`).join(', ')}))
                          FROM ${T.webhooks} AS w
                         WHERE (w.scope, w.id) IN (SELECT scope, webhook_id FROM claimed))
         ) AS batch`,
        [iso(now), iso(new Date(now.getTime() + leaseMs))],
        { prepare: true },
      );
      const batch = json<{ deliveries: DeliveryRow[] | null; webhooks: WebhookRow[] | null }>(row?.batch);
      const webhooks = new Map<string, WebhookRecord>();
      for (const w of batch.webhooks ?? []) {
        // One record for all of the batch's deliveries to that webhook, frozen like the memory
        // store's snapshots so no consumer can change it under another.
        const record = toWebhook(w);
        Object.freeze(record.eventTypes);
        Object.freeze(record.limitEvents);
        Object.freeze(record.secrets);
        webhooks.set(`${w.id} ${w.scope}`, Object.freeze(record));
      }
      return (batch.deliveries ?? []).map((d) => {
        // Added to the delivery rather than spread into a new object (V8's slow path).
        const claimed = toDelivery(d) as ClaimedDelivery;
        claimed.leaseToken = d.lease_token ?? '';
        claimed.leaseUntil = date(d.lease_until);
        claimed.webhook = webhooks.get(`${d.webhook_id} ${d.scope}`) ?? null;
        return claimed;
      });
    },

    async recordAttempts({ items }) {
      return items.length === 0 ? [] : recordWithRetry(items);
    },

    async cancelClaimed({ deliveryId, leaseToken, reason, now }) {
      const rows = await run(
        'cancelClaimed',
        `UPDATE ${T.deliveries}
            SET state = 'canceled', last_error = $3, next_attempt_at = NULL, lease_token = NULL, lease_until = NULL,
                updated_at = $4::timestamptz
          WHERE id = $1 AND state = 'pending' AND lease_token = $2
          RETURNING 1 AS canceled`,
        [deliveryId, leaseToken, reason, iso(now)],
        { prepare: true },
      );
      return rows.length > 0;
    },

    async releaseClaim({ deliveryId, leaseToken, now }) {
      const rows = await run(
        'releaseClaim',
        `WITH released AS (
           UPDATE ${T.deliveries}
              SET next_attempt_at = $3::timestamptz, lease_token = NULL, lease_until = NULL, updated_at = $3::timestamptz
            WHERE id = $1 AND state = 'pending' AND lease_token = $2
            RETURNING 1 AS released
         )
         SELECT ${notifySql('true')} AS notified FROM released`,
        [deliveryId, leaseToken, iso(now)],
        { prepare: true },
      );
      return rows.length > 0;
    },

    async getDelivery({ scope, id }) {
      const rows = await run<DeliveryRow>(
        'getDelivery',
        `SELECT ${columns(DELIVERY_COLUMNS)} FROM ${T.deliveries} WHERE scope = $1 AND id = $2`,
        [scope, id],
      );
      return rows[0] ? toDelivery(rows[0]) : null;
    },

    async listDeliveries({ scope, webhookId, state, offset, limit }) {
      if (!Number.isSafeInteger(webhookId)) return { count: 0, items: [] };
      const filter = `scope = $1 AND webhook_id = $2 AND ($3::text IS NULL OR state = $3::text)`;
      const rows = await run<DeliveryRow>(
        'listDeliveries',
        `SELECT (SELECT count(*) FROM ${T.deliveries} WHERE ${filter}) AS total, page.*
           FROM (SELECT 1) AS one
           LEFT JOIN LATERAL (
             SELECT ${columns(DELIVERY_COLUMNS)} FROM ${T.deliveries} WHERE ${filter}
              ORDER BY seq DESC OFFSET $4 LIMIT $5
           ) AS page ON true`,
        [scope, webhookId, state ?? null, offset, limit],
      );
      const page = splitPage<DeliveryRow>(rows);
      return { count: page.count, items: page.rows.map(toDelivery) };
    },

    async listAttempts({ scope, deliveryId, offset, limit }) {
      const rows = await run<AttemptRow>(
        'listAttempts',
        `SELECT (SELECT count(*) FROM ${T.attempts} WHERE delivery_id = $2 AND scope = $1) AS total, page.*
           FROM (SELECT 1) AS one
           LEFT JOIN LATERAL (
             SELECT ${columns(ATTEMPT_COLUMNS)} FROM ${T.attempts} WHERE delivery_id = $2 AND scope = $1
              ORDER BY id DESC OFFSET $3 LIMIT $4
           ) AS page ON true`,
        [scope, deliveryId, offset, limit],
      );
      const page = splitPage<AttemptRow>(rows);
      return { count: page.count, items: page.rows.map(toAttempt) };
    },

    async redeliver({ scope, id, now }) {
      const rows = await run<DeliveryRow & { previous_state: DeliveryState }>(
        'redeliver',
        `WITH cur AS (
           SELECT id, state FROM ${T.deliveries} WHERE scope = $1 AND id = $2 FOR UPDATE
         ), upd AS (
           UPDATE ${T.deliveries} AS d
              SET state = 'pending', attempt_count = 0, next_attempt_at = $3::timestamptz, lease_token = NULL,
                  lease_until = NULL, updated_at = $3::timestamptz
             FROM cur WHERE d.id = cur.id AND cur.state <> 'pending'
           RETURNING ${columns(DELIVERY_COLUMNS, 'd')}
         )
         SELECT cur.state AS previous_state, ${notifySql('upd.id IS NOT NULL')} AS notified, upd.*
           FROM cur LEFT JOIN upd ON true`,
        [scope, id, iso(now)],
      );
      const row = rows[0];
      if (!row) return null;
      if (row.previous_state === 'pending') {
        throw new ConflictError(
          `Delivery ${JSON.stringify(id)} is still pending; it can be redelivered once it has finished.`,
          { field: 'state' },
        );
      }
      return toDelivery(row);
    },

    async cancelPending({ scope, webhookId, reason, now }) {
      if (!Number.isSafeInteger(webhookId)) return 0;
      const rows = await run<{ count: unknown }>(
        'cancelPending',
        `WITH canceled AS (
           UPDATE ${T.deliveries}
              SET state = 'canceled', last_error = $3, next_attempt_at = NULL, lease_token = NULL, lease_until = NULL,
                  updated_at = $4::timestamptz
            WHERE scope = $1 AND webhook_id = $2 AND state = 'pending'
              -- under a live lease it is its claimer's: in flight, or canceled by the worker itself
              AND (lease_until IS NULL OR lease_until <= $4::timestamptz)
            RETURNING 1 AS canceled
         )
         SELECT count(*) AS count FROM canceled`,
        [scope, webhookId, reason, iso(now)],
      );
      return Number(rows[0]?.count ?? 0);
    },

    async purgeAttempts({ before }) {
      const rows = await run<{ count: unknown }>(
        'purgeAttempts',
        `WITH purged AS (DELETE FROM ${T.attempts} WHERE started_at < $1::timestamptz RETURNING 1 AS purged)
         SELECT count(*) AS count FROM purged`,
        [iso(before)],
      );
      return Number(rows[0]?.count ?? 0);
    },

    async outboxSummary({ now }) {
      const rows = await run<{ due: unknown; pending: unknown; next: unknown }>(
        'outboxSummary',
        `SELECT count(*) FILTER (WHERE next_attempt_at <= $1::timestamptz
                                   AND (lease_until IS NULL OR lease_until <= $1::timestamptz)) AS due,
                count(*) AS pending, min(next_attempt_at) AS next
           FROM ${T.deliveries}
          WHERE state = 'pending' AND next_attempt_at IS NOT NULL`,
        [iso(now)],
        { prepare: true },
      );
      const row = rows[0];
      return {
        due: Number(row?.due ?? 0),
        pending: Number(row?.pending ?? 0),
        nextAttemptAt: dateOrNull(row?.next),
      };
    },

    async close() {
      await watcher?.close();
    },
  };
  if (watcher) store.watch = (listener) => watcher.watch(listener);
  return store;
}
