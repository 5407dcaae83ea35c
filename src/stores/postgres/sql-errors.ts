import { ConflictError, HooklineError, ValidationError } from '../../errors.js';

/** Where a database error happened, for the message and for mapping unique violations. */
export interface ErrorContext {
  schema: string;
  operation: string;
  scope?: string;
  key?: string | null;
}

/** PostgreSQL's SQLSTATE of an error from `pg` or PGlite, if it has one. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * SQLSTATEs that mean "this value cannot be stored": 22021 and 22P05 (a NUL or a character the
 * encoding lacks, in text or jsonb), 54000 (a value over a size limit, e.g. an index row).
 */
const UNSTORABLE = new Set(['22021', '22P05', '54000']);

/**
 * Maps a driver error to a hookline error: a unique violation on the webhook key to a
 * `ConflictError` (field `key`), on a delivery id to a `ConflictError` (field `id`), a value
 * PostgreSQL cannot store to a `ValidationError` (code `not_storable`), anything else to `HooklineError('store_failed')` with the original error as `cause`. Hookline errors
 * pass through unchanged.
 */
export function wrapError(error: unknown, context: ErrorContext): HooklineError {
  if (error instanceof HooklineError) return error;
  const code = sqlState(error);
  const constraint = (error as { constraint?: unknown } | null)?.constraint;
  if (code === '23505' && constraint === 'webhooks_scope_key') {
    const key = context.key === undefined || context.key === null ? '' : ` ${JSON.stringify(context.key)}`;
    const scope = context.scope === undefined ? '' : ` in scope ${JSON.stringify(context.scope)}`;
    return new ConflictError(`A webhook with key${key} already exists${scope}.`, {
      field: 'key',
      cause: error,
    });
  }
  if (code === '23505' && constraint === 'deliveries_pkey') {
    return new ConflictError('A delivery id is taken.', { field: 'id', cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  if (code !== undefined && UNSTORABLE.has(code)) {
    // The caller's value, not the database, is at fault: a client error, never a 500. The
    // registry refuses these before they get here; this covers direct store calls.
    return new ValidationError(
      [
        {
          path: [],
          code: 'not_storable',
          message: `PostgreSQL cannot store this value (${context.operation}): ${message}`,
        },
      ],
      { cause: error },
    );
  }
  const hint =
    code === '42P01' || code === '3F000' ? ' (are the tables there? run `await store.migrate()` first)' : '';
  return new HooklineError(
    'store_failed',
    `PostgreSQL store (schema "${context.schema}"): ${context.operation} failed: ${message}${hint}`,
    { cause: error },
  );
}
