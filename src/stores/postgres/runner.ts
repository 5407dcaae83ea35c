/**
 * Runs the PostgreSQL store's statements: checks the schema version once, prepares hot
 * statements on `pg`, and turns driver errors into hookline errors. No SQL of its own
 * beyond the schema check.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { isPool, type Queryable } from './driver.js';
import { assertSchemaVersion } from './migrations.js';
import { wrapError } from './sql-errors.js';
import type { Statement } from './statements.js';

/** A `pg` client or pool: `query()` also takes `{ name, text, values }` (a prepared statement). */
interface NamedQueryable {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}

/**
 * The prepared-statement name of a statement text: `hookline_` and 40 hex digits of its SHA-256,
 * within PostgreSQL's 63-byte identifiers. Equal texts share a name; different texts never do.
 *
 * @example
 * ```ts
 * preparedStatementName('SELECT 1'); // 'hookline_…' (40 hex digits)
 * ```
 */
export function preparedStatementName(text: string): string {
  return `hookline_${createHash('sha256').update(text).digest('hex').slice(0, 40)}`;
}

function acceptsNamedQueries(q: Queryable): boolean {
  return isPool(q) || (typeof q === 'object' && q !== null && 'connectionParameters' in q);
}

/** Where and for whom a statement runs: `on` a host's transaction, and what errors should name. */
export interface RunContext {
  /** The host's transaction handle; the store's own connection when absent. */
  on?: Queryable;
  /** Named in a duplicate-key `ConflictError`. */
  scope?: string;
  /** Named in a duplicate-key `ConflictError`. */
  key?: string | null;
}

/** Runs statements for one store; see {@link createRunner}. */
export interface Runner {
  /** Runs `statement` with `params` and returns its rows; rejects with a hookline error. */
  run<R>(statement: Statement, params: unknown[], context?: RunContext): Promise<R[]>;
  /** Records that the schema is known to be current (after `migrate()`): no check on first use. */
  markReady(): void;
}

/**
 * The statement runner of a store on `db` for `schema`. The schema version is checked on the
 * first statement that runs on `db` (not on a host's transaction), unless `markReady()` came first.
 */
export function createRunner(db: Queryable, schema: string): Runner {
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

  return {
    async run<R>(statement: Statement, params: unknown[], context: RunContext = {}): Promise<R[]> {
      try {
        if (!context.on) await ensureReady();
        const target = context.on ?? db;
        const name = statement.prepare ? statementName(target, statement.text) : undefined;
        const result = name
          ? await (target as unknown as NamedQueryable).query({ name, text: statement.text, values: params })
          : await target.query(statement.text, params);
        return result.rows as R[];
      } catch (error) {
        throw wrapError(error, {
          schema,
          operation: statement.name,
          ...(context.scope === undefined ? {} : { scope: context.scope }),
          ...(context.key === undefined ? {} : { key: context.key }),
        });
      }
    },
    markReady() {
      ready = Promise.resolve();
    },
  };
}
