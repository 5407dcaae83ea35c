/**
 * `hookline/http`: the pretix and GNU Taler webhook APIs as Fetch-API route handlers, a Node
 * adapter, and their OpenAPI documents.
 *
 * @example
 * ```ts
 * import { pretixHandler, talerHandler, combineHandlers, toNodeHandler } from 'hookline/http';
 * const handler = combineHandlers(
 *   pretixHandler(pretixRegistry, { authorize }),
 *   talerHandler(talerRegistry, { authorize, basePath: '/taler' }),
 * );
 * createServer(toNodeHandler(handler)).listen(3000);
 * ```
 *
 * @module hookline/http
 */

export { PRETIX_PAGE_SIZE, type PretixHandlerOptions, pageLink, pretixHandler } from './pretix/handler.js';
export { type PretixOpenApiOptions, pretixOpenApi } from './pretix/openapi.js';
export {
  type PretixFieldErrors,
  type PretixWebhook,
  pretixErrorsFromIssues,
  toPretixWebhook,
} from './pretix/wire.js';
export { BodyTooLargeError } from './shared/body.js';
export { combineHandlers } from './shared/compose.js';
export { FETCH_FORBIDDEN_METHODS, requestMethod } from './shared/method.js';
export { type NodeHandler, type NodeHandlerOptions, toNodeHandler } from './shared/node.js';
export type { OpenApiDocument } from './shared/openapi.js';
export { isUnmatched } from './shared/respond.js';
export {
  type Authorize,
  type AuthorizeContext,
  type AuthorizeResult,
  DEFAULT_MAX_BODY_BYTES,
  type FetchHandler,
  type HandlerOptions,
  type Permission,
} from './shared/types.js';
export { type TalerHandlerOptions, talerHandler } from './taler/handler.js';
export { type TalerOpenApiOptions, talerOpenApi } from './taler/openapi.js';
export {
  TALER_ERRORS,
  type TalerErrorBody,
  type TalerErrorName,
  type TalerErrorSpec,
  type TalerWebhookDetails,
  toTalerWebhook,
} from './taler/wire.js';
