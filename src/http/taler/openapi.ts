/**
 * The OpenAPI 3.1 document of the GNU Taler merchant dialect, generated from its zod wire
 * schemas.
 */
import { checkOptionalString } from '../../options.js';
import {
  checkDocumentOptions,
  extensionPaths,
  extensionSchemas,
  type Json,
  jsonSchema,
  type OpenApiDocument,
  openApiDocument,
  pathParam,
  queryParam,
  ref,
  reply,
  requestBody,
} from '../shared/openapi.js';
import { normalizeBasePath } from '../shared/paths.js';
import {
  talerAttemptsSchema,
  talerDeliveriesSchema,
  talerErrorSchema,
  talerWebhookAddSchema,
  talerWebhookDetailsSchema,
  talerWebhookPatchSchema,
  talerWebhookSummarySchema,
} from './schemas.js';

/** Options of {@link talerOpenApi}. */
export interface TalerOpenApiOptions {
  /** Must match the handler's `basePath`. Default `''`. */
  basePath?: string;
  /** The default instance's scope (documentation only). Default `default`. */
  defaultScope?: string;
  /** `info.version`. Default `1.0.0`. */
  version?: string;
}

function talerPaths(prefix: string, scopeParam: Json | null, suffix: string): Json {
  const params = scopeParam === null ? [] : [scopeParam];
  const key = pathParam('webhook_id', 'The webhook ID (the registry `key`).');
  const delivery = pathParam('delivery_id', 'The id of the delivery.');
  const error = (description: string): Json => reply(description, ref('ErrorDetail'));
  const unauthorized = { '401': error('Unauthorized (code 2015).') };
  const unknownInstance = { '404': error('Unknown instance (2000) or webhook (2019).') };
  const page = queryParam('page', 'Page number (50 per page), default 1.', { type: 'integer', minimum: 1 });
  const op = (id: string): string => `${id}${suffix}`;
  return {
    [`${prefix}/private/webhooks`]: {
      ...(params.length > 0 ? { parameters: params } : {}),
      get: {
        operationId: op('listWebhooks'),
        tags: ['webhooks'],
        responses: {
          '200': reply('The webhooks.', ref('WebhookSummaryResponse')),
          ...unauthorized,
          ...unknownInstance,
        },
      },
      post: {
        operationId: op('createWebhook'),
        tags: ['webhooks'],
        requestBody: requestBody('WebhookAddDetails'),
        responses: {
          '204': reply('Created (or an identical webhook already existed).'),
          '400': error('Malformed body (22) or parameter (26).'),
          ...unauthorized,
          ...unknownInstance,
          '409': error('A different webhook with this ID exists (2900).'),
          '413': error('The body is too large (32).'),
        },
      },
    },
    [`${prefix}/private/webhooks/{webhook_id}`]: {
      parameters: [...params, key],
      get: {
        operationId: op('getWebhook'),
        tags: ['webhooks'],
        responses: {
          '200': reply('The webhook.', ref('WebhookDetails')),
          ...unauthorized,
          ...unknownInstance,
        },
      },
      patch: {
        operationId: op('updateWebhook'),
        tags: ['webhooks'],
        requestBody: requestBody('WebhookPatchDetails'),
        responses: {
          '204': reply('Updated.'),
          '400': error('Malformed body (22) or parameter (26).'),
          ...unauthorized,
          ...unknownInstance,
          '413': error('The body is too large (32).'),
        },
      },
      delete: {
        operationId: op('deleteWebhook'),
        tags: ['webhooks'],
        responses: { '204': reply('Deleted.'), ...unauthorized, ...unknownInstance },
      },
    },
    ...extensionPaths({
      webhook: { path: `${prefix}/private/webhooks/{webhook_id}`, parameters: [...params, key] },
      delivery: {
        path: `${prefix}/private/webhook-deliveries/{delivery_id}`,
        parameters: [...params, delivery],
      },
      operationIdSuffix: suffix,
      page,
      lists: { deliveries: 'DeliveryList', attempts: 'AttemptList' },
      errors: { ...unauthorized, ...unknownInstance },
      badBody: { '400': error('Malformed body (22) or parameter (26).') },
      conflict: { '409': error('The delivery is not pending (26).') },
    }),
  };
}

/**
 * The OpenAPI 3.1 document of the Taler dialect (default instance and `/instances/{instance}`
 * paths), hookline extensions included (tagged `hookline extensions`).
 *
 * @example
 * ```ts
 * const doc = talerOpenApi({ basePath: '/taler' });
 * Object.keys(doc.paths as object); // ['/taler/private/webhooks', ...]
 * ```
 */
export function talerOpenApi(options: TalerOpenApiOptions = {}): OpenApiDocument {
  checkDocumentOptions('talerOpenApi()', options);
  checkOptionalString('talerOpenApi()', 'defaultScope', options.defaultScope);
  const base = normalizeBasePath(options.basePath ?? '');
  const instance = pathParam('instance', 'The instance id (the scope).');
  return openApiDocument({
    title: 'Webhooks (GNU Taler merchant dialect)',
    version: options.version ?? '1.0.0',
    description: `The GNU Taler merchant webhook API, served by hookline. \`/private/...\` addresses the instance \`${
      options.defaultScope ?? 'default'
    }\`. Paths tagged "hookline extensions" are not part of Taler.`,
    security: [{ bearer: [] }],
    paths: {
      ...talerPaths(base, null, ''),
      ...talerPaths(`${base}/instances/{instance}`, instance, 'OfInstance'),
    },
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    schemas: {
      WebhookAddDetails: jsonSchema(talerWebhookAddSchema, 'input'),
      WebhookPatchDetails: jsonSchema(talerWebhookPatchSchema, 'input'),
      WebhookDetails: jsonSchema(talerWebhookDetailsSchema, 'output'),
      WebhookSummaryResponse: jsonSchema(talerWebhookSummarySchema, 'output'),
      ErrorDetail: jsonSchema(talerErrorSchema, 'output'),
      Delivery: extensionSchemas.Delivery(),
      DeliveryList: jsonSchema(talerDeliveriesSchema, 'output'),
      Attempt: extensionSchemas.Attempt(),
      AttemptList: jsonSchema(talerAttemptsSchema, 'output'),
      RecoverRequest: extensionSchemas.RecoverRequest(),
      RecoverResult: extensionSchemas.RecoverResult(),
      CancelRequest: extensionSchemas.CancelRequest(),
      Ordering: extensionSchemas.Ordering(),
      OrderingRequest: extensionSchemas.OrderingRequest(),
    },
  });
}
