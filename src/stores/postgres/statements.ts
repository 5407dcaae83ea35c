/**
 * Every SQL statement of the PostgreSQL store, as pure builders: functions of the schema's
 * table names and the notify setting (and, for two statements, of the call's shape) that
 * return a {@link Statement}, with no I/O. The store (`store.ts`) runs them and maps their rows
 * (`rows.ts`). Each builder documents its parameters (`$1`, `$2`, …) and what it returns.
 *
 * Where a domain rule of `stores/rules.ts` has to live inside a statement, a comment beside
 * the SQL names the function it mirrors; the conformance suite holds both to the same behaviour.
 *
 * A statement's text includes its schema, and a prepared statement is named after its text
 * alone (see `preparedStatementName` in `runner.ts`), so equal texts share a name across stores.
 *
 * @module
 */
import { DELIVERY_STATES, type DeliveryState } from '../../model.js';
import { quoteIdent } from './migrations.js';
import { ATTEMPT_COLUMNS, DELIVERY_COLUMNS, WEBHOOK_COLUMNS } from './rows.js';

/**
 * A statement to run: its text, the operation it serves (named in errors), and whether it is
 * hot and fixed enough to run as a named prepared statement on `pg`.
 */
export interface Statement {
  /** The store method it serves, e.g. `claimDue`; errors say "<name> failed". */
  readonly name: string;
  readonly text: string;
  /** Run as a named prepared statement where the driver supports it (planned once per connection). */
  readonly prepare: boolean;
}

/** What every builder needs: the schema's quoted table names and the notify channel. */
export interface StatementContext {
  readonly webhooks: string;
  readonly notifications: string;
  readonly deliveries: string;
  readonly attempts: string;
  readonly versions: string;
  /** The live claims of ordered lines (migration 7). */
  readonly lines: string;
  /** The sequence of line positions, as a `regclass` literal for `nextval`. */
  readonly lineSeq: string;
  /** The LISTEN/NOTIFY channel, `<schema>_deliveries` in lower case. */
  readonly channel: string;
  /** Whether statements send `pg_notify` at all (`PostgresStoreOptions.notify`). */
  readonly notify: boolean;
}

/**
 * The context of a store's statements.
 *
 * @example
 * ```ts
 * const sql = statementContext('hookline', true);
 * claimDue(sql, 32).text; // WITH due AS (SELECT id FROM "hookline".deliveries …
 * ```
 */
export function statementContext(schema: string, notify: boolean): StatementContext {
  const s = quoteIdent(schema);
  return {
    webhooks: `${s}.webhooks`,
    notifications: `${s}.notifications`,
    deliveries: `${s}.deliveries`,
    attempts: `${s}.attempts`,
    versions: `${s}.webhook_versions`,
    lines: `${s}.lines`,
    lineSeq: `'${s}.deliveries_line_seq'::regclass`,
    channel: `${schema}_deliveries`.toLowerCase(),
    notify,
  };
}

const statement = (name: string, text: string, prepare = false): Statement => ({ name, text, prepare });

const columns = (list: readonly string[], alias?: string) =>
  list.map((c) => (alias ? `${alias}.${c}` : c)).join(', ');

// Column lists, joined once.
const WEBHOOK_LIST = columns(WEBHOOK_COLUMNS);
const DELIVERY_LIST = columns(DELIVERY_COLUMNS);
const DELIVERY_LIST_D = columns(DELIVERY_COLUMNS, 'd');
const ATTEMPT_LIST = columns(ATTEMPT_COLUMNS);
const WEBHOOK_JSON_W = WEBHOOK_COLUMNS.map((c) => `'${c}', w.${c}`).join(', ');

/** A wake-up on the channel when `condition` holds (SQL); `NULL` with notify off. */
function notifyWhen(sql: StatementContext, condition: string): string {
  return sql.notify ? `CASE WHEN ${condition} THEN pg_notify('${sql.channel}', '') END` : 'NULL';
}

/** Tells every process's watchers of a webhook change (the row is `w`); see `parseSignal` in watcher.ts. */
function notifyWebhook(sql: StatementContext, enabled: string): string {
  return sql.notify
    ? `pg_notify('${sql.channel}', json_build_object('s', w.scope, 'w', w.id, 'e', ${enabled})::text)`
    : 'NULL';
}

/** A CTE that bumps the scope's webhook version when `source` (a CTE with a `scope` column) has rows. */
function bumpVersion(sql: StatementContext, source: string): string {
  return `bump AS (
           INSERT INTO ${sql.versions} AS v (scope, version) SELECT DISTINCT scope, 1 FROM ${source}
           ON CONFLICT (scope) DO UPDATE SET version = v.version + 1
         )`;
}

/**
 * `AND p.id <> <id>` in a correlated `EXISTS` probe of deliveries `p`: a condition on the outer
 * row that is no equality, so PostgreSQL never turns the probe into a hashed subplan, which
 * reads every matching row of the table once (all pending deliveries of a scope, all paused
 * ones) instead of one index probe per row; it chooses that for many rows, and a prepared
 * statement keeps the choice. `id` (SQL) is the outer delivery's id, never the row looked for.
 */
const probeOnly = (id: string): string => `AND p.id <> ${id}`;

/**
 * A `LEFT JOIN LATERAL` that probes deliveries `p` for one row matching `where` (SQL on `p` and
 * the outer rows): `<alias>.found` is null when there is none. A lateral subquery with `LIMIT 1`
 * is always run per outer row, through an index, where a `NOT EXISTS` in a `WHERE` may be
 * planned as a hash anti join that reads every matching row of the table.
 */
function probe(sql: StatementContext, alias: string, where: string): string {
  return `LEFT JOIN LATERAL (SELECT true AS found FROM ${sql.deliveries} AS p WHERE ${where} LIMIT 1) AS ${alias} ON true`;
}

/**
 * The SQL condition "the line (`scope`, `webhookId`, `lineKey`: SQL expressions) has no pending
 * delivery and is not paused": a delivery (`id`, SQL) joining it is due at once. One probe of
 * `deliveries_line` and one of `deliveries_line_paused` per row.
 */
function lineOpen(
  sql: StatementContext,
  scope: string,
  webhookId: string,
  lineKey: string,
  id: string,
): string {
  const line = `p.scope = ${scope} AND p.webhook_id = ${webhookId} AND p.line_key = ${lineKey}`;
  return `NOT EXISTS (SELECT 1 FROM ${sql.deliveries} AS p WHERE ${line} AND p.state = 'pending' ${probeOnly(id)})
                AND NOT EXISTS (SELECT 1 FROM ${sql.deliveries} AS p WHERE ${line} AND p.pauses_line ${probeOnly(id)})`;
}

/**
 * A CTE named `unlined` that ends the line claims of the deliveries in `source` (a CTE with
 * `id`, `scope`, `webhook_id`, `line_key`): deletes their `lines` rows, if still theirs.
 * Nothing for unordered deliveries.
 */
function unline(sql: StatementContext, source: string): string {
  return `unlined AS (
           DELETE FROM ${sql.lines} AS l USING ${source} AS m
            WHERE m.line_key IS NOT NULL AND l.scope = m.scope AND l.webhook_id = m.webhook_id
              AND l.line_key = m.line_key AND l.delivery_id = m.id
         )`;
}

/**
 * A CTE named `promoted` that moves the lines of the ordered deliveries in `source` on (a CTE
 * with `id`, `scope`, `webhook_id`, `line_key`, and the rows that finished: `finished`, a
 * condition on `m`): the next pending delivery of each line (the lowest position, not the one
 * that finished, which the statement's snapshot still shows pending) becomes due at `now` (an
 * SQL expression on `m`) if it was waiting and the line is not paused. Returns one row per
 * promoted delivery. Nothing for unordered deliveries.
 */
function promoteNext(sql: StatementContext, source: string, finished: string, now: string): string {
  return `promoted AS (
           UPDATE ${sql.deliveries} AS d SET next_attempt_at = ${now}, updated_at = ${now}
             FROM ${source} AS m
             CROSS JOIN LATERAL (
               SELECT n.id FROM ${sql.deliveries} AS n
                WHERE n.scope = m.scope AND n.webhook_id = m.webhook_id AND n.line_key = m.line_key
                  AND n.state = 'pending' AND n.id <> m.id
                ORDER BY n.line_seq LIMIT 1
             ) AS nx
             ${probe(sql, 'paused', 'p.scope = m.scope AND p.webhook_id = m.webhook_id AND p.line_key = m.line_key AND p.pauses_line')}
            WHERE m.line_key IS NOT NULL AND ${finished} AND paused.found IS NULL
              AND d.id = nx.id AND d.state = 'pending' AND d.next_attempt_at IS NULL
           RETURNING 1
         )`;
}

/**
 * Inserts a webhook and bumps its scope's version. `$1` scope, `$2` key, `$3` enabled, `$4`
 * disabled reason, `$5` url, `$6` method, `$7` event types (JSON), `$8` all events, `$9` limit
 * events (JSON), `$10` header template, `$11` body template, `$12` template escape, `$13`
 * comment, `$14` secrets (JSON), `$15` now, `$16` ordering, `$17` ordering on failure.
 * Returns the `WebhookRow`.
 */
