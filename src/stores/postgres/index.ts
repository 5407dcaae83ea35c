/**
 * `hookline/postgres`: the PostgreSQL store (on a server through `pg`, or embedded with PGlite),
 * its migrations, and a transaction helper for transactional emit. `pg` and
 * `@electric-sql/pglite` are optional peer dependencies; nothing here imports them except
 * `pgliteStore()`, which loads PGlite when called.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * import { postgresStore, withTransaction } from 'hookline/postgres';
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * const store = postgresStore({ db: pool });
 * await store.migrate();
 * const registry = new WebhookRegistry({ store });
 * await withTransaction(pool, async (tx) => {
 *   await tx.query('UPDATE orders SET paid = true WHERE id = $1', [42]);
 *   await registry.emit({ scope: 'acme', type: 'order.paid', data: { id: 42 } }, { tx });
 * });
 * ```
 *
 * @module hookline/postgres
 */

export {
  type NotificationClient,
  type NotificationMessage,
  type PGliteLike,
  type PoolClientLike,
  type PoolLike,
  type Queryable,
  type QueryResultLike,
  withTransaction,
} from './driver.js';
export {
  DEFAULT_SCHEMA,
  LATEST_SCHEMA_VERSION,
  MIGRATIONS,
  type MigrateOptions,
  type MigrateResult,
  type Migration,
  migrate,
} from './migrations.js';
export { type PgliteStore, type PgliteStoreOptions, pgliteStore } from './pglite.js';
export { type PostgresStore, type PostgresStoreOptions, postgresStore } from './store.js';
