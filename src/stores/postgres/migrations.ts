import { HooklineError, ValidationError } from '../../errors.js';
import { type Queryable, withTransaction } from './driver.js';
import { wrapError } from './sql-errors.js';

/**
 * Numbered, forward-only, idempotent migrations of the PostgreSQL store, all in one schema
 * (default `hookline`). `migrate()` applies the missing ones in one transaction under a
 * transaction-level advisory lock, so several processes starting at once are safe, and
 * records each applied version in `<schema>.migrations`.
 */

/**
 * One schema change. `statements` are run in order, one statement per query.
 *
 * @example
 * ```ts
 * const m: Migration = { version: 2, name: 'x', statements: (s) => [`ALTER TABLE ${s}.webhooks ADD COLUMN x text`] };
 * ```
 */
export interface Migration {
  /** 1, 2, 3, …: applied in this order, each once. */
  version: number;
  /** A short description, stored next to the version. */
  name: string;
  /** The SQL, given the quoted schema name (e.g. `"hookline"`). */
  statements: (schema: string) => string[];
}

/** Longest schema name accepted (the notify channel `<schema>_deliveries` must fit in 63 bytes). */
export const MAX_SCHEMA_LENGTH = 48;

/**
 * The default schema of the PostgreSQL store: `'hookline'`.
 *
 * @example
 * ```ts
 * postgresStore({ db: pool, schema: DEFAULT_SCHEMA });
 * ```
 */
export const DEFAULT_SCHEMA = 'hookline';

/** Checks a schema name: letters, digits and `_`, not starting with a digit, at most 48 characters. */
export function checkSchemaName(schema: unknown): string {
  if (
    typeof schema !== 'string' ||
    !/^[A-Za-z_][A-Za-z0-9_]*$/.test(schema) ||
    schema.length > MAX_SCHEMA_LENGTH
  ) {
    throw new ValidationError([
      {
        path: ['schema'],
        code: 'invalid_schema',
        message: `A schema name must be 1 to ${MAX_SCHEMA_LENGTH} letters, digits or "_", not starting with a digit.`,
      },
    ]);
  }
  return schema;
}