export function insertWebhook(sql: StatementContext): Statement {
  return statement(
    'insertWebhook',
    `WITH w AS (
           INSERT INTO ${sql.webhooks} (scope, key, enabled, disabled_reason, url, method, event_types, all_events,
             limit_events, header_template, body_template, template_escape, comment, secrets, consecutive_failures,
             created_at, updated_at, ordering, ordering_on_failure)
           VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9::jsonb, $10, $11, $12, $13, $14::jsonb, 0,
             $15::timestamptz, $15::timestamptz, $16, $17)
           RETURNING ${WEBHOOK_LIST}
         ), ${bumpVersion(sql, 'w')}
         SELECT * FROM w`,
  );
}

/** One webhook. `$1` scope, `$2` id. Returns its `WebhookRow`, or none. */
export function getWebhook(sql: StatementContext): Statement {
  return statement('getWebhook', `SELECT ${WEBHOOK_LIST} FROM ${sql.webhooks} WHERE scope = $1 AND id = $2`);
}

/** One webhook by key. `$1` scope, `$2` key. Returns its `WebhookRow`, or none. */
export function getWebhookByKey(sql: StatementContext): Statement {
  return statement(
    'getWebhookByKey',
    `SELECT ${WEBHOOK_LIST} FROM ${sql.webhooks} WHERE scope = $1 AND key = $2`,
  );
}

/**
 * A page of a scope's webhooks by id. `$1` scope, `$2` enabled (or null for all), `$3` offset,
 * `$4` limit (null: all). Returns `WebhookRow`s each with `total` (see `toPage`).
 */
export function listWebhooks(sql: StatementContext): Statement {
  return statement(
    'listWebhooks',
    `SELECT (SELECT count(*) FROM ${sql.webhooks}
                  WHERE scope = $1 AND ($2::boolean IS NULL OR enabled = $2::boolean)) AS total, page.*
           FROM (SELECT 1) AS one
           LEFT JOIN LATERAL (
             SELECT ${WEBHOOK_LIST} FROM ${sql.webhooks}
              WHERE scope = $1 AND ($2::boolean IS NULL OR enabled = $2::boolean)
              ORDER BY id OFFSET $3 LIMIT $4
           ) AS page ON true`,
  );
}

/** Webhook fields a change may set: property → [column, SQL type]. */
const CHANGEABLE: Readonly<Record<string, readonly [string, string]>> = {
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
  ordering: ['ordering', 'text'],
  orderingOnFailure: ['ordering_on_failure', 'text'],
};

/**
 * Updates the webhook fields present in `changes` (unknown properties and `undefined` values
 * are skipped), bumps the scope's version and notifies watchers. `$1` scope, `$2` id, `$3`
 * now, then `values` as `$4`… (JSON columns as text). Returns the `WebhookRow`, or none.
 */
export function updateWebhook(
  sql: StatementContext,
  changes: Readonly<Record<string, unknown>>,
): { statement: Statement; values: unknown[] } {
  const values: unknown[] = [];
  const sets = ['updated_at = $3::timestamptz'];
  for (const [property, value] of Object.entries(changes)) {
    const column = CHANGEABLE[property];
    if (!column || value === undefined) continue;
    values.push(column[1] === 'jsonb' ? JSON.stringify(value) : value);
    sets.push(`${column[0]} = $${values.length + 3}::${column[1]}`);
  }
  return {
    statement: statement(
      'updateWebhook',
      `WITH w AS (
           UPDATE ${sql.webhooks} SET ${sets.join(', ')} WHERE scope = $1 AND id = $2
           RETURNING ${WEBHOOK_LIST}
         ), ${bumpVersion(sql, 'w')}
         SELECT *, ${notifyWebhook(sql, 'w.enabled')} AS notified FROM w`,
    ),
    values,
  };
}

/** The scope's webhook version. `$1` scope. Returns `{ version }` (bigint), or none before any write. */
export function webhooksVersion(sql: StatementContext): Statement {
  return statement('webhooksVersion', `SELECT version FROM ${sql.versions} WHERE scope = $1`, true);
}

/**
 * Webhooks of every scope with an id past `$1`, lowest first, at most `$2` (through the
 * primary key). Returns `WebhookRow`s.
 */
export function scanWebhooks(sql: StatementContext): Statement {
  return statement(
    'scanWebhooks',
    `SELECT ${WEBHOOK_LIST} FROM ${sql.webhooks} WHERE id > $1 ORDER BY id LIMIT $2`,
  );
}

/**
 * Replaces one webhook's secrets while they are still the expected ones (a compare-and-swap
 * on the jsonb array: same values, same order). Not a user edit: `updated_at` and the scope's
 * version stay, and no watcher is told. `$1` scope, `$2` id, `$3` expected secrets (JSON),
 * `$4` new secrets (JSON). Returns one row when it replaced.
 */
export function replaceWebhookSecrets(sql: StatementContext): Statement {
  return statement(
    'replaceWebhookSecrets',
    `UPDATE ${sql.webhooks} SET secrets = $4::jsonb
          WHERE scope = $1 AND id = $2 AND secrets = $3::jsonb
          RETURNING 1 AS replaced`,
  );
}

/**
 * Deletes a webhook, bumps the scope's version and notifies watchers. `$1` scope, `$2` id.
 * Returns one row when it existed.
 */
export function deleteWebhook(sql: StatementContext): Statement {
  return statement(
    'deleteWebhook',
    `WITH w AS (DELETE FROM ${sql.webhooks} WHERE scope = $1 AND id = $2 RETURNING scope, id), ${bumpVersion(sql, 'w')}
         SELECT 1 AS gone, ${notifyWebhook(sql, 'NULL::boolean')} AS notified FROM w`,
  );
}

/**
 * The shape of an enqueue's delivery rows: unordered (the statement of before migration 7), or
 * with ordered deliveries (line key, position, and whether each opens its line).
 */
interface EnqueueShape {
  /** The source of the rows `e` (`e.v` an `EnqueueRow`). */
  readonly from: string;
  /** The extra columns inserted (after `trace_context`). */
  readonly columns: string;
  /** Their values. */
  readonly values: string;
  /** `next_attempt_at`. */
  readonly dueAt: string;
  /** What the INSERT returns, and the condition on it "a delivery due now went in". */
  readonly returning: string;
  readonly pending: string;
}

/**
 * The rows of an enqueue of scope `scope` (SQL) at `now` (SQL) from `source` (a FROM list
 * that yields `e(v, ord)`, then `partition`: SQL that tells lines apart besides webhook and
 * key, e.g. the scope). Unordered: a delivery is due at `now` unless it failed at once.
 * Ordered: an ordered delivery is due at `now` when it is the first of its line among the rows
 * (`rank` 1: the statement cannot see its own rows) and its line has no pending delivery and
 * is not paused; else it waits (no `next_attempt_at`). Positions (`line_seq`) are taken in the
 * statement's order (`nextval` in the select list runs after its ORDER BY).
 */
function enqueueShape(
  sql: StatementContext,
  ordered: boolean,
  input: { scope: string; now: string; source: string; select: string; partition: string; order: string },
): EnqueueShape {
  const { scope, now } = input;
  if (!ordered) {
    return {
      from: input.source,
      columns: '',
      values: '',
      dueAt: `CASE WHEN e.v->>'failure' IS NULL THEN ${now} END`,
      returning: 'state',
      pending: "EXISTS (SELECT 1 FROM ins WHERE state = 'pending')",
    };
  }
  return {
    from: `(SELECT ${input.select}, row_number() OVER (PARTITION BY ${input.partition}e.v->>'webhookId', e.v->>'lineKey'
                                                ORDER BY ${input.order}) AS rank
                      FROM ${input.source}) AS e`,
    columns: ', line_key, line_seq',
    values: `, e.v->>'lineKey', CASE WHEN e.v->>'lineKey' IS NOT NULL THEN nextval(${sql.lineSeq}) END`,
    dueAt: `CASE WHEN e.v->>'failure' IS NOT NULL THEN NULL
                    WHEN e.v->>'lineKey' IS NULL THEN ${now}
                    WHEN e.rank = 1
                      AND ${lineOpen(sql, scope, "(e.v->>'webhookId')::bigint", "e.v->>'lineKey'", "e.v->>'id'")} THEN ${now} END`,
    returning: 'next_attempt_at',
    pending: 'EXISTS (SELECT 1 FROM ins WHERE next_attempt_at IS NOT NULL)',
  };
}

/**
 * Stores a notification and its deliveries in one statement: the notification row decides
 * (`ON CONFLICT DO NOTHING`) whether the deliveries go in, and both commit or roll back
 * together (with the host's transaction if any). `$1` scope, `$2` notification id, `$3` the
 * delivery ids (JSON array), `$4` now, `$5` the deliveries (`EnqueueRow`s as JSON), `$6` the
 * scope's webhook version they were matched against, or null. Returns `{ created, pending,
 * stale }`: `pending` when a delivery due now went in; `stale` when `$6` is not the scope's
 * version (nothing was stored: the registry matches again). The check saves the registry a
 * statement per emit that read the version first (see `enqueueChecksVersion` in types.ts).
 *
 * `ordered` (some deliveries have a `lineKey`): an ordered delivery is due now only when it
 * opens its line, else it waits behind it (see `enqueueShape`). Without, the statement is the
 * one of before ordered delivery.
 *
 * `wake: 'in-statement'` (the host's transaction) also sends the wake-up, `pg_notify`, in the
 * statement, so it goes out when that transaction commits; `'after'` (the store's own
 * connection) leaves it to the store's waker, which sends it after the commit (see `wake.ts`:
 * a notify in every emit made concurrent emits commit one at a time).
 */
