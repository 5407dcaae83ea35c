/**
 * `hookline/ui`: the delivery-log page, a Fetch handler the host mounts behind its own login,
 * as it mounts the route handlers of `hookline/http`.
 *
 * @module
 */
import type { FetchHandler } from '../http/shared/types.js';
import type { WebhookRegistry } from '../registry/registry.js';
import { UiHandler } from './handler.js';
import { type DeliveryLogUiOptions, resolveUiOptions } from './options.js';

export { CONTENT_SECURITY_POLICY } from './handler.js';
export type { DeliveryLogUiOptions } from './options.js';

/**
 * The delivery-log page of a registry: a Fetch handler (`Request` in, `Response` out, never
 * rejects) serving server-rendered HTML below `basePath`: a scope's webhooks with their health
 * and charts, its deliveries (filters, search by delivery or notification id, pages), one
 * delivery with its request and every attempt, and POST-form actions (redeliver, cancel
 * retries, recover a range, enable, disable, test ping). Mount it like the route handlers:
 * `toNodeHandler(ui)` for `node:http`, Express and Fastify, directly in Hono and Next.js;
 * `combineHandlers` passes it what is outside `basePath`.
 *
 * Safe by construction: every value is escaped, a Content-Security-Policy allows only the
 * page's own script and styles (shipped in the package) and no framing, every POST carries a
 * CSRF token, no secret (signing secrets, credential headers, URL credentials and query
 * values) is shown, and a scope the user may not read answers 404. The store needs
 * `searchDeliveries` and `webhookActivity` (the memory and PostgreSQL stores have them).
 * Throws `invalid_option` for bad options.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { WebhookRegistry } from 'hookline';
 * import { toNodeHandler } from 'hookline/http';
 * import { deliveryLogUi } from 'hookline/ui';
 *
 * const registry = new WebhookRegistry();
 * const ui = deliveryLogUi(registry, {
 *   basePath: '/webhooks-log',
 *   authorize: ({ request, scope }) => request.headers.get('x-user-scope') === scope,
 * });
 * createServer(toNodeHandler(ui)).listen(3000, '127.0.0.1');
 * ```
 */
export function deliveryLogUi(registry: WebhookRegistry, options: DeliveryLogUiOptions): FetchHandler {
  const handler = new UiHandler(registry, resolveUiOptions(registry, options));
  return (request) => handler.handle(request);
}
