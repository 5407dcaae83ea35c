/** Pieces both dialects share: option defaults, authorization, scope checks, page numbers. */
import { scopeSchema } from '../model.js';
import type { AuthorizeResult, HandlerOptions, Permission } from './types.js';
import { DEFAULT_MAX_BODY_BYTES } from './types.js';

/** Options with their defaults applied. */
export interface ResolvedOptions {
  authorize: HandlerOptions['authorize'];
  scopeExists: (scope: string) => boolean | Promise<boolean>;
  maxBodyBytes: number;
  onError: (error: unknown, request: Request) => void;
  openApiPath: string | undefined;
}

/** Applies defaults and checks the options once, when the handler is built. */
export function resolveOptions(options: HandlerOptions): ResolvedOptions {
  if (typeof options?.authorize !== 'function') {
    throw new TypeError('hookline/http: the "authorize" option is required (a function).');
  }
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 0) {
    throw new TypeError('hookline/http: "maxBodyBytes" must be a non-negative integer.');
  }
  return {
    authorize: options.authorize,
    scopeExists: options.scopeExists ?? (() => true),
    maxBodyBytes,
    onError:
      options.onError ??
      ((error: unknown) => {
        console.error('hookline/http: unexpected error', error);
      }),
    openApiPath: options.openApiPath,
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