export function enqueue(sql: StatementContext, wake: 'in-statement' | 'after', ordered = false): Statement {
  const shape = enqueueShape(sql, ordered, {
    scope: '$1',
    now: '$4::timestamptz',
    source: 'jsonb_array_elements($5::jsonb) WITH ORDINALITY AS e(v, ord)',
    select: 'e.v, e.ord',
    partition: '',
    order: 'e.ord',
  });
  return statement(
    'enqueue',
    `WITH fresh AS (
             SELECT $6::bigint IS NULL
                    OR $6::bigint = coalesce((SELECT version FROM ${sql.versions} WHERE scope = $1), 0) AS ok
           ), note AS (
             INSERT INTO ${sql.notifications} (scope, id, delivery_ids, created_at)
             SELECT $1, $2, $3::jsonb, $4::timestamptz FROM fresh WHERE fresh.ok
             ON CONFLICT (scope, id) DO NOTHING
             RETURNING 1 AS created
           ), ins AS (
             INSERT INTO ${sql.deliveries} (id, scope, webhook_id, notification_id, type, event, request, state,
               attempt_count, next_attempt_at, last_error, created_at, updated_at, trace_context${shape.columns})
             SELECT e.v->>'id', $1, (e.v->>'webhookId')::bigint, $2, e.v->>'type', e.v->>'event', e.v->'request',
               CASE WHEN e.v->>'failure' IS NULL THEN 'pending' ELSE 'failed' END, 0,
               ${shape.dueAt}, e.v->>'failure',
               $4::timestamptz, $4::timestamptz, e.v->>'traceContext'${shape.values}
               FROM ${shape.from}
              WHERE EXISTS (SELECT 1 FROM note)
              ORDER BY e.ord
             RETURNING ${shape.returning}
           )
           SELECT EXISTS (SELECT 1 FROM note) AS created, ${shape.pending} AS pending,
                  NOT (SELECT ok FROM fresh) AS stale,
                  ${wake === 'in-statement' ? notifyWhen(sql, shape.pending) : 'NULL'} AS notified`,
    true,
  );
}

/**
 * Stores several notifications and their deliveries in one statement (`registry.emitMany`):
 * each notification row decides (`ON CONFLICT DO NOTHING`) whether its deliveries go in, and
 * everything commits or rolls back together. `$1` the notifications as a JSON array of
 * `{ ord, scope, id, delivery_ids, deliveries }` (`deliveries`: `EnqueueRow`s; the (scope, id)
 * pairs distinct), `$2` now. Returns one row, `{ created, pending }`: `created` the `ord`s of
 * the notifications stored now (JSON array), `pending` whether a delivery due now went in.
 * `wake` and `ordered` as for {@link enqueue} (positions in the batch's order; only the
 * deliveries of notifications stored now count as the first of a line).
 */
export function enqueueMany(
  sql: StatementContext,
  wake: 'in-statement' | 'after',
  ordered = false,
): Statement {
  const shape = enqueueShape(sql, ordered, {
    scope: ordered ? 'e.scope' : 'x.scope',
    now: '$2::timestamptz',
    source: `x JOIN note ON note.scope = x.scope AND note.id = x.id
               CROSS JOIN LATERAL jsonb_array_elements(x.deliveries) WITH ORDINALITY AS e(v, o)`,
    select: 'x.scope, x.id, x.ord, e.v, e.o',
    partition: 'x.scope, ',
    order: 'x.ord, e.o',
  });
  // The ordered shape's rows come from a subquery that carries x's columns as e's.
  const x = ordered ? 'e' : 'x';
  return statement(
    'enqueueMany',
    `WITH x AS (
             SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(ord integer, scope text, id text, delivery_ids jsonb,
               deliveries jsonb)
           ), note AS (
             INSERT INTO ${sql.notifications} (scope, id, delivery_ids, created_at)
             SELECT scope, id, delivery_ids, $2::timestamptz FROM x ORDER BY ord
             ON CONFLICT (scope, id) DO NOTHING
             RETURNING scope, id
           ), ins AS (
             INSERT INTO ${sql.deliveries} (id, scope, webhook_id, notification_id, type, event, request, state,
               attempt_count, next_attempt_at, last_error, created_at, updated_at, trace_context${shape.columns})
             SELECT e.v->>'id', ${x}.scope, (e.v->>'webhookId')::bigint, ${x}.id, e.v->>'type', e.v->>'event',
               e.v->'request', CASE WHEN e.v->>'failure' IS NULL THEN 'pending' ELSE 'failed' END, 0,
               ${shape.dueAt}, e.v->>'failure',
               $2::timestamptz, $2::timestamptz, e.v->>'traceContext'${shape.values}
               FROM ${shape.from}
              ORDER BY ${x}.ord, e.o
             RETURNING ${shape.returning}
           )
           SELECT (SELECT coalesce(json_agg(x.ord ORDER BY x.ord), '[]')
                     FROM x JOIN note ON note.scope = x.scope AND note.id = x.id) AS created,
                  ${shape.pending} AS pending,
                  ${wake === 'in-statement' ? notifyWhen(sql, shape.pending) : 'NULL'} AS notified`,
    true,
  );
}

/**
 * The delivery ids stored by earlier enqueues of several notifications. `$1` the (scope, id)
 * pairs as a JSON array of `{ ord, scope, id }`. Returns `{ ord, delivery_ids }` (JSON) for
 * each one stored (committed), none for the others.
 */
export function enqueuedIdsMany(sql: StatementContext): Statement {
  return statement(
    'enqueueMany',
    `SELECT x.ord, n.delivery_ids
       FROM jsonb_to_recordset($1::jsonb) AS x(ord integer, scope text, id text)
       JOIN ${sql.notifications} AS n ON n.scope = x.scope AND n.id = x.id`,
  );
}

/**
 * A wake-up on its own (the store's waker, after an emit committed on the store's own
 * connection). `$1` the payload: the store's own, which its watcher skips (its listeners were
 * told at the commit) and every other process takes as a wake-up (see `parseSignal`).
 */
export function wake(sql: StatementContext): Statement {
  return statement('wake', `SELECT pg_notify('${sql.channel}', $1) AS notified`, true);
}

/** The delivery ids stored by an earlier enqueue. `$1` scope, `$2` notification id. Returns `{ delivery_ids }` (JSON), or none. */
export function enqueuedIds(sql: StatementContext): Statement {
  return statement('enqueue', `SELECT delivery_ids FROM ${sql.notifications} WHERE scope = $1 AND id = $2`);
}

/**
 * Claims up to `limit` due deliveries (`FOR UPDATE SKIP LOCKED`, oldest due first) under fresh
 * lease tokens. `$1` now, `$2` the lease's end. Returns one row, `{ batch, ordered }`: `batch`
 * a `ClaimBatch` as JSON (deliveries in due order, each distinct webhook once): a single field
 * to decode instead of some forty per delivery; `ordered`, whether an ordered delivery was
 * among the due rows it looked at.
 *
 * Two shapes. `lines` claims ordered deliveries too: an ordered delivery (`line_key` set) is a
 * candidate only as its line's head (no pending delivery of the line before it) while the line
 * is not paused, and is claimed only when the statement also takes its line's `lines` row:
 * inserted, or taken over once the lease it records has expired. `ON CONFLICT` reads the latest
 * committed row, not the snapshot, so a line never has two live claims, also when two
 * transactions enqueued into one empty line at once (both rows due) and the one committed later
 * is claimed while the other's claim lives. Any other ordered delivery among the due rows (one
 * that races left due behind another, or in a paused line) waits again (`next_attempt_at`
 * null): it leaves the due range, and its line's next promotion or the repair brings it back.
 *
 * `unordered` is the claim of before ordered delivery, for the common case that no ordered
 * delivery is due: when one is among its due rows it claims nothing at all (and says so in
 * `ordered`), and the store runs the `lines` shape instead. It carries none of the line
 * machinery (no subqueries, no `lines` upsert), which the executor would set up on every call.
 *
 * The limit is a literal: with it as a parameter PostgreSQL re-plans the prepared claim on
 * every call instead of settling on its generic plan. Workers ask for a few distinct limits
 * (their concurrency, and sums of it when claims of several workers are merged).
 *
 * @example
 * ```ts
 * claimDue(statementContext('hookline', true), 32, 'unordered').text; // WITH due AS (SELECT id, …
 * ```
 */
