/**
 * The options of `deliveryLogUi()` and their checks.
 *
 * @module
 */
import { invalidOption } from '../errors.js';
import { checkAuthorizeOption, reportUnexpected } from '../http/shared/common.js';
import type { Authorize } from '../http/shared/types.js';
import { checkOptionalBoolean, checkOptionalFunction, checkOptionalString } from '../options.js';
import type { WebhookRegistry } from '../registry/registry.js';

/**
 * Options of `deliveryLogUi()`.
 *
 * @example
 * ```ts
 * const options: DeliveryLogUiOptions = {
 *   authorize: ({ request, scope }) => sessionScopes(request).includes(scope),
 *   basePath: '/admin/webhooks',
 *   csrfSecret: process.env.HOOKLINE_UI_SECRET,
 * };
 * ```
 */
export interface DeliveryLogUiOptions {
  /**
   * The host's authorization callback (required), as for the route handlers of `hookline/http`:
   * called with `permission: 'webhooks-read'` for every page of a scope and
   * `'webhooks-write'` for its actions (forms are shown only with it). `false` for reading
   * answers 404 (a scope the user may not see looks like one that does not exist); `false`
   * for writing answers 403; `'unauthenticated'` and `'invalid_token'` answer
   * `onUnauthenticated` (default: a 401 page).
   */
  authorize: Authorize;
  /** Where the UI is mounted, e.g. `/admin/webhooks`. Default `''` (the root). */
  basePath?: string;
  /**
   * The scopes to offer on the start page (those the user may read are listed; exactly one
   * redirects to it). Default: none, the start page asks for a scope.
   */
  scopes?: (request: Request) => readonly string[] | Promise<readonly string[]>;
  /**
   * The key of the CSRF tokens (an HMAC key, at least 32 characters). Default: random per
   * process, which is right for one process; with several processes behind one address, or
   * to keep open pages working across restarts, give them all the same secret.
   */
  csrfSecret?: string;
  /**
   * Answers requests without (valid) credentials, e.g. a redirect to the host's login page or
   * a 401 with `WWW-Authenticate`. Default: a 401 page.
   */
  onUnauthenticated?: (request: Request) => Response | Promise<Response>;
  /** Whether the CSRF cookie is `Secure`. Default: when the request URL is `https:`. */
  secureCookies?: boolean;
  /** The name in the page header and titles. Default `'Delivery log'`. */
  title?: string;
  /**
   * Called with every unexpected error (a throwing `authorize`, a failing store); the user
   * gets a generic 500 page. Default: the registry's `logger.error`, or `console.error`.
   */
  onError?: (error: unknown, request: Request) => void;
}

/** The checked options. */
export interface ResolvedUiOptions {
  authorize: Authorize;
  basePath: string;
  scopes: DeliveryLogUiOptions['scopes'];
  csrfSecret: string | undefined;
  onUnauthenticated: DeliveryLogUiOptions['onUnauthenticated'];
  secureCookies: boolean | undefined;
  title: string;
  onError: (error: unknown, request: Request) => void;
}

/** Checks the options (throws `invalid_option`) and fills in the defaults. */
export function resolveUiOptions(
  registry: WebhookRegistry,
  options: DeliveryLogUiOptions,
): ResolvedUiOptions {
  const where = 'deliveryLogUi()';
  checkAuthorizeOption(where, options);
  checkOptionalString(where, 'basePath', options.basePath);
  if (options.basePath !== undefined && options.basePath !== '' && !options.basePath.startsWith('/'))
    throw invalidOption(
      where,
      'basePath',
      'a path starting with "/", e.g. "/admin/webhooks"',
      options.basePath,
    );
  checkOptionalFunction(where, 'scopes', options.scopes);
  checkOptionalFunction(where, 'onUnauthenticated', options.onUnauthenticated);
  checkOptionalFunction(where, 'onError', options.onError);
  checkOptionalBoolean(where, 'secureCookies', options.secureCookies);
  checkOptionalString(where, 'title', options.title);
  if (
    options.csrfSecret !== undefined &&
    (typeof options.csrfSecret !== 'string' || options.csrfSecret.length < 32)
  )
    throw invalidOption(where, 'csrfSecret', 'a string of at least 32 characters', '(a secret is not shown)');
  return {
    authorize: options.authorize,
    basePath: options.basePath ?? '',
    scopes: options.scopes,
    csrfSecret: options.csrfSecret,
    onUnauthenticated: options.onUnauthenticated,
    secureCookies: options.secureCookies,
    title: options.title ?? 'Delivery log',
    onError: options.onError ?? reportUnexpected('hookline/ui', registry.logger),
  };
}
