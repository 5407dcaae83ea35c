/**
 * Errors are data: every error hookline throws is a {@link HooklineError} with a stable
 * `code`, a message a user can act on, and the underlying `cause` attached when there is one.
 *
 * `instanceof` works across duplicate copies of the package (for example one ESM and one CJS
 * copy in the same process): the classes check a brand registered with `Symbol.for`, not the
 * prototype chain.
 *
 * @example
 * ```ts
 * try {
 *   await registry.create('acme', { url: 'ftp://x', eventTypes: [] });
 * } catch (err) {
 *   if (err instanceof ValidationError) console.log(err.issues); // [{ path: ['url'], ... }]
 * }
 * ```
 */

const BRAND = Symbol.for('hookline.error.kinds');

/**
 * Every stable error code hookline uses. New codes are added, existing ones never change meaning.
 *
 * - `validation_failed`: input (a webhook, a notification) was refused; see `ValidationError.issues`.
 * - `not_found`, `conflict`: a lookup found nothing, or a write clashes with existing state.
 * - `template_invalid`, `template_render_failed`: a template does not parse, or rendered unsafely.
 * - `signature_invalid`: a webhook signature did not verify.
 * - `ssrf_blocked`: a target address is private, loopback, link-local or multicast.
 * - `store_failed`: the storage backend failed.
 * - `worker_state`: a worker was used in a state that does not allow it (e.g. after `stop()`).
 * - `invalid_option`: an option given to a hookline function or constructor is missing or has
 *   the wrong type or value (a programming error in the host, not bad client input); the
 *   message names the option and says what is expected.
 * - `transport_unsupported`: a transport cannot keep its promises on this runtime (e.g. the
 *   undici-based SSRF guard on Bun, whose undici has no dispatcher); it refuses rather than
 *   send unguarded. `defaultTransport()` picks one that works.
 * - `store_unsupported`: the store lacks an optional method the call needs (e.g.
 *   `registry.stats()` on a store without `outboxStats`); the message names the method.
 * - `secret_key_unknown`: a stored signing secret is encrypted under a key id that is not
 *   among the configured secret keys (`secretKeys`, `encryptSecrets`); the message names the
 *   key id, never the value.
 * - `secret_decrypt_failed`: a stored signing secret did not authenticate under its key (a
 *   wrong key with the same id, a tampered value, or a value copied from another scope).
 */
export type HooklineErrorCode =
  | 'validation_failed'
  | 'not_found'
  | 'conflict'
  | 'template_invalid'
  | 'template_render_failed'
  | 'signature_invalid'
  | 'ssrf_blocked'
  | 'store_failed'
  | 'worker_state'
  | 'invalid_option'
  | 'transport_unsupported'
  | 'store_unsupported'
  | 'secret_key_unknown'
  | 'secret_decrypt_failed';

/** Options accepted by every hookline error constructor. */
export interface HooklineErrorOptions {
  /** The underlying error, kept as `error.cause`. */
  cause?: unknown;
}

type Branded = { [BRAND]?: readonly string[] };

function hasKind(value: unknown, kind: string): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const kinds = (value as Branded)[BRAND];
  return Array.isArray(kinds) && kinds.includes(kind);
}

/**
 * Base class of every hookline error.
 *
 * @example
 * ```ts
 * if (err instanceof HooklineError) log.warn({ code: err.code }, err.message);
 * ```
 */
export class HooklineError extends Error {
  /** Class identity used by `instanceof` across package copies. */
  static readonly kind: string = 'HooklineError';
  /** Stable machine-readable code; switch on this, not on the message. */
  readonly code: HooklineErrorCode;

  constructor(code: HooklineErrorCode, message: string, options: HooklineErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.kind;
    const kinds: string[] = [];
    for (let c: unknown = new.target; typeof c === 'function' && 'kind' in c; c = Object.getPrototypeOf(c)) {
      const kind = (c as { kind: unknown }).kind;
      if (typeof kind === 'string' && !kinds.includes(kind)) kinds.push(kind);
    }
    Object.defineProperty(this, BRAND, { value: Object.freeze(kinds), enumerable: false });
  }

  /**
   * `instanceof` by class identity (`kind`), so it also holds for an error made by another copy
   * of hookline (two versions in one `node_modules`, or the ESM and the CJS build side by side).
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the subclass being tested against
    return hasKind(value, this.kind);
  }

  /** A plain JSON-able view: `{ name, code, message }` plus subclass details. */
  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message };
  }
}

/** One problem found while validating input. `path` names the field, e.g. `['eventTypes', 2]`. */
export interface ValidationIssue {
  /** Where the problem is, as a list of keys and indexes from the input's root. */
  path: (string | number)[];
  /** A stable, machine-readable issue code such as `invalid_url` or `unknown_event_type`. */
  code: string;
  /** A sentence a user can act on. */
  message: string;
}