export function claimDue(
  sql: StatementContext,
  limit: number,
  shape: 'lines' | 'unordered' = 'lines',
): Statement {
  const batch = (from: string) => `SELECT json_build_object(
           'deliveries', (SELECT json_agg(c ORDER BY c.next_attempt_at, c.seq) FROM claimed AS c),
           'webhooks', (SELECT json_agg(json_build_object(${WEBHOOK_JSON_W}))
                          FROM ${sql.webhooks} AS w
                         WHERE (w.scope, w.id) IN (SELECT scope, webhook_id FROM claimed))
         ) AS batch, EXISTS (SELECT 1 FROM ${from}) AS ordered`;
  if (shape === 'unordered') {
    return statement(
      'claimDue',
      `WITH due AS (
           SELECT id, line_key IS NOT NULL AS ordered FROM ${sql.deliveries}
            WHERE state = 'pending' AND next_attempt_at <= $1::timestamptz
              AND (lease_until IS NULL OR lease_until <= $1::timestamptz)
            ORDER BY next_attempt_at, seq
            LIMIT ${limit}
            FOR UPDATE SKIP LOCKED
         )
         , claimed AS (
           UPDATE ${sql.deliveries} AS d
              SET lease_token = gen_random_uuid()::text, lease_until = $2::timestamptz
             FROM due WHERE d.id = due.id
              -- an ordered delivery among them: the lines shape claims instead
              AND NOT EXISTS (SELECT 1 FROM due WHERE ordered)
           RETURNING ${DELIVERY_LIST_D}, d.trace_context
         )
         ${batch('due WHERE ordered')}`,
      true,
    );
  }
  const line = 'p.scope = h.scope AND p.webhook_id = h.webhook_id AND p.line_key = h.line_key';
  return statement(
    'claimDue',
    `WITH due AS (
           SELECT id, scope, webhook_id, line_key, line_seq FROM ${sql.deliveries}
            WHERE state = 'pending' AND next_attempt_at <= $1::timestamptz
              AND (lease_until IS NULL OR lease_until <= $1::timestamptz)
            ORDER BY next_attempt_at, seq
            LIMIT ${limit}
            FOR UPDATE SKIP LOCKED
         ), heads AS (
           -- the ordered ones that are their line's head, the line not paused
           SELECT h.id, h.scope, h.webhook_id, h.line_key, h.line_seq FROM due AS h
             ${probe(sql, 'before', `${line} AND p.state = 'pending' AND p.line_seq < h.line_seq`)}
             ${probe(sql, 'paused', `${line} AND p.pauses_line`)}
            WHERE h.line_key IS NOT NULL AND before.found IS NULL AND paused.found IS NULL
         ), demoted AS (
           -- any other ordered one is due by a race (see repairLines) and waits again
           UPDATE ${sql.deliveries} AS d SET next_attempt_at = NULL, updated_at = $1::timestamptz
             FROM due WHERE d.id = due.id AND due.line_key IS NOT NULL AND due.id NOT IN (SELECT id FROM heads)
         ), line AS (
           INSERT INTO ${sql.lines} AS l (scope, webhook_id, line_key, delivery_id, lease_until)
           SELECT DISTINCT ON (scope, webhook_id, line_key) scope, webhook_id, line_key, id, $2::timestamptz
             FROM heads
            ORDER BY scope, webhook_id, line_key, line_seq
           ON CONFLICT (scope, webhook_id, line_key) DO UPDATE
              SET delivery_id = EXCLUDED.delivery_id, lease_until = EXCLUDED.lease_until
            WHERE l.lease_until <= $1::timestamptz
           RETURNING l.delivery_id
         ), claimed AS (
           UPDATE ${sql.deliveries} AS d
              SET lease_token = gen_random_uuid()::text, lease_until = $2::timestamptz
             FROM due WHERE d.id = due.id
              AND (due.line_key IS NULL OR due.id IN (SELECT delivery_id FROM line))
           RETURNING ${DELIVERY_LIST_D}, d.trace_context
         )
         ${batch('due WHERE line_key IS NOT NULL')}`,
    true,
  );
}

/**
 * The fewest changes since a table's last `ANALYZE` for {@link refreshStatistics} to analyze
 * it: below this a sequential scan costs little, and tests' small tables are left alone.
 */
export const ANALYZE_MIN_CHANGES = 1000;

/** How many times as many changes as rows at its last `ANALYZE` make {@link refreshStatistics} analyze a table again. */
export const ANALYZE_GROWTH = 4;

/**
 * Analyzes `deliveries` and `attempts` when their statistics are missing or far behind: a
 * table is analyzed when it has changed at least {@link ANALYZE_MIN_CHANGES} times since its
 * last `ANALYZE`, and more than {@link ANALYZE_GROWTH} times as often as it had rows then (never
 * analyzed: `reltuples` -1). One process at a time (`pg_try_advisory_xact_lock`; the others
 * skip), one statement.
 *
 * Why: the hot statements are prepared, and PostgreSQL keeps a prepared statement's generic
 * plan until the table's statistics change. A young outbox is small, so that plan reads the
 * table sequentially; autovacuum's first `ANALYZE` can be a minute away (its naptime), and
 * PGlite has no autovacuum at all. Meanwhile each claim, record and summary read the whole
 * table: in bench/postgres's "enqueue included" (20 000 deliveries into a new schema) 2 400 to
 * 5 300 buffers per statement and 4.7 ms of PostgreSQL CPU per delivery. The `ANALYZE` makes
 * PostgreSQL plan them again. A delivery is about three changes (insert, claim, record), so
 * "four times as many changes as rows" is about each time the table has doubled: a few times
 * over a table's growth (each `ANALYZE` reads up to 30 000 rows: tens of milliseconds), and
 * autovacuum's own thresholds, once it runs, come first. A role that does not own the tables
 * gets PostgreSQL's warning ("skipping … only table or database owner can analyze it") and
 * nothing else.
 *
 * @example
 * ```ts
 * await db.query(refreshStatistics(statementContext('hookline', true), 'hookline').text);
 * ```
 */
export function refreshStatistics(sql: StatementContext, schema: string): Statement {
  const table = (name: string) => `
  -- pg_stat_user_tables' n_mod_since_analyze, without the view (it reads far more: ~1 ms)
  IF (SELECT n >= ${ANALYZE_MIN_CHANGES} AND n > ${ANALYZE_GROWTH} * c.reltuples
        FROM pg_class AS c, pg_stat_get_mod_since_analyze(c.oid) AS n
       WHERE c.oid = '${name}'::regclass) THEN
    IF NOT locked THEN
      locked := pg_try_advisory_xact_lock(hashtext('hookline.analyze'), hashtext('${schema}'));
      IF NOT locked THEN RETURN; END IF;
    END IF;
    ANALYZE ${name};
  END IF;`;
  return statement(
    'refreshStatistics',
    `DO $hookline$
DECLARE locked boolean := false;
BEGIN${table(sql.deliveries)}${table(sql.attempts)}
END
$hookline$`,
  );
}

/** The most lines one {@link repairLines} statement visits: a sweep goes on from there in the next. */
export const REPAIR_LINES_PER_STATEMENT = 1000;

/**
 * Repairs the lines left without a due head: a line whose head (its pending delivery with the
 * lowest position) is waiting (`next_attempt_at` null) while the line is not paused gets that
 * head due at `$1` (now). One step of a sweep: the lines with waiting deliveries after the line
 * (`$2` scope, `$3` webhook id, `$4` key; `''`, the lowest bigint and `''` to start), in index
 * order, at most {@link REPAIR_LINES_PER_STATEMENT} of them. Returns one row: `promoted` (how
 * many became due), `visited` (lines looked at; fewer than the most: the sweep is complete) and
 * the last line visited (`last_scope`, `last_webhook_id`, `last_key`), where the next step
 * starts.
 *
 * Statements run on snapshots, so one race leaves such a line: an enqueue that saw the head
 * pending (its delivery waits) commits after the head's record, which could not see it and so
 * promoted nothing. (Or two enqueues into one line overlap so that the later position is due
 * and the earlier one waits.) The store runs a step about once a second from `claimDue`.
 *
 * A loose index scan of `deliveries_held` (each step of the recursion jumps to the next line's
 * first waiting delivery), then for each such delivery a probe of `deliveries_line` for a
 * pending one before it (the head is another: nothing to do) and of `deliveries_line_paused`;
 * only what is left is locked, `SKIP LOCKED` (a row another statement is moving is seen again by
 * the next sweep), and updated. About 5 to 10 µs per line.
 *
 * @example
 * ```ts
 * repairLines(statementContext('hookline', true)).text; // WITH RECURSIVE held AS (…
 * ```
 */
export function repairLines(sql: StatementContext): Statement {
  const held = `d.state = 'pending' AND d.next_attempt_at IS NULL AND d.line_key IS NOT NULL`;
  const line = 'p.scope = h.scope AND p.webhook_id = h.webhook_id AND p.line_key = h.line_key';
  const first = (
    after: string,
  ) => `SELECT d.id, d.scope, d.webhook_id, d.line_key, d.line_seq FROM ${sql.deliveries} AS d
               WHERE ${held} AND (d.scope, d.webhook_id, d.line_key) > (${after})
               ORDER BY d.scope, d.webhook_id, d.line_key, d.line_seq LIMIT 1`;
  return statement(
    'claimDue',
    `WITH RECURSIVE held AS (
           SELECT f.*, 1 AS n FROM (${first('$2::text, $3::bigint, $4::text')}) AS f
           UNION ALL
           SELECT f.*, h.n + 1 FROM held AS h
            CROSS JOIN LATERAL (${first('h.scope, h.webhook_id, h.line_key')}) AS f
            WHERE h.n < ${REPAIR_LINES_PER_STATEMENT}
         ), heads AS (
           -- the first waiting delivery of a line with no pending one before it, not paused
           SELECT h.id FROM held AS h
             ${probe(sql, 'before', `${line} AND p.state = 'pending' AND p.line_seq < h.line_seq`)}
             ${probe(sql, 'paused', `${line} AND p.pauses_line`)}
            WHERE before.found IS NULL AND paused.found IS NULL
         ), stuck AS (
           SELECT d.id FROM heads JOIN ${sql.deliveries} AS d ON d.id = heads.id
            WHERE ${held}
              FOR UPDATE OF d SKIP LOCKED
         ), promoted AS (
           UPDATE ${sql.deliveries} AS d SET next_attempt_at = $1::timestamptz, updated_at = $1::timestamptz
             FROM stuck WHERE d.id = stuck.id
           RETURNING 1
         ), last AS (
           SELECT scope, webhook_id, line_key, n FROM held ORDER BY n DESC LIMIT 1
         )
         SELECT (SELECT count(*) FROM promoted) AS promoted, coalesce((SELECT n FROM last), 0) AS visited,
                (SELECT scope FROM last) AS last_scope, (SELECT webhook_id FROM last) AS last_webhook_id,
                (SELECT line_key FROM last) AS last_key`,
    true,
  );
}