/** Double-quotes an identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Every migration, oldest first. Never edit a published one: add a new version.
 *
 * @example
 * ```ts
 * for (const m of MIGRATIONS) console.log(m.version, m.name);
 * ```
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'webhooks, notifications, deliveries, attempts',
    statements: (s) => [
      `CREATE TABLE IF NOT EXISTS ${s}.webhooks (
        id bigint GENERATED ALWAYS AS IDENTITY,
        scope text NOT NULL,
        key text,
        enabled boolean NOT NULL,
        disabled_reason text,
        url text NOT NULL,
        method text NOT NULL,
        event_types jsonb NOT NULL,
        all_events boolean NOT NULL,
        limit_events jsonb NOT NULL,
        header_template text,
        body_template text,
        template_escape text,
        comment text,
        secrets jsonb NOT NULL,
        failing_since timestamptz,
        consecutive_failures integer NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        CONSTRAINT webhooks_pkey PRIMARY KEY (id)
      )`,
      // getWebhookByKey, and the duplicate-key rule (racing inserts included).
      `CREATE UNIQUE INDEX IF NOT EXISTS webhooks_scope_key ON ${s}.webhooks (scope, key) WHERE key IS NOT NULL`,
      // listWebhooks: a scope's webhooks in id order.
      `CREATE INDEX IF NOT EXISTS webhooks_scope_id ON ${s}.webhooks (scope, id)`,
      // One row per (scope, notification id): what makes enqueue idempotent.
      `CREATE TABLE IF NOT EXISTS ${s}.notifications (
        scope text NOT NULL,
        id text NOT NULL,
        delivery_ids jsonb NOT NULL,
        created_at timestamptz NOT NULL,
        CONSTRAINT notifications_pkey PRIMARY KEY (scope, id)
      )`,
      // seq: creation order (newest-first lists, oldest-first ties when claiming).
      // fillfactor leaves room for HOT updates of the lease columns, which claiming rewrites.
      `CREATE TABLE IF NOT EXISTS ${s}.deliveries (
        id text NOT NULL,
        seq bigint GENERATED ALWAYS AS IDENTITY,
        scope text NOT NULL,
        webhook_id bigint NOT NULL,
        notification_id text NOT NULL,
        type text NOT NULL,
        event text,
        request jsonb NOT NULL,
        state text NOT NULL CONSTRAINT deliveries_state_check
          CHECK (state IN ('pending', 'succeeded', 'failed', 'canceled')),
        attempt_count integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz,
        last_status integer,
        last_error text,
        lease_token text,
        lease_until timestamptz,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        CONSTRAINT deliveries_pkey PRIMARY KEY (id)
      ) WITH (fillfactor = 80)`,
      // claimDue and outboxSummary: only pending rows, in due order.
      `CREATE INDEX IF NOT EXISTS deliveries_due ON ${s}.deliveries (next_attempt_at, seq) WHERE state = 'pending'`,
      // listDeliveries and cancelPending: a webhook's deliveries, newest first.
      `CREATE INDEX IF NOT EXISTS deliveries_by_webhook ON ${s}.deliveries (scope, webhook_id, seq DESC)`,
      `CREATE TABLE IF NOT EXISTS ${s}.attempts (
        id bigint GENERATED ALWAYS AS IDENTITY,
        delivery_id text NOT NULL CONSTRAINT attempts_delivery_fkey
          REFERENCES ${s}.deliveries (id) ON DELETE CASCADE,
        scope text NOT NULL,
        webhook_id bigint NOT NULL,
        attempt_number integer NOT NULL,
        retry boolean NOT NULL,
        started_at timestamptz NOT NULL,
        duration_ms double precision NOT NULL,
        status integer NOT NULL,
        ok boolean NOT NULL,
        error text,
        response_body text NOT NULL,
        response_headers jsonb NOT NULL,
        CONSTRAINT attempts_pkey PRIMARY KEY (id)
      )`,
      // listAttempts (newest first) and recordAttempts' "any attempt before?".
      `CREATE INDEX IF NOT EXISTS attempts_by_delivery ON ${s}.attempts (delivery_id, id DESC)`,
      // purgeAttempts.
      `CREATE INDEX IF NOT EXISTS attempts_started_at ON ${s}.attempts (started_at)`,
    ],
  },
  {
    version: 2,
    name: 'webhook versions per scope',
    statements: (s) => [
      // webhooksVersion: bumped by every webhook write, so registries in other processes know
      // when their compiled match index of a scope is stale.
      `CREATE TABLE IF NOT EXISTS ${s}.webhook_versions (
        scope text NOT NULL,
        version bigint NOT NULL,
        CONSTRAINT webhook_versions_pkey PRIMARY KEY (scope)
      )`,
    ],
  },
  {
    version: 3,
    name: 'outbox stats indexes',
    statements: (s) => [
      // outboxStats of one scope: its pending rows without reading the other scopes'. Claims stay HOT updates: they change only the lease
      // columns, which no index holds. Built inside the migration's transaction, so on a large
      // existing outbox writes to deliveries wait for it (0.2 s for 1 000 000 deliveries, 100 000
      // of them pending, in bench/stats).
      `CREATE INDEX IF NOT EXISTS deliveries_pending_by_scope ON ${s}.deliveries (scope, next_attempt_at)
        WHERE state = 'pending'`,
      // outboxStats: the failing webhooks, longest failing first, without reading healthy ones.
      `CREATE INDEX IF NOT EXISTS webhooks_failing ON ${s}.webhooks (failing_since, id)
        WHERE failing_since IS NOT NULL`,
    ],
  },
  {
    version: 4,
    name: 'trace context of deliveries',
    statements: (s) => [
      // The emit's W3C traceparent, so every attempt's span links to the emit that made the
      // delivery. Nullable and without a default: adding it rewrites nothing.
      `ALTER TABLE ${s}.deliveries ADD COLUMN IF NOT EXISTS trace_context text`,
    ],
  },
  {
    version: 5,
    name: 'finished deliveries index for bulk recovery',
    statements: (s) => [
      // recoverDeliveries: a scope's failed and canceled deliveries by the time they finished
      // (updated_at: a finished row is not written again until it is redelivered), then id, so
      // each batch is one range scan from the previous batch's last row. The ids sort in
      // binary order ("C"), as the statement's keyset does. Partial: pending and succeeded
      // rows, most of the table, are not in it; claims stay HOT (they write only the lease
      // columns). Built inside the migration's transaction like version 3: on a large outbox,
      // writes to deliveries wait for it.
      `CREATE INDEX IF NOT EXISTS deliveries_finished ON ${s}.deliveries (scope, updated_at, id COLLATE "C")
        WHERE state IN ('failed', 'canceled')`,
    ],
  },
  {
    version: 6,
    name: 'delivery log indexes',
    // The delivery log (searchDeliveries: newest first by (created_at, seq), keyset-paged) and
    // webhookActivity. Each index on deliveries is written by every enqueue and by every
    // update that is not HOT (state changes, retries, a claim on a full page), so the log gets
    // two new ones and one replaced, no more; docs/postgres.md has the plans, timings and the
    // write cost. Built inside the migration's transaction like versions 3 and 5: on a large
    // table, writes to deliveries and attempts wait for the builds (about 2 s in all for 250 000
    // deliveries and 1 000 000 attempts), and reads of deliveries too, as the first statement
    // drops an index.
    statements: (s) => [
      // A webhook's deliveries by (created_at, seq) instead of seq alone: the log filtered by
      // webhook, listDeliveries (which now orders the same way) and cancelPending. Same name,
      // so nothing that names it changes; a replacement rather than a second index per webhook.
      `DROP INDEX IF EXISTS ${s}.deliveries_by_webhook`,
      `CREATE INDEX IF NOT EXISTS deliveries_by_webhook ON ${s}.deliveries (scope, webhook_id, created_at, seq)`,
      // The log of a scope, newest first: unfiltered pages, pages after a cursor or in a time
      // range, and filters on event type or on succeeded (most rows), checked row by row.
      `CREATE INDEX IF NOT EXISTS deliveries_log ON ${s}.deliveries (scope, created_at, seq)`,
      // The log filtered to failed or canceled deliveries (one range scan per state). Partial:
      // enqueues, claims and successes never write it, only a delivery that ends badly.
      `CREATE INDEX IF NOT EXISTS deliveries_log_failed ON ${s}.deliveries (scope, state, created_at, seq)
        WHERE state IN ('failed', 'canceled')`,
      // webhookActivity: a webhook's attempts in a window, counted, bucketed and their duration
      // percentiles taken from the index alone (index-only scan), and its newest attempt (the
      // last entry; id breaks ties of started_at: the one recorded last).
      `CREATE INDEX IF NOT EXISTS attempts_activity ON ${s}.attempts (scope, webhook_id, started_at, id)
        INCLUDE (duration_ms, status, ok)`,
    ],
  },
  {
    version: 7,
    name: 'ordered delivery lines',
    // Ordered delivery (webhooks with `ordering: 'fifo'`): docs/postgres.md, "Ordered lines".
    // Every new column has a constant default or none, so adding them rewrites nothing (PostgreSQL
    // 11+). The new indexes on deliveries are partial and hold no column a claim writes (the lease
    // columns), so claims stay HOT updates; an unordered delivery is in none of them.
    statements: (s) => [
      `ALTER TABLE ${s}.webhooks
         ADD COLUMN IF NOT EXISTS ordering text NOT NULL DEFAULT 'none'
           CONSTRAINT webhooks_ordering_check CHECK (ordering IN ('none', 'fifo')),
         ADD COLUMN IF NOT EXISTS ordering_on_failure text NOT NULL DEFAULT 'continue'
           CONSTRAINT webhooks_ordering_on_failure_check CHECK (ordering_on_failure IN ('continue', 'pause'))`,
      // line_key: NULL for an unordered delivery, '' for the whole webhook's line, else the
      // notification's orderingKey. line_seq: the position in the line (emit order; a redelivery
      // takes a new one). pauses_line: a failed delivery its line waits behind.
      `ALTER TABLE ${s}.deliveries
         ADD COLUMN IF NOT EXISTS line_key text,
         ADD COLUMN IF NOT EXISTS line_seq bigint,
         ADD COLUMN IF NOT EXISTS pauses_line boolean NOT NULL DEFAULT false`,
      `CREATE SEQUENCE IF NOT EXISTS ${s}.deliveries_line_seq AS bigint`,
      // The pending deliveries of each line in position order: a line's head, whether a delivery
      // has one before it, the next one to promote, how many wait ahead.
      `CREATE INDEX IF NOT EXISTS deliveries_line ON ${s}.deliveries (scope, webhook_id, line_key, line_seq)
        WHERE state = 'pending' AND line_key IS NOT NULL`,
      // The deliveries waiting behind their line (pending, no next attempt): what the repair reads.
      `CREATE INDEX IF NOT EXISTS deliveries_held ON ${s}.deliveries (scope, webhook_id, line_key, line_seq)
        WHERE state = 'pending' AND next_attempt_at IS NULL AND line_key IS NOT NULL`,
      // The failed deliveries pausing their line.
      `CREATE INDEX IF NOT EXISTS deliveries_line_paused ON ${s}.deliveries (scope, webhook_id, line_key)
        WHERE pauses_line`,
      // One row per line while a claim of it is alive (or until the next claim, once its lease
      // has expired): claims insert it with ON CONFLICT, which reads the latest committed row,
      // so two claims of one line can never both be alive.
      `CREATE TABLE IF NOT EXISTS ${s}.lines (
        scope text NOT NULL,
        webhook_id bigint NOT NULL,
        line_key text NOT NULL,
        delivery_id text NOT NULL,
        lease_until timestamptz NOT NULL,
        CONSTRAINT lines_pkey PRIMARY KEY (scope, webhook_id, line_key)
      )`,
    ],
  },
];

/**
 * The newest schema version this copy of hookline knows.
 *
 * @example
 * ```ts
 * const { to } = await migrate({ db: pool }); // to === LATEST_SCHEMA_VERSION
 * ```
 */
