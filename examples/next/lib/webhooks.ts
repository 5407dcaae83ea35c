/**
 * The webhook registries and the Fetch handler of this app, built once per server process.
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

/** Toy tokens: token → the scopes it may use. Real apps look tokens up in their database. */
const TOKENS: Readonly<Record<string, readonly string[]>> = {
  'demo-token-bigevents': ['bigevents'],
  'demo-token-merchant': ['default', 'shop'],
};

/** Accepts `Authorization: Token <t>` (pretix) and `Bearer <t>` (Taler). */
export const authorize: Authorize = ({ request, scope }) => {
  const match = /^(?:Token|Bearer) (.+)$/.exec(request.headers.get('authorization') ?? '');
  if (match?.[1] === undefined) return 'unauthenticated';
  // Own keys only: `Token toString` must not find Object.prototype.toString.
  const scopes = Object.hasOwn(TOKENS, match[1]) ? TOKENS[match[1]] : undefined;
  if (scopes === undefined) return 'invalid_token';
  return scopes.includes(scope);
};

function createHandler(): FetchHandler {
  return combineHandlers(
    pretixHandler(new WebhookRegistry({ catalog: pretixCatalog }), { authorize, basePath: '/api/v1' }),
    talerHandler(new WebhookRegistry({ catalog: talerCatalog }), { authorize, basePath: '/api/taler' }),
  );
}

// One handler per process, also when `next dev` reloads this module.
const cache = globalThis as typeof globalThis & { hooklineHandler?: FetchHandler };
cache.hooklineHandler ??= createHandler();
export const handler: FetchHandler = cache.hooklineHandler;