/**
 * Records a batch of attempts in one statement (one plan, one round trip, one commit):
 * inserts the attempts, moves the deliveries whose lease is still current, and updates each
 * webhook's health as if the items were applied in order. A webhook row is only written when
 * its health changes, and the new values are computed from the row as locked, so concurrent
 * batches never lose an update.
 *
 * `$1` the items (`RecordInputRow`s as JSON). Returns one `RecordRow` per item, in
 * input order, with its webhook's health after the batch, and `ordered`: the item moved an
 * ordered delivery.
 *
 * An ordered delivery failed with `pause_line` pauses its line (`pauses_line`), in either shape.
 * The `lines` shape also ends the line claims of the ordered deliveries that moved and moves
 * their lines on (`promoted`: how many deliveries became due; see `promoteNext`). The
 * `unordered` shape, for batches the store knows to hold no ordered claim, leaves that out (the
 * executor would set up its two extra writes on every call); when it did move an ordered
 * delivery after all, the store runs {@link finishLines} for it.
 */
export function recordAttempts(sql: StatementContext, shape: 'lines' | 'unordered' = 'lines'): Statement {
  const lines = shape === 'lines';
  return statement(
    'recordAttempts',
    `WITH x AS (
           SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(ord integer, delivery_id text, lease_token text,
             started_at timestamptz, duration_ms double precision, status integer, ok boolean, error text,
             response_body text, response_headers jsonb, state text, next_attempt_at timestamptz, now timestamptz,
             pause_line boolean)
         ), cur AS (
           SELECT d.id, d.scope, d.webhook_id, d.attempt_count, x.ord, d.line_key,
                  -- rules.ts holdsLease
                  (d.state = 'pending' AND d.lease_token IS NOT DISTINCT FROM x.lease_token) AS leased,
                  -- A scalar probe of attempts_by_delivery per row: an EXISTS here may be planned as a
                  -- hashed scan of the whole attempts table.
                  (SELECT true FROM ${sql.attempts} AS a WHERE a.delivery_id = d.id LIMIT 1) IS NOT NULL AS prior
             FROM ${sql.deliveries} AS d JOIN x ON x.delivery_id = d.id
            -- rules.ts mayRecordAttempt: a canceled delivery never gains an attempt
            WHERE d.state <> 'canceled'
            ORDER BY d.id
              FOR UPDATE OF d
         ), att AS (
           INSERT INTO ${sql.attempts} (delivery_id, scope, webhook_id, attempt_number, retry, started_at, duration_ms,
             status, ok, error, response_body, response_headers)
           SELECT cur.id, cur.scope, cur.webhook_id, cur.attempt_count + 1, cur.prior, x.started_at, x.duration_ms,
                  x.status, x.ok, x.error, x.response_body, x.response_headers
             FROM cur JOIN x ON x.ord = cur.ord
            ORDER BY x.ord
           RETURNING 1
         ), moved AS (
           -- rules.ts deliveryAfterAttempt; an ordered delivery failed with pause_line pauses its line
           UPDATE ${sql.deliveries} AS d
              SET attempt_count = d.attempt_count + 1, last_status = x.status, last_error = x.error,
                  state = x.state, next_attempt_at = x.next_attempt_at, lease_token = NULL, lease_until = NULL,
                  updated_at = x.now,
                  -- only an enabled webhook's line pauses: a disabled one's lines have ended (cancelPending)
                  pauses_line = (x.state = 'failed' AND x.pause_line IS TRUE AND d.line_key IS NOT NULL
                                 AND EXISTS (SELECT 1 FROM ${sql.webhooks} AS pw
                                              WHERE pw.scope = d.scope AND pw.id = d.webhook_id AND pw.enabled))
             FROM cur JOIN x ON x.ord = cur.ord
            WHERE d.id = cur.id AND cur.leased
           RETURNING cur.ord, ${lines ? 'cur.id, cur.scope, cur.webhook_id, cur.line_key, x.state, x.now, d.pauses_line AS pause_line' : 'cur.line_key'}
         ), ${lines ? `${unline(sql, 'moved')}, ${promoteNext(sql, 'moved', "m.state <> 'pending' AND m.pause_line IS NOT TRUE", 'm.now')}, ` : ''}hooks AS (
           -- rules.ts healthAfterAttempt, applied per item in order (this CTE to health).
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
         ), new_health AS (
           -- Each webhook's health after the batch, computed once from its row as locked (FOR NO
           -- KEY UPDATE, the lock the UPDATE takes: on a concurrent change PostgreSQL re-reads the
           -- row and computes again). Only rows whose health changes are locked and written.
           SELECT w.scope, w.id, n.failing_since, n.consecutive_failures
             FROM change AS c
             JOIN ${sql.webhooks} AS w ON w.scope = c.scope AND w.id = c.webhook_id
             CROSS JOIN LATERAL (
               SELECT CASE WHEN c.last_ok IS NOT NULL THEN c.first_fail
                           ELSE coalesce(w.failing_since, c.first_fail) END AS failing_since,
                      CASE WHEN c.last_ok IS NOT NULL THEN c.new_failures
                           ELSE w.consecutive_failures + c.new_failures END AS consecutive_failures
             ) AS n
            WHERE n.failing_since IS DISTINCT FROM w.failing_since
               OR n.consecutive_failures <> w.consecutive_failures
              FOR NO KEY UPDATE OF w
         ), health AS (
           UPDATE ${sql.webhooks} AS w
              SET failing_since = n.failing_since, consecutive_failures = n.consecutive_failures
             FROM new_health AS n
            WHERE w.scope = n.scope AND w.id = n.id
           RETURNING w.scope, w.id, w.failing_since, w.consecutive_failures
         )
         SELECT x.ord, cur.ord IS NOT NULL AS found, m.ord IS NOT NULL AS applied,
                coalesce(h.id, w.id) IS NOT NULL AS has_health,
                CASE WHEN h.id IS NOT NULL THEN h.failing_since ELSE w.failing_since END AS failing_since,
                coalesce(h.consecutive_failures, w.consecutive_failures) AS consecutive_failures,
                (SELECT count(*) FROM att) AS stored, m.line_key IS NOT NULL AS ordered,
                ${lines ? '(SELECT count(*) FROM promoted)' : '0'} AS promoted
           FROM x
           LEFT JOIN cur ON cur.ord = x.ord
           LEFT JOIN moved AS m ON m.ord = x.ord
           LEFT JOIN health AS h ON h.scope = cur.scope AND h.id = cur.webhook_id
           LEFT JOIN ${sql.webhooks} AS w ON w.scope = cur.scope AND w.id = cur.webhook_id
          ORDER BY x.ord`,
    true,
  );
}

/**
 * Ends the line claims of ordered deliveries that a `recordAttempts` of the `unordered` shape
 * moved, and moves their lines on, as the `lines` shape does in the same statement. `$1` the
 * deliveries as a JSON array of `{ id, state, pause_line, now }` (the state they moved to).
 * Returns `{ promoted }`: how many deliveries became due.
 *
 * Run right after the record; were it never run (the process died in between), the line's
 * claim would end with its lease and the repair would promote what waits: later, never twice.
 *
 * @example
 * ```ts
 * const finished = [{ id: 'msg_1', state: 'succeeded', pause_line: false, now: new Date().toISOString() }];
 * await db.query(finishLines(statementContext('hookline', true)).text, [JSON.stringify(finished)]);
 * ```
 */
export function finishLines(sql: StatementContext): Statement {
  return statement(
    'recordAttempts',
    `WITH x AS (
           SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(id text, state text, pause_line boolean, now timestamptz)
         ), moved AS (
           SELECT d.id, d.scope, d.webhook_id, d.line_key, x.state, x.now, x.pause_line
             FROM ${sql.deliveries} AS d JOIN x ON x.id = d.id
            WHERE d.line_key IS NOT NULL
         ), ${unline(sql, 'moved')}, ${promoteNext(sql, 'moved', "m.state <> 'pending' AND m.pause_line IS NOT TRUE", 'm.now')}
         SELECT count(*) AS promoted FROM promoted`,
  );
}

/**
 * Finishes a claimed delivery as `canceled`, under the caller's lease only (rules.ts
 * holdsLease). `$1` delivery id, `$2` lease token, `$3` reason, `$4` now. Returns one row when
 * it applied, with `promoted`: how many deliveries became due (an ordered delivery's line
 * moves on to its next one).
 */
export function cancelClaimed(sql: StatementContext): Statement {
  return statement(
    'cancelClaimed',
    `WITH canceled AS (
           UPDATE ${sql.deliveries}
              SET state = 'canceled', last_error = $3, next_attempt_at = NULL, lease_token = NULL, lease_until = NULL,
                  updated_at = $4::timestamptz
            WHERE id = $1 AND state = 'pending' AND lease_token = $2
            RETURNING id, scope, webhook_id, line_key
         ), ${unline(sql, 'canceled')}, ${promoteNext(sql, 'canceled', 'true', '$4::timestamptz')}
         SELECT 1 AS canceled, (SELECT count(*) FROM promoted) AS promoted FROM canceled`,
    true,
  );
}

/**
 * Gives a claimed delivery back, due at once, under the caller's lease only (rules.ts
 * holdsLease), and wakes workers. An ordered delivery stays its line's head; its line's claim
 * ends. `$1` delivery id, `$2` lease token, `$3` now. Returns one row when it applied.
 */
