import { mkdir } from 'node:fs/promises';
import { HooklineError } from '../../errors.js';
import type { PGliteLike } from './driver.js';
import { type PostgresStore, postgresStore } from './store.js';

/**
 * Options of {@link pgliteStore}. All optional.
 *
 * @example
 * ```ts
 * await pgliteStore({ dataDir: './data/hookline', schema: 'hookline', notify: true });
 * ```
 */
export interface PgliteStoreOptions {
  /**
   * Where PGlite keeps its files, e.g. `./data/hookline` (a directory; created when missing).
   * Default: none, an in-memory database that is gone when the process ends.
   */
  dataDir?: string;
  /** The schema holding hookline's tables. Default `'hookline'`. */
  schema?: string;
  /** Wake watching workers through PGlite's LISTEN/NOTIFY. Default `true`. */
  notify?: boolean;
  /** How long a finished attempt waits for others to share its write; as `postgresStore`'s `recordDelayMs`. Default 2 ms. */
  recordDelayMs?: number;
  /** More options for `PGlite.create()` (extensions, `relaxedDurability`, …). */
  pglite?: Record<string, unknown>;
}

/**
 * The PostgreSQL store on an embedded PGlite that it owns: `close()` closes the database too.
 *
 * @example
 * ```ts
 * const store: PgliteStore = await pgliteStore();
 * await store.db.transaction((tx) => registry.emit(notification, { tx }));
 * ```
 */
export interface PgliteStore extends PostgresStore {
  /** The PGlite instance, e.g. for `store.db.transaction(async (tx) => …)`. */
  readonly db: PGliteLike;
}

interface PGliteModule {
  PGlite: { create(options?: Record<string, unknown>): Promise<PGliteLike & { close(): Promise<void> }> };
}

/** Kept in a variable so bundlers leave the optional peer dependency alone. */
const PGLITE_MODULE = '@electric-sql/pglite';

/**
 * An embedded, persistent store with no server: PostgreSQL compiled to WebAssembly (PGlite),
 * running in this process, migrated and ready. With `dataDir` the webhooks and the outbox
 * survive restarts; without it everything lives in memory. One process only: for several
 * processes, run a PostgreSQL server and use {@link postgresStore}.
 *
 * `@electric-sql/pglite` is an optional peer dependency, imported only when this is called.
 *
 * @example
 * ```ts
 * import { pgliteStore } from 'hookline/postgres';
 * const store = await pgliteStore({ dataDir: './data/hookline' }); // schema 'hookline'
 * const registry = new WebhookRegistry({ store });
 * // transactional emit: await store.db.transaction((tx) => registry.emit(n, { tx }));
 * ```
 */
export async function pgliteStore(options: PgliteStoreOptions = {}): Promise<PgliteStore> {
  let mod: PGliteModule;
  try {
    mod = (await import(PGLITE_MODULE)) as PGliteModule;
  } catch (error) {
    throw new HooklineError(
      'store_failed',
      'pgliteStore() needs the optional peer dependency @electric-sql/pglite: npm install @electric-sql/pglite',
      { cause: error },
    );
  }
  let db: PGliteLike & { close(): Promise<void> };
  try {
    // PGlite creates only the last folder of the path; a plain path's parents are made here
    // (not `memory://`, `idb://` or other URL-style data directories).
    if (options.dataDir !== undefined && !/^[a-z][a-z0-9+.-]*:\/\//i.test(options.dataDir)) {
      await mkdir(options.dataDir, { recursive: true });
    }
    db = await mod.PGlite.create({
      ...options.pglite,
      ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
    });
  } catch (error) {
    throw new HooklineError('store_failed', `Could not open PGlite: ${(error as Error)?.message ?? error}`, {
      cause: error,
    });
  }
  let store: PostgresStore;
  try {
    store = postgresStore({
      db,
      ...(options.schema === undefined ? {} : { schema: options.schema }),
      ...(options.notify === undefined ? {} : { notify: options.notify }),
      ...(options.recordDelayMs === undefined ? {} : { recordDelayMs: options.recordDelayMs }),
    });
    await store.migrate();
  } catch (error) {
    await db.close().catch(() => undefined);
    throw error;
  }
  const closeStore = store.close;
  let closing: Promise<void> | undefined;
  return Object.assign(store, {
    name: 'pglite',
    db,
    close(): Promise<void> {
      closing ??= (async () => {
        await closeStore();
        if (!(db as { closed?: boolean }).closed) await db.close();
      })();
      return closing;
    },
  });
}
