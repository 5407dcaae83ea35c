/** Pieces both dialects share: option defaults, authorization, scope checks, page numbers. */
import { invalidOption } from '../../errors.js';
import { scopeSchema } from '../../model.js';
import { type Logger, log } from '../../observability/logger.js';
import {
  checkOptionalByteCount,
  checkOptionalFunction,
  checkOptionalString,
  checkOptionsObject,
} from '../../options.js';
import { normalizeBasePath } from './paths.js';
import type { AuthorizeResult, HandlerOptions, Permission } from './types.js';
import { DEFAULT_MAX_BODY_BYTES } from './types.js';

/** Options with their defaults applied. */
export interface ResolvedOptions {
  authorize: HandlerOptions['authorize'];
  scopeExists: (scope: string) => boolean | Promise<boolean>;
  maxBodyBytes: number;
  onError: (error: unknown, request: Request) => void;
  openApiPath: string | undefined;
  /** The `basePath` option normalised (see `normalizeBasePath`), or the dialect's default. */
  basePath: string;
}

/**
 * Checks that `options` is an object with an `authorize` function (required by every
 * handler: the dialects and the delivery-log page); throws `invalid_option` naming `where`.
 */
export function checkAuthorizeOption(where: string, options: { authorize?: unknown }): void {
  checkOptionsObject(where, options, 'an object with at least `authorize`');
  if (typeof options.authorize !== 'function') {
    throw invalidOption(
      where,
      'authorize',
      "a function ({ request, scope, permission }) => true | false | 'unauthenticated' | 'invalid_token' (it is required)",
      options.authorize,
    );
  }
}

/**
 * The default `onError` of a handler: the registry's `logger.error` with the request's method
 * and path, or `console.error` without a logger; `label` names the handler (`hookline/http`).
 */
export function reportUnexpected(
  label: string,
  logger: Logger | undefined,
): (error: unknown, request: Request) => void {
  return logger
    ? (error, request) =>
        log(
          logger,
          'error',
          { err: error, method: request.method, path: new URL(request.url).pathname },
          `${label}: unexpected error`,
        )
    : (error) => {
        console.error(`${label}: unexpected error`, error);
      };
}

/**
 * Applies defaults and checks the options once, when the handler is built. A missing
 * `authorize` or an option of the wrong type throws a `HooklineError` with code
 * `invalid_option` naming the option; `where` is the function, e.g. `pretixHandler()`.
 * `defaultBasePath` is the dialect's `basePath` when the option is left out. Without an
 * `onError`, unexpected errors go to `logger.error` (the registry's logger) or, without one,
 * to `console.error`.
 */
export function resolveOptions(
  options: HandlerOptions & { basePath?: string },
  where: string,
  defaultBasePath: string,
  logger?: Logger,
): ResolvedOptions {
  checkAuthorizeOption(where, options);
  checkOptionalFunction(where, 'scopeExists', options.scopeExists);
  checkOptionalByteCount(where, 'maxBodyBytes', options.maxBodyBytes);
  checkOptionalFunction(where, 'onError', options.onError);
  if (
    options.openApiPath !== undefined &&
    !(typeof options.openApiPath === 'string' && options.openApiPath.startsWith('/'))
  ) {
    throw invalidOption(
      where,
      'openApiPath',
      'a pathname starting with "/", e.g. "/api/v1/openapi.json"',
      options.openApiPath,
    );
  }
  checkOptionalString(where, 'basePath', options.basePath);
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  return {
    authorize: options.authorize,
    scopeExists: options.scopeExists ?? (() => true),
    maxBodyBytes,
    onError: options.onError ?? reportUnexpected('hookline/http', logger),
    openApiPath: options.openApiPath,
    basePath: normalizeBasePath(options.basePath ?? defaultBasePath),
  };
}

/** Reports an error to `onError`, which must never break the response. */
export function report(options: ResolvedOptions, error: unknown, request: Request): void {
  try {
    options.onError(error, request);
  } catch {
    // onError itself failed; nothing more we can do.
  }
}

/**
 * Calls `authorize`; anything but `true`, `false`, `'unauthenticated'` or `'invalid_token'`
 * counts as `false`.
 */
export async function authorizeRequest(
  options: ResolvedOptions,
  request: Request,
  scope: string,
  permission: Permission,
): Promise<AuthorizeResult> {
  const result: unknown = await options.authorize({ request, scope, permission });
  if (result === true || result === 'unauthenticated' || result === 'invalid_token') return result;
  return false;
}

/** Whether a scope name is valid and the host says it exists. */
export async function scopeKnown(options: ResolvedOptions, scope: string): Promise<boolean> {
  if (!scopeSchema.safeParse(scope).success) return false;
  return (await options.scopeExists(scope)) === true;
}

/**
 * Parses a page number like Django's paginator: optional spaces and sign, digits, at least 1.
 * `null` when invalid.
 */
export function parsePageNumber(raw: string | null): number | null {
  if (raw === null || raw === '') return 1;
  const match = /^\s*\+?(\d+)\s*$/.exec(raw);
  if (!match?.[1]) return null;
  const value = Number(match[1]);
  if (!Number.isSafeInteger(value) || value < 1) return null;
  return value;
}

/** The last value of a query parameter, as Django's `QueryDict.get` returns it. */
export function lastParam(url: URL, name: string): string | null {
  return url.searchParams.getAll(name).at(-1) ?? null;
}

/** Methods without side effects. */
export function isSafeMethod(method: string): boolean {
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS';
}

/** Serializes a date for the wire (ISO 8601), keeping `null`. */
export function isoOrNull(date: Date | null): string | null {
  return date === null ? null : date.toISOString();
}