export function releaseClaim(sql: StatementContext): Statement {
  return statement(
    'releaseClaim',
    `WITH released AS (
           UPDATE ${sql.deliveries}
              SET next_attempt_at = $3::timestamptz, lease_token = NULL, lease_until = NULL, updated_at = $3::timestamptz
            WHERE id = $1 AND state = 'pending' AND lease_token = $2
            RETURNING id, scope, webhook_id, line_key
         ), ${unline(sql, 'released')}
         SELECT ${notifyWhen(sql, 'true')} AS notified FROM released`,
    true,
  );
}

/** One delivery. `$1` scope, `$2` id. Returns its `DeliveryRow`, or none. */
export function getDelivery(sql: StatementContext): Statement {
  return statement(
    'getDelivery',
    `SELECT ${DELIVERY_LIST} FROM ${sql.deliveries} WHERE scope = $1 AND id = $2`,
  );
}

/**
 * A page of a webhook's deliveries, newest first by (`created_at`, `seq`), through
 * `deliveries_by_webhook` (the delivery log's order since migration 6: the same as `seq` order
 * while every process's clock moves forward). `$1` scope, `$2` webhook id, `$3` state (or
 * null for all), `$4` offset, `$5` limit (null: all). Returns `DeliveryRow`s each with
 * `total` (see `toPage`).
 */
export function listDeliveries(sql: StatementContext): Statement {
  const filter = `scope = $1 AND webhook_id = $2 AND ($3::text IS NULL OR state = $3::text)`;
  return statement(
    'listDeliveries',
    `SELECT (SELECT count(*) FROM ${sql.deliveries} WHERE ${filter}) AS total, page.*
           FROM (SELECT 1) AS one
           LEFT JOIN LATERAL (
             SELECT ${DELIVERY_LIST} FROM ${sql.deliveries} WHERE ${filter}
              ORDER BY created_at DESC, seq DESC OFFSET $4 LIMIT $5
           ) AS page ON true`,
  );
}

/**
 * The parameters a {@link searchDeliveries} statement takes, in the order of its `params`
 * (each one the shape uses, once).
 *
 * @example
 * ```ts
 * const first: SearchParam[] = ['scope', 'limit'];
 * ```
 */
export type SearchParam =
  | 'scope'
  | 'limit'
  | 'webhookId'
  | 'types'
  | 'since'
  | 'until'
  | 'cursorAt'
  | 'cursorSeq'
  | 'id';

/**
 * The shape of a {@link searchDeliveries} statement: which filters it has (its text differs by each).
 *
 * @example
 * ```ts
 * const shape: SearchShape = { webhook: true, states: ['failed', 'canceled'], types: false, since: false, until: false, cursor: false, id: false };
 * ```
 */
export interface SearchShape {
  /** Filtered to one webhook (`webhookId`). */
  webhook: boolean;
  /**
   * Filtered to these states (written as literals, so the partial index `deliveries_log_failed`
   * applies), or `null` for every state. Several states are one branch each, merged.
   */
  states: readonly DeliveryState[] | null;
  /** Filtered to event types (`types`, a JSON array of strings). */
  types: boolean;
  /** Created at or after `since`. */
  since: boolean;
  /** Created before `until`. */
  until: boolean;
  /** Older than the cursor: (`cursorAt`, microseconds since 1970 as text, `cursorSeq`). */
  cursor: boolean;
  /** Only the delivery `id`, or the deliveries of the notification `id`. */
  id: boolean;
}

/** A state as an SQL literal, from the closed list of states only. */
function stateLiteral(state: DeliveryState): string {
  return `'${DELIVERY_STATES.find((s) => s === state) ?? 'pending'}'`;
}

/**
 * One page of a scope's delivery log, newest first by (`created_at`, `seq`), filtered as
 * `shape` says, at most `limit` rows (the caller asks for one more than the page, to know
 * whether an older one is left). The parameters are the ones `params` names, in that order
 * (`$1` scope, `$2` limit, then those of the filters). Returns `DeliveryRow`s each with
 * `cursor_at`: its `created_at` in microseconds since 1970, as text (a cursor after it holds
 * that and its `seq`).
 *
 * Each page is one range scan, from the cursor (or `until`) down: of `deliveries_log` (the
 * scope), `deliveries_by_webhook` (one webhook) or `deliveries_log_failed` (failed, canceled);
 * the planner picks by the filters. Event types and `succeeded` (most rows) are checked row by
 * row on the way down; `pending` rows, few, come through the pending indexes and are sorted.
 * Several states are one branch each, merged in order (one scan with `state IN (…)` would have
 * to sort every row of those states before PostgreSQL 17). An id reads the delivery and the
 * notification's deliveries by primary key.
 *
 * @example
 * ```ts
 * const { statement, params } = searchDeliveries(statementContext('hookline', false), {
 *   webhook: false, states: ['failed'], types: false, since: false, until: false, cursor: true, id: false,
 * });
 * // params: ['scope', 'limit', 'cursorAt', 'cursorSeq']
 * ```
 */
export function searchDeliveries(
  sql: StatementContext,
  shape: SearchShape,
): { statement: Statement; params: SearchParam[] } {
  const params: SearchParam[] = ['scope', 'limit'];
  const param = (name: SearchParam): string => {
    params.push(name);
    return `$${params.length}`;
  };
  const where = ['scope = $1'];
  if (shape.webhook) where.push(`webhook_id = ${param('webhookId')}::bigint`);
  if (shape.types)
    where.push(`type = ANY (ARRAY(SELECT jsonb_array_elements_text(${param('types')}::jsonb)))`);
  if (shape.since) where.push(`created_at >= ${param('since')}::timestamptz`);
  if (shape.until) where.push(`created_at < ${param('until')}::timestamptz`);
  if (shape.cursor) {
    const at = param('cursorAt');
    where.push(
      `(created_at, seq) < (timestamptz 'epoch' + (${at}::text || ' microseconds')::interval, ${param('cursorSeq')}::bigint)`,
    );
  }
  if (shape.id) {
    const id = param('id');
    where.push(`id = ANY (ARRAY(SELECT jsonb_array_elements_text(n.delivery_ids) FROM ${sql.notifications} AS n
                               WHERE n.scope = $1 AND n.id = ${id}::text) || ${id}::text)`);
  }
  const order = 'ORDER BY created_at DESC, seq DESC LIMIT $2';
  const select = (filters: readonly string[]) =>
    `SELECT ${DELIVERY_LIST}, (extract(epoch FROM created_at) * 1000000)::bigint::text AS cursor_at
             FROM ${sql.deliveries}
            WHERE ${filters.join('\n              AND ')}
            ${order}`;
  const states = shape.states;
  if (states === null) return { statement: statement('searchDeliveries', select(where)), params };
  // An id reads a handful of rows by primary key: one branch, the states checked on them.
  if (shape.id || states.length === 1) {
    const filter =
      states.length === 1
        ? `state = ${stateLiteral(states[0] as DeliveryState)}`
        : `state IN (${states.map(stateLiteral).join(', ')})`;
    return { statement: statement('searchDeliveries', select([...where, filter])), params };
  }
  const branches = states.map((state) => `(${select([...where, `state = ${stateLiteral(state)}`])})`);
  return {
    statement: statement(
      'searchDeliveries',
      `SELECT * FROM (${branches.join('\n           UNION ALL ')}) AS page
          ${order}`,
    ),
    params,
  };
}

/**
 * What a scope's (`$1`) webhooks (`$2`, a JSON array of ids) did in [`$3`, `$4`) by their
 * attempts' `started_at`, in buckets of `$5` ms from `$3`, for `webhookActivity`. One statement over
 * `attempts_activity` (an index-only scan of each webhook's window, and of its newest entry).
 * Returns `ActivityRow`s: per webhook with attempts in the window, one `total` row and one
 * `bucket` row per bucket that has attempts (`bucket` its index from 0), each with the counts
 * by outcome (rules as `AttemptCounts`: `ok` succeeded, else a status above 0 failed, else
 * errored) and `percentiles` (continuous, `percentile_cont`) {0.5, 0.95} of the durations; and
 * per webhook with any attempt, one `last` row: its newest attempt ever (latest `started_at`,
 * then highest id).
 *
 * @example
 * ```ts
 * webhookActivity(statementContext('hookline', false)).text; // WITH win AS (SELECT a.webhook_id, …
 * ```
 */
