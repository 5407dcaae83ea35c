/**
 * Next.js App Router route file: `app/api/[...path]/route.ts` serves every `/api/*` path.
 * The handlers are plain Fetch functions, so they are exported as the route's methods.
 * pretix answers under /api/v1, Taler under /api/taler.
 *
 * In a real app, keep the registry in a module-level singleton (as here) or build it from your
 * database-backed store.
 */
import { combineHandlers, pretixHandler, talerHandler } from '../../../../../src/http/index.js';
import { pretixCatalog, talerCatalog, WebhookRegistry } from '../../../../../src/index.js';
import { authorize } from '../../../../shared/handlers.js';

const handler = combineHandlers(
  pretixHandler(new WebhookRegistry({ catalog: pretixCatalog }), { authorize, basePath: '/api/v1' }),
  talerHandler(new WebhookRegistry({ catalog: talerCatalog }), { authorize, basePath: '/api/taler' }),
);

export const GET = (request: Request): Promise<Response> => handler(request);
export const POST = GET;
export const PUT = GET;
export const PATCH = GET;
export const DELETE = GET;
export const HEAD = GET;
export const OPTIONS = GET;
