/**
 * The webhook registries, the Fetch handler of the two webhook APIs and the two delivery-log
 * UIs of this app, built once per server process.
 *
 * Webhooks live in memory here, so they are gone when the server restarts. A real app passes a
 * durable store: `postgresStore({ db: pool })` from `hookline/postgres` on its own database.
 */
import { pretixCatalog, talerCatalog, WebhookRegistry } from 'hookline';
import {
  type Authorize,
  combineHandlers,
  type FetchHandler,
  pretixHandler,
  talerHandler,
} from 'hookline/http';
import { deliveryLogUi } from 'hookline/ui';

/** Toy tokens: token → the scopes it may use. Real apps look tokens up in their database. */
const TOKENS: Readonly<Record<string, readonly string[]>> = {
  'demo-token-bigevents': ['bigevents'],
  'demo-token-merchant': ['default', 'shop'],
};

/** The scopes of a token, or `undefined` for one it does not know (own keys only). */
function scopesOf(token: string | undefined): readonly string[] | undefined {
  // `Token toString` must not find Object.prototype.toString.
  return token !== undefined && Object.hasOwn(TOKENS, token) ? TOKENS[token] : undefined;
}

/** The token of `Authorization: Token <t>` (pretix) or `Bearer <t>` (Taler). */
function apiToken(request: Request): string | undefined {
  return /^(?:Token|Bearer) (.+)$/.exec(request.headers.get('authorization') ?? '')?.[1];
}

/** The password of `Authorization: Basic …`: what a browser sends after the login prompt. */
function basicPassword(request: Request): string | undefined {
  const encoded = /^Basic ([A-Za-z0-9+/=]+)$/.exec(request.headers.get('authorization') ?? '')?.[1];
  if (encoded === undefined) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

function decide(token: string | undefined, scope: string): boolean | 'unauthenticated' | 'invalid_token' {
  if (token === undefined) return 'unauthenticated';
  const scopes = scopesOf(token);
  if (scopes === undefined) return 'invalid_token';
  return scopes.includes(scope);
}

/** Accepts `Authorization: Token <t>` (pretix) and `Bearer <t>` (Taler). */
export const authorize: Authorize = ({ request, scope }) => decide(apiToken(request), scope);

/** The UIs' check: HTTP Basic with a demo token as the password, or the APIs' headers. */
const uiAuthorize: Authorize = ({ request, scope }) =>
  decide(basicPassword(request) ?? apiToken(request), scope);

/** The app's handlers: the APIs under /api, and one delivery-log UI per registry. */
interface Handlers {
  api: FetchHandler;
  pretixUi: FetchHandler;
  talerUi: FetchHandler;
}

function ui(registry: WebhookRegistry, basePath: string, title: string): FetchHandler {
  return deliveryLogUi(registry, {
    authorize: uiAuthorize,
    basePath,
    title,
    // The index page offers the scopes of the token the browser logged in with.
    scopes: (request) => [...(scopesOf(basicPassword(request) ?? apiToken(request)) ?? [])],
    // No (or an unknown) token: the browser's login prompt (any user, a demo token as password).
    onUnauthenticated: () =>
      new Response('Log in with any user name and a demo token as the password.\n', {
        status: 401,
        headers: { 'www-authenticate': 'Basic realm="hookline", charset="UTF-8"' },
      }),
  });
}

function createHandlers(): Handlers {
  const pretix = new WebhookRegistry({ catalog: pretixCatalog });
  const taler = new WebhookRegistry({ catalog: talerCatalog });
  return {
    api: combineHandlers(
      pretixHandler(pretix, { authorize, basePath: '/api/v1' }),
      talerHandler(taler, { authorize, basePath: '/api/taler' }),
    ),
    pretixUi: ui(pretix, '/ui', 'Webhooks (pretix)'),
    talerUi: ui(taler, '/taler/ui', 'Webhooks (Taler)'),
  };
}

// One set of handlers per process, also when `next dev` reloads this module.
const cache = globalThis as typeof globalThis & { hooklineHandlers?: Handlers };
cache.hooklineHandlers ??= createHandlers();
export const handler: FetchHandler = cache.hooklineHandlers.api;
export const pretixUi: FetchHandler = cache.hooklineHandlers.pretixUi;
export const talerUi: FetchHandler = cache.hooklineHandlers.talerUi;