export function webhookActivity(sql: StatementContext): Statement {
  return statement(
    'webhookActivity',
    `WITH win AS (
           SELECT a.webhook_id, a.duration_ms, a.status, a.ok,
                  -- The bucket's index: a binary search of the buckets' starts (exact, and a third of
                  -- the cost of computing it in numeric per row).
                  width_bucket(a.started_at, ARRAY(
                    SELECT generate_series($3::timestamptz, $4::timestamptz, $5::double precision * interval '1 ms')
                  )) - 1 AS bucket
             FROM ${sql.attempts} AS a
            WHERE a.scope = $1 AND a.webhook_id = ANY (ARRAY(SELECT jsonb_array_elements_text($2::jsonb)::bigint))
              AND a.started_at >= $3::timestamptz AND a.started_at < $4::timestamptz
         )
         SELECT CASE WHEN GROUPING(bucket) = 1 THEN 'total' ELSE 'bucket' END AS kind, webhook_id, bucket,
                count(*) FILTER (WHERE ok) AS succeeded,
                count(*) FILTER (WHERE NOT ok AND status > 0) AS failed,
                count(*) FILTER (WHERE NOT ok AND status <= 0) AS errored,
                percentile_cont('{0.5,0.95}'::double precision[]) WITHIN GROUP (ORDER BY duration_ms) AS percentiles,
                NULL::timestamptz AS started_at, NULL::integer AS status, NULL::boolean AS ok,
                NULL::double precision AS duration_ms
           FROM win
          GROUP BY GROUPING SETS ((webhook_id), (webhook_id, bucket))
         UNION ALL
         SELECT 'last', u.id, NULL, NULL, NULL, NULL, NULL, l.started_at, l.status, l.ok, l.duration_ms
           FROM (SELECT jsonb_array_elements_text($2::jsonb)::bigint AS id) AS u
          CROSS JOIN LATERAL (
            SELECT a.started_at, a.status, a.ok, a.duration_ms FROM ${sql.attempts} AS a
             WHERE a.scope = $1 AND a.webhook_id = u.id
             ORDER BY a.started_at DESC, a.id DESC LIMIT 1
          ) AS l`,
  );
}

/**
 * A page of a delivery's attempts, newest first. `$1` scope, `$2` delivery id, `$3` offset,
 * `$4` limit (null: all). Returns `AttemptRow`s each with `total` (see `toPage`).
 */
export function listAttempts(sql: StatementContext): Statement {
  return statement(
    'listAttempts',
    `SELECT (SELECT count(*) FROM ${sql.attempts} WHERE delivery_id = $2 AND scope = $1) AS total, page.*
           FROM (SELECT 1) AS one
           LEFT JOIN LATERAL (
             SELECT ${ATTEMPT_LIST} FROM ${sql.attempts} WHERE delivery_id = $2 AND scope = $1
              ORDER BY id DESC OFFSET $3 LIMIT $4
           ) AS page ON true`,
  );
}

/**
 * Starts a new attempt series for a finished delivery and wakes workers when it is due. `$1`
 * scope, `$2` id, `$3` now. Returns no row when there is no such delivery; otherwise one row
 * with `previous_state` and, when it was finished, the new `DeliveryRow` (its columns null
 * when it was still pending: rules.ts assertRedeliverable).
 *
 * An ordered delivery joins the back of its line: a new position, due at `now` only when the
 * line has no pending delivery and is not paused, else waiting. The one pausing its line keeps
 * its position (it is the head), stops pausing, and is due at `now`.
 */
export function redeliver(sql: StatementContext): Statement {
  return statement(
    'redeliver',
    `WITH cur AS (
           SELECT id, state FROM ${sql.deliveries} WHERE scope = $1 AND id = $2 FOR UPDATE
         ), upd AS (
           UPDATE ${sql.deliveries} AS d
              SET state = 'pending', attempt_count = 0,
                  next_attempt_at = ${requeueDueAt(sql, '$3::timestamptz', 'true')},
                  line_seq = ${requeueSeq(`nextval(${sql.lineSeq})`)}, pauses_line = false,
                  lease_token = NULL, lease_until = NULL, updated_at = $3::timestamptz
             FROM cur WHERE d.id = cur.id AND cur.state <> 'pending' -- rules.ts assertRedeliverable
           RETURNING ${DELIVERY_LIST_D}
         )
         SELECT cur.state AS previous_state, ${notifyWhen(sql, 'upd.next_attempt_at IS NOT NULL')} AS notified, upd.*
           FROM cur LEFT JOIN upd ON true`,
  );
}

/**
 * The `next_attempt_at` of a finished delivery `d` going back to pending at `now` (SQL), as the
 * UPDATE's old row: unordered, or the one pausing its line, `now`; else `now` when `first` (SQL:
 * the first of its line in the statement) and its line has no pending delivery and is not
 * paused, else none (it waits behind its line).
 */
function requeueDueAt(sql: StatementContext, now: string, first: string): string {
  return `CASE WHEN d.line_key IS NULL OR d.pauses_line THEN ${now}
                       WHEN ${first} AND ${lineOpen(sql, 'd.scope', 'd.webhook_id', 'd.line_key', 'd.id')} THEN ${now} END`;
}

/**
 * The `line_seq` of a finished delivery `d` going back to pending: a new position (`next`, SQL)
 * at the back of its line; the one pausing its line keeps its own.
 */
function requeueSeq(next: string): string {
  return `CASE WHEN d.line_key IS NULL OR d.pauses_line THEN d.line_seq ELSE ${next} END`;
}

/** The shape of a {@link recoverDeliveries} statement: its text differs by each. */
export interface RecoverShape {
  /** The states recovered (written as literals, so the partial index `deliveries_finished` applies). */
  states: readonly ('failed' | 'canceled')[];
  /** Whether the batch continues after a cursor (`$6`, `$7`). */
  after: boolean;
  /** Count only, change nothing (no row locks). */
  dryRun: boolean;
}

/**
 * One batch of a bulk recovery: the scope (`$1`)'s deliveries in one of `shape.states` that
 * finished (`updated_at`) in [`$2`, `$3`), optionally of webhook `$4` and of the types in `$5`
 * (a JSON array), ordered by (`updated_at`, `id` in binary order) through
 * `deliveries_finished`, at most `$6`; then, unless a dry run, `now` as `$7`; with
 * `shape.after`, the cursor's time (text) and id as the last two parameters. Each of an
 * enabled webhook goes back to pending, due at `now`, as `redeliver` does (rules.ts assertRedeliverable: the UPDATE
 * checks the state again), and workers are woken; the batch's rows are locked with
 * `FOR UPDATE SKIP LOCKED`, so a concurrent recovery never counts or queues them too. With
 * `shape.dryRun` nothing is locked or changed. Returns one row: `matched`, `queued`,
 * `skipped` (rows of a disabled or deleted webhook), and the last row's `last_at` (UTC text,
 * microseconds) and `last_id`.
 *
 * @example
 * ```ts
 * recoverDeliveries(statementContext('hookline', true), { states: ['failed'], after: false, dryRun: false }).text;
 * ```
 */
export function recoverDeliveries(sql: StatementContext, shape: RecoverShape): Statement {
  const states = shape.states.map((state) => `'${state === 'canceled' ? 'canceled' : 'failed'}'`).join(', ');
  const inStates = (alias: string) =>
    shape.states.length === 1 ? `${alias}.state = ${states}` : `${alias}.state IN (${states})`;
  // Parameters: $1…$6 always; `now` next unless a dry run; the cursor's two last when after.
  const now = shape.dryRun ? '' : '$7';
  const cursorAt = shape.dryRun ? '$7' : '$8';
  const cursorId = shape.dryRun ? '$8' : '$9';
  const keyset = shape.after
    ? `AND (d.updated_at, d.id COLLATE "C") > (${cursorAt}::timestamptz, ${cursorId}::text COLLATE "C")`
    : '';
  const candidates = `SELECT d.id, d.updated_at, (w.enabled IS TRUE) AS live, d.webhook_id, d.line_key, d.pauses_line
             FROM ${sql.deliveries} AS d
             LEFT JOIN ${sql.webhooks} AS w ON w.scope = d.scope AND w.id = d.webhook_id
            WHERE d.scope = $1 AND ${inStates('d')}
              AND d.updated_at >= $2::timestamptz AND d.updated_at < $3::timestamptz
              AND ($4::bigint IS NULL OR d.webhook_id = $4::bigint)
              AND ($5::jsonb IS NULL OR d.type IN (SELECT jsonb_array_elements_text($5::jsonb)))
              ${keyset}
            ORDER BY d.updated_at, d.id COLLATE "C"
            LIMIT $6`;
  const summary = `(SELECT count(*) FROM cand) AS matched,
                (SELECT count(*) FROM cand WHERE NOT live) AS skipped,
                (SELECT to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') FROM last) AS last_at,
                (SELECT id FROM last) AS last_id`;
  const last = `last AS (SELECT updated_at, id FROM cand ORDER BY updated_at DESC, id COLLATE "C" DESC LIMIT 1)`;
  if (shape.dryRun) {
    return statement(
      'recoverDeliveries',
      `WITH cand AS (${candidates}), ${last}
         SELECT ${summary}, 0 AS queued`,
    );
  }
  // Ordered deliveries join the back of their lines as redeliver queues them, in the batch's
  // order: `rank` 1 is the first of its line in the batch (only it may find its line open).
  return statement(
    'recoverDeliveries',
    `WITH cand AS (${candidates}
              FOR UPDATE OF d SKIP LOCKED
         ), ranked AS (
           SELECT id, updated_at, row_number() OVER (PARTITION BY webhook_id, line_key, pauses_line
                                                     ORDER BY updated_at, id COLLATE "C") AS rank
             FROM cand WHERE live AND line_key IS NOT NULL
         ), lined AS (
           -- new positions in the batch's order (nextval in the select list runs after the sort)
           SELECT id, rank, nextval(${sql.lineSeq}) AS line_seq FROM ranked ORDER BY updated_at, id COLLATE "C"
         ), queued AS (
           -- rules.ts assertRedeliverable (a finished delivery only), as redeliver sets it
           UPDATE ${sql.deliveries} AS d
              SET state = 'pending', attempt_count = 0,
                  next_attempt_at = ${requeueDueAt(sql, `${now}::timestamptz`, 'lined.rank = 1')},
                  line_seq = ${requeueSeq('lined.line_seq')}, pauses_line = false,
                  lease_token = NULL, lease_until = NULL, updated_at = ${now}::timestamptz
             FROM cand LEFT JOIN lined ON lined.id = cand.id
            WHERE d.id = cand.id AND cand.live AND ${inStates('d')}
           RETURNING d.next_attempt_at IS NOT NULL AS due
         ), ${last}
         SELECT ${summary}, (SELECT count(*) FROM queued) AS queued,
                ${notifyWhen(sql, 'EXISTS (SELECT 1 FROM queued WHERE due)')} AS notified`,
  );
}

