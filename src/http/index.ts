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

export { BodyTooLargeError } from './body.js';
export { combineHandlers } from './compose.js';
export { FETCH_FORBIDDEN_METHODS, requestMethod } from './method.js';
export { type NodeHandler, type NodeHandlerOptions, toNodeHandler } from './node.js';
export {
  type OpenApiDocument,
  type PretixOpenApiOptions,
  pretixOpenApi,
  type TalerOpenApiOptions,
  talerOpenApi,
} from './openapi.js';
export { PRETIX_PAGE_SIZE, type PretixHandlerOptions, pageLink, pretixHandler } from './pretix.js';
export {
  type PretixFieldErrors,
  type PretixWebhook,
  pretixErrorsFromIssues,
  toPretixWebhook,
} from './pretix-wire.js';
export { isUnmatched } from './respond.js';
export { type TalerHandlerOptions, talerHandler } from './taler.js';
export {
  TALER_ERRORS,
  type TalerErrorBody,
  type TalerErrorName,
  type TalerErrorSpec,
  type TalerWebhookDetails,
  toTalerWebhook,
} from './taler-wire.js';
export {
  type Authorize,
  type AuthorizeContext,
  type AuthorizeResult,
  DEFAULT_MAX_BODY_BYTES,
  type FetchHandler,
  type HandlerOptions,
  type Permission,
} from './types.js';