export const LATEST_SCHEMA_VERSION: number = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

/**
 * Options of {@link migrate}.
 *
 * @example
 * ```ts
 * await migrate({ db: pool, schema: 'hookline' });
 * ```
 */
export interface MigrateOptions {
  /** Where to run: a `pg.Pool`, `pg.Client`, or `PGlite` (see `withTransaction`). */
  db: Queryable;
  /** The schema holding hookline's tables. Default `'hookline'`. Created when missing. */
  schema?: string;
}

/**
 * What {@link migrate} did.
 *
 * @example
 * ```ts
 * const { applied } = await migrate({ db: pool }); // [] when already up to date
 * ```
 */
export interface MigrateResult {
  /** The schema version before. 0 for a new schema. */
  from: number;
  /** The schema version now: {@link LATEST_SCHEMA_VERSION}. */
  to: number;
  /** The versions applied by this call (empty when another process already did it). */
  applied: number[];
}

function newerSchemaError(schema: string, version: number): HooklineError {
  return new HooklineError(
    'store_failed',
    `The PostgreSQL schema "${schema}" is at version ${version}, newer than this hookline knows ` +
      `(${LATEST_SCHEMA_VERSION}): a newer hookline has migrated this database. Upgrade hookline.`,
  );
}

/** Reads the recorded schema version: 0 when hookline's tables are not there. */
export async function schemaVersion(db: Queryable, schema: string): Promise<number> {
  const table = `${quoteIdent(schema)}.migrations`;
  const { rows } = await db.query('SELECT to_regclass($1) IS NOT NULL AS present', [table]);
  if (!(rows[0] as { present?: boolean } | undefined)?.present) return 0;
  const result = await db.query(`SELECT coalesce(max(version), 0) AS version FROM ${table}`);
  return Number((result.rows[0] as { version: unknown } | undefined)?.version ?? 0);
}