/**
 * Stops a pending delivery's retries: `canceled` with the reason, no next attempt, its lease
 * (if any) ended (rules.ts assertCancelable). An ordered delivery leaves its line (and ends its
 * line's claim); when it was the head, the next one becomes due at `now`. `$1` scope, `$2` id,
 * `$3` reason, `$4` now. Returns no row when there is no such delivery; otherwise one row with
 * `previous_state`, `promoted` (how many became due), and, when it was pending, the new
 * `DeliveryRow` (its columns null otherwise).
 */
export function cancelDelivery(sql: StatementContext): Statement {
  return statement(
    'cancelDelivery',
    `WITH cur AS (
           SELECT id, state FROM ${sql.deliveries} WHERE scope = $1 AND id = $2 FOR UPDATE
         ), upd AS (
           UPDATE ${sql.deliveries} AS d
              SET state = 'canceled', last_error = $3, next_attempt_at = NULL, lease_token = NULL, lease_until = NULL,
                  updated_at = $4::timestamptz
             FROM cur WHERE d.id = cur.id AND cur.state = 'pending' -- rules.ts assertCancelable
           RETURNING ${DELIVERY_LIST_D}
         ), ${unline(sql, 'upd')}, ${promoteNext(sql, 'upd', 'true', '$4::timestamptz')}
         SELECT cur.state AS previous_state, (SELECT count(*) FROM promoted) AS promoted, upd.*
           FROM cur LEFT JOIN upd ON true`,
  );
}

/**
 * Cancels a webhook's pending deliveries that are not under a live lease, ends its ordered
 * lines' pauses (its failed deliveries stop pausing) and drops its lines' expired claims. `$1`
 * scope, `$2` webhook id, `$3` reason, `$4` now. Returns `{ count }`, the deliveries canceled.
 */
export function cancelPending(sql: StatementContext): Statement {
  return statement(
    'cancelPending',
    `WITH canceled AS (
           UPDATE ${sql.deliveries}
              SET state = 'canceled', last_error = $3, next_attempt_at = NULL, lease_token = NULL, lease_until = NULL,
                  updated_at = $4::timestamptz
            WHERE scope = $1 AND webhook_id = $2 AND state = 'pending'
              -- under a live lease it is its claimer's: in flight, or canceled by the worker itself
              AND (lease_until IS NULL OR lease_until <= $4::timestamptz)
            RETURNING 1 AS canceled
         ), unpaused AS (
           -- A finished row: updated_at stays the time it finished (recovery's order).
           UPDATE ${sql.deliveries} SET pauses_line = false WHERE scope = $1 AND webhook_id = $2 AND pauses_line
         ), unlined AS (
           DELETE FROM ${sql.lines} WHERE scope = $1 AND webhook_id = $2 AND lease_until <= $4::timestamptz
         )
         SELECT count(*) AS count FROM canceled`,
  );
}

/** Deletes attempts started before `$1`. Returns `{ count }`. */
export function purgeAttempts(sql: StatementContext): Statement {
  return statement(
    'purgeAttempts',
    `WITH purged AS (DELETE FROM ${sql.attempts} WHERE started_at < $1::timestamptz RETURNING 1 AS purged)
         SELECT count(*) AS count FROM purged`,
  );
}

/**
 * Where a pending ordered delivery stands in its line (`deliveryLine`). `$1` scope, `$2` id.
 * Returns no row when there is no such delivery, or it is unordered or not pending; otherwise
 * one row: `ahead` (the pending deliveries of its line before it, plus the one pausing the
 * line), and `blocked_by`, the delivery it waits for as a JSON `DeliveryRow` (the one pausing
 * the line, else the line's head when that is another delivery), or null. Through
 * `deliveries_line` and `deliveries_line_paused`.
 *
 * @example
 * ```ts
 * const { rows } = await db.query(deliveryLine(statementContext('hookline', true)).text, ['acme', 'msg_1']);
 * ```
 */
export function deliveryLine(sql: StatementContext): Statement {
  const line = 'd.scope = me.scope AND d.webhook_id = me.webhook_id AND d.line_key = me.line_key';
  return statement(
    'deliveryLine',
    `WITH me AS (
           SELECT id, scope, webhook_id, line_key, line_seq FROM ${sql.deliveries}
            WHERE scope = $1 AND id = $2 AND state = 'pending' AND line_key IS NOT NULL
         ), paused AS (
           SELECT ${DELIVERY_LIST_D} FROM me JOIN ${sql.deliveries} AS d ON ${line} AND d.pauses_line
            ORDER BY d.line_seq LIMIT 1
         ), head AS (
           SELECT ${DELIVERY_LIST_D} FROM me JOIN ${sql.deliveries} AS d ON ${line} AND d.state = 'pending'
            ORDER BY d.line_seq LIMIT 1
         )
         SELECT (SELECT count(*) FROM me JOIN ${sql.deliveries} AS d
                   ON ${line} AND d.state = 'pending' AND d.line_seq < me.line_seq)
                + (SELECT count(*) FROM paused) AS ahead,
                coalesce((SELECT to_json(paused) FROM paused),
                         (SELECT to_json(head) FROM head WHERE head.id <> me.id)) AS blocked_by
           FROM me`,
  );
}

/** The outbox at `$1` (now). Returns `{ due, pending, next }`. */
export function outboxSummary(sql: StatementContext): Statement {
  return statement(
    'outboxSummary',
    `SELECT count(*) FILTER (WHERE next_attempt_at <= $1::timestamptz
                                   AND (lease_until IS NULL OR lease_until <= $1::timestamptz)) AS due,
                count(*) AS pending, min(next_attempt_at) AS next
           FROM ${sql.deliveries}
          WHERE state = 'pending'`,
    true,
  );
}

/**
 * The outbox's health at `$1` (now), of the scope `$2` when `scoped` (then `$2` is the only
 * other parameter), for `outboxStats`. One statement: the pending rows are counted through
 * the partial indexes on pending deliveries (`deliveries_due`, or `deliveries_pending_by_scope`
 * for one scope and per scope), the failing webhooks read through `webhooks_failing`. Returns
 * one `OutboxStatsRow`: the counters (`pending`, `due`, `in_flight`, `oldest_due`,
 * `failing_count`), or with `perScope` a JSON array `scopes` of them per scope instead; and
 * `failing`, a JSON array of the `limit` webhooks failing longest.
 *
 * @example
 * ```ts
 * outboxStats(statementContext('hookline', true), { scoped: true, perScope: false, limit: 100 }).text;
 * ```
 */
export function outboxStats(
  sql: StatementContext,
  shape: { scoped: boolean; perScope: boolean; limit: number },
): Statement {
  const inScope = shape.scoped ? ' AND scope = $2' : '';
  // Due: pending, due at now, not under a live lease (as outboxSummary and claimDue).
  const due = `next_attempt_at <= $1::timestamptz AND (lease_until IS NULL OR lease_until <= $1::timestamptz)`;
  const counters = `count(*) AS pending, count(*) FILTER (WHERE ${due}) AS due,
                count(*) FILTER (WHERE lease_until > $1::timestamptz) AS in_flight,
                min(next_attempt_at) FILTER (WHERE ${due}) AS oldest_due`;
  const failingWhere = `failing_since IS NOT NULL${inScope}`;
  const failing = `(SELECT coalesce(json_agg(json_build_object('scope', scope, 'id', id, 'url', url, 'enabled', enabled,
                    'consecutive_failures', consecutive_failures, 'failing_since', failing_since)
                    ORDER BY failing_since, id), '[]'::json)
             FROM (SELECT scope, id, url, enabled, consecutive_failures, failing_since FROM ${sql.webhooks}
                    WHERE ${failingWhere} ORDER BY failing_since, id LIMIT ${shape.limit}) AS f) AS failing`;
  const pendingWhere = `state = 'pending'${inScope}`;
  if (!shape.perScope) {
    return statement(
      'outboxStats',
      `SELECT ${counters},
                (SELECT count(*) FROM ${sql.webhooks} WHERE ${failingWhere}) AS failing_count,
                ${failing}
           FROM ${sql.deliveries}
          WHERE ${pendingWhere}`,
    );
  }
  return statement(
    'outboxStats',
    `WITH outbox AS (
           SELECT scope, ${counters}
             FROM ${sql.deliveries}
            WHERE ${pendingWhere}
            GROUP BY scope
         ), failing_scopes AS (
           SELECT scope, count(*) AS failing_count FROM ${sql.webhooks} WHERE ${failingWhere} GROUP BY scope
         )
         SELECT (SELECT coalesce(json_agg(json_build_object('scope', scope, 'pending', coalesce(o.pending, 0),
                          'due', coalesce(o.due, 0), 'in_flight', coalesce(o.in_flight, 0), 'oldest_due', o.oldest_due,
                          'failing_count', coalesce(f.failing_count, 0)) ORDER BY scope COLLATE "C"), '[]'::json)
                   FROM outbox AS o FULL JOIN failing_scopes AS f USING (scope)) AS scopes,
                ${failing}`,
  );
}
