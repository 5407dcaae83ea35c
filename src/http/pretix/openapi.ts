/**
 * The OpenAPI 3.1 document of the pretix dialect, generated from its zod wire schemas.
 */

import {
  checkDocumentOptions,
  extensionPaths,
  extensionSchemas,
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
import { attemptSchema, deliverySchema } from '../shared/schemas.js';
import {
  pretixDetailSchema,
  pretixFieldErrorsSchema,
  pretixPageSchema,
  pretixWebhookInputSchema,
  pretixWebhookPatchSchema,
  pretixWebhookSchema,
} from './schemas.js';

/** Options of {@link pretixOpenApi}. */
export interface PretixOpenApiOptions {
  /** Must match the handler's `basePath`. Default `/api/v1`. */
  basePath?: string;
  /** `info.version`. Default `1.0.0`. */
  version?: string;
}

/**
 * The OpenAPI 3.1 document of the pretix dialect, hookline extensions included (tagged
 * `hookline extensions`, marked `x-hookline-extension`).
 *
 * @example
 * ```ts
 * const doc = pretixOpenApi({ basePath: '/api/v1' });
 * doc.openapi; // '3.1.0'
 * ```
 */
export function pretixOpenApi(options: PretixOpenApiOptions = {}): OpenApiDocument {
  checkDocumentOptions('pretixOpenApi()', options);
  const base = normalizeBasePath(options.basePath ?? '/api/v1');
  const organizer = pathParam('organizer', 'The slug of the organizer (the scope).');
  const id = pathParam('id', 'The id of the webhook.', 'integer');
  const delivery = pathParam('delivery_id', 'The id of the delivery.');
  const page = queryParam('page', 'Page number (50 per page), default 1; `last` for the last page.', {
    type: 'string',
  });
  const common = {
    '401': reply('Authentication failure', ref('Detail')),
    '403': reply('The organizer does not exist or you have no permission.', ref('Detail')),
  };
  const withBody = {
    '400': reply('Invalid submitted data.', ref('FieldErrors')),
    '413': reply('The body is larger than the limit.', ref('Detail')),
    '415': reply('The body is not JSON.', ref('Detail')),
  };
  const notFound = { '404': reply('Unknown webhook.', ref('Detail')) };
  return openApiDocument({
    title: 'Webhooks (pretix dialect)',
    version: options.version ?? '1.0.0',
    description:
      'The pretix organizer-level webhook REST API, served by hookline. Paths tagged "hookline extensions" are not part of pretix.',
    security: [{ token: [] }],
    paths: {
      [`${base}/organizers/{organizer}/webhooks/`]: {
        parameters: [organizer],
        get: {
          operationId: 'listWebhooks',
          tags: ['webhooks'],
          parameters: [
            page,
            queryParam('enabled', 'Only enabled (`true`, `1`) or disabled (`false`, `0`) webhooks.', {
              type: 'string',
            }),
          ],
          responses: {
            '200': reply('A page of webhooks, ordered by id.', ref('WebhookPage')),
            ...common,
            '404': reply('Invalid page.', ref('Detail')),
          },
        },
        post: {
          operationId: 'createWebhook',
          tags: ['webhooks'],
          requestBody: requestBody('WebhookInput'),
          responses: { '201': reply('Created.', ref('Webhook')), ...withBody, ...common },
        },
      },
      [`${base}/organizers/{organizer}/webhooks/{id}/`]: {
        parameters: [organizer, id],
        get: {
          operationId: 'getWebhook',
          tags: ['webhooks'],
          responses: { '200': reply('The webhook.', ref('Webhook')), ...common, ...notFound },
        },
        put: {
          operationId: 'replaceWebhook',
          tags: ['webhooks'],
          description: 'Full update: omitted optional fields are reset to their defaults.',
          requestBody: requestBody('WebhookInput'),
          responses: { '200': reply('Updated.', ref('Webhook')), ...withBody, ...common, ...notFound },
        },
        patch: {
          operationId: 'updateWebhook',
          tags: ['webhooks'],
          description: 'Partial update: omitted fields stay as they are.',
          requestBody: requestBody('WebhookPatch'),
          responses: { '200': reply('Updated.', ref('Webhook')), ...withBody, ...common, ...notFound },
        },
        delete: {
          operationId: 'deleteWebhook',
          tags: ['webhooks'],
          description: 'Disables the webhook (it stays readable with `enabled: false`).',
          responses: { '204': reply('Disabled.'), ...common, ...notFound },
        },
      },
      ...extensionPaths({
        webhook: { path: `${base}/organizers/{organizer}/webhooks/{id}`, parameters: [organizer, id] },
        delivery: {
          path: `${base}/organizers/{organizer}/webhook-deliveries/{delivery_id}`,
          parameters: [organizer, delivery],
        },
        trailingSlash: '/',
        page,
        lists: { deliveries: 'DeliveryPage', attempts: 'AttemptPage' },
        errors: { ...common, ...notFound },
        badBody: { '400': reply('Invalid submitted data.', ref('FieldErrors')) },
        conflict: { '409': reply('The delivery is not pending.', ref('Detail')) },
      }),
    },
    securitySchemes: {
      token: {
        type: 'apiKey',
        in: 'header',
        name: 'Authorization',
        description: 'As decided by the host, e.g. `Token <api token>`.',
      },
    },
    schemas: {
      Webhook: jsonSchema(pretixWebhookSchema, 'output'),
      WebhookInput: jsonSchema(pretixWebhookInputSchema, 'input'),
      WebhookPatch: jsonSchema(pretixWebhookPatchSchema, 'input'),
      WebhookPage: jsonSchema(pretixPageSchema(pretixWebhookSchema), 'output'),
      Delivery: extensionSchemas.Delivery(),
      DeliveryPage: jsonSchema(pretixPageSchema(deliverySchema), 'output'),
      Attempt: extensionSchemas.Attempt(),
      AttemptPage: jsonSchema(pretixPageSchema(attemptSchema), 'output'),
      RecoverRequest: extensionSchemas.RecoverRequest(),
      RecoverResult: extensionSchemas.RecoverResult(),
      CancelRequest: extensionSchemas.CancelRequest(),
      Ordering: extensionSchemas.Ordering(),
      OrderingRequest: extensionSchemas.OrderingRequest(),
      Detail: jsonSchema(pretixDetailSchema, 'output'),
      FieldErrors: jsonSchema(pretixFieldErrorsSchema, 'output'),
    },
  });
}