/** Throws unless the schema is at exactly the version this hookline knows. */
export async function assertSchemaVersion(db: Queryable, schema: string): Promise<void> {
  const version = await schemaVersion(db, schema);
  if (version > LATEST_SCHEMA_VERSION) throw newerSchemaError(schema, version);
  if (version < LATEST_SCHEMA_VERSION) {
    throw new HooklineError(
      'store_failed',
      `The PostgreSQL schema "${schema}" is at version ${version}, this hookline needs ${LATEST_SCHEMA_VERSION}: ` +
        'run `await store.migrate()` (or `migrate({ db, schema })`) first.',
    );
  }
}

/**
 * Creates or upgrades hookline's tables in `schema`: applies every missing migration in one
 * transaction under `pg_advisory_xact_lock`, so two processes migrating at once are safe (the
 * second waits, then finds nothing to do). Refuses, with a `store_failed` error, a schema that
 * a newer hookline has migrated. Idempotent: calling it again does nothing.
 *
 * `store.migrate()` does the same for a store's own `db` and `schema`.
 *
 * @example
 * ```ts
 * import { migrate } from 'hookline/postgres';
 * await migrate({ db: pool, schema: 'hookline' }); // → { from: 0, to: 1, applied: [1] }
 * ```
 */
export async function migrate(options: MigrateOptions): Promise<MigrateResult> {
  const schema = checkSchemaName(options.schema ?? DEFAULT_SCHEMA);
  const s = quoteIdent(schema);
  try {
    return await withTransaction(options.db, async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', [
        'hookline.migrate',
        schema,
      ]);
      const { rows } = await tx.query('SELECT to_regclass($1) IS NOT NULL AS present', [`${s}.migrations`]);
      if (!(rows[0] as { present?: boolean } | undefined)?.present) {
        // Only create what is missing, so a role without CREATE can run an already-migrated schema.
        const found = await tx.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
        if (found.rows.length === 0) await tx.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
        await tx.query(
          `CREATE TABLE IF NOT EXISTS ${s}.migrations (
            version integer NOT NULL,
            name text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT migrations_pkey PRIMARY KEY (version)
          )`,
        );
      }
      const from = await schemaVersion(tx, schema);
      if (from > LATEST_SCHEMA_VERSION) throw newerSchemaError(schema, from);
      const applied: number[] = [];
      for (const migration of MIGRATIONS) {
        if (migration.version <= from) continue;
        for (const statement of migration.statements(s)) await tx.query(statement);
        await tx.query(`INSERT INTO ${s}.migrations (version, name) VALUES ($1, $2)`, [
          migration.version,
          migration.name,
        ]);
        applied.push(migration.version);
      }
      return { from, to: Math.max(from, LATEST_SCHEMA_VERSION), applied };
    });
  } catch (error) {
    throw wrapError(error, { schema, operation: 'migrate' });
  }
}

/**
 * The migrations {@link migrate} would apply to `schema` now, without applying anything (read
 * only): the recorded version and the missing migrations, oldest first. Throws `store_failed`
 * for a schema a newer hookline has migrated.
 *
 * @example
 * ```ts
 * const { current, pending } = await pendingMigrations({ db: pool, schema: 'hookline' });
 * for (const m of pending) console.log(m.version, m.name);
 * ```
 */
export async function pendingMigrations(
  options: MigrateOptions,
): Promise<{ current: number; pending: { version: number; name: string }[] }> {
  const schema = checkSchemaName(options.schema ?? DEFAULT_SCHEMA);
  let current: number;
  try {
    current = await schemaVersion(options.db, schema);
  } catch (error) {
    throw wrapError(error, { schema, operation: 'migrate' });
  }
  if (current > LATEST_SCHEMA_VERSION) throw newerSchemaError(schema, current);
  const pending = MIGRATIONS.filter((m) => m.version > current).map(({ version, name }) => ({
    version,
    name,
  }));
  return { current, pending };
}