/**
 * Input did not pass validation. `issues` lists every problem found, each with a field path.
 *
 * @example
 * ```ts
 * new ValidationError([{ path: ['url'], code: 'invalid_url', message: 'Enter a valid URL.' }]);
 * ```
 */
export class ValidationError extends HooklineError {
  static override readonly kind: string = 'ValidationError';
  /** Every problem found, in input order. Never empty. */
  readonly issues: ValidationIssue[];

  constructor(issues: ValidationIssue[], options: HooklineErrorOptions = {}) {
    const first = issues[0];
    const where = first && first.path.length > 0 ? `${first.path.join('.')}: ` : '';
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
    super(
      'validation_failed',
      `Invalid input: ${where}${first?.message ?? 'unknown problem'}${more}`,
      options,
    );
    this.issues = issues;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), issues: this.issues };
  }
}

/** The kinds of thing that can be looked up and not found. */
export type ResourceKind = 'webhook' | 'delivery' | 'scope' | 'notification';

/**
 * A webhook (or delivery) does not exist in the given scope. A webhook of another scope is
 * reported exactly like a missing one, so no caller can learn what other scopes hold.
 *
 * @example
 * ```ts
 * throw new NotFoundError('webhook', { scope: 'acme', id: 42 });
 * ```
 */
export class NotFoundError extends HooklineError {
  static override readonly kind: string = 'NotFoundError';
  readonly resource: ResourceKind;
  readonly scope: string;
  readonly id: string | number;

  constructor(
    resource: ResourceKind,
    where: { scope: string; id: string | number },
    options: HooklineErrorOptions = {},
  ) {
    super(
      'not_found',
      `No ${resource} ${JSON.stringify(where.id)} in scope ${JSON.stringify(where.scope)}.`,
      options,
    );
    this.resource = resource;
    this.scope = where.scope;
    this.id = where.id;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), resource: this.resource, scope: this.scope, id: this.id };
  }
}

/**
 * The change conflicts with existing state, e.g. a duplicate webhook `key` in one scope.
 *
 * @example
 * ```ts
 * throw new ConflictError('A webhook with key "orders" already exists in scope "acme".', { field: 'key' });
 * ```
 */
export class ConflictError extends HooklineError {
  static override readonly kind: string = 'ConflictError';
  /** The field whose value conflicts, when there is one. */
  readonly field: string | undefined;

  constructor(message: string, details: { field?: string } & HooklineErrorOptions = {}) {
    super('conflict', message, details);
    this.field = details.field;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), field: this.field };
  }
}

/** Where in a template a problem was found. Lines and columns start at 1. */
export interface TemplatePosition {
  offset: number;
  line: number;
  column: number;
}

/**
 * A template does not parse (`template_invalid`, with its position), or rendering produced
 * something unsafe such as a header value with a line break (`template_render_failed`).
 *
 * @example
 * ```ts
 * if (err instanceof TemplateError) console.log(err.position?.line, err.position?.column);
 * ```
 */
export class TemplateError extends HooklineError {
  static override readonly kind: string = 'TemplateError';
  readonly position: TemplatePosition | undefined;

  constructor(
    code: 'template_invalid' | 'template_render_failed',
    message: string,
    details: { position?: TemplatePosition } & HooklineErrorOptions = {},
  ) {
    super(code, message, details);
    this.position = details.position;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), position: this.position };
  }
}

/** A short description of a value for an error message: its type, and its text when short. */
function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing (the option is missing)';
  if (value === null) return 'null';
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'bigint') return `the bigint ${value}`;
  if (typeof value === 'symbol') return 'a symbol';
  const text = typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? String(value));
  return `${typeof value} ${text.length > 60 ? `${text.slice(0, 57)}...` : text}`;
}

/**
 * Builds the `invalid_option` error for an option that is missing or has the wrong type or
 * value: `<where>: option "<name>" must be <expected>; got <what was given>.`
 *
 * @example
 * ```ts
 * throw invalidOption('pretixHandler()', 'maxBodyBytes', 'a non-negative integer (bytes)', -1);
 * // HooklineError invalid_option: 'pretixHandler(): option "maxBodyBytes" must be a non-negative
 * //   integer (bytes); got number -1.'
 * ```
 */
export function invalidOption(
  where: string,
  option: string,
  expected: string,
  value: unknown,
  options: HooklineErrorOptions = {},
): HooklineError {
  return new HooklineError(
    'invalid_option',
    `${where}: option "${option}" must be ${expected}; got ${describeValue(value)}.`,
    options,
  );
}

/**
 * Returns true for any hookline error, including ones thrown by another copy of the package.
 *
 * @example
 * ```ts
 * if (isHooklineError(err)) return json({ code: err.code }, 400);
 * ```
 */
export function isHooklineError(value: unknown): value is HooklineError {
  return hasKind(value, HooklineError.kind);
}
