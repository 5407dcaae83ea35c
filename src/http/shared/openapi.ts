/**
 * OpenAPI 3.1 documents of both dialects, generated from the zod wire schemas.
 */
import { z } from 'zod';
import { checkOptionalString, checkOptionsObject } from '../../options.js';
import { normalizeBasePath } from './paths.js';
import {
  attemptSchema,
  deliverySchema,
  pretixDetailSchema,
  pretixFieldErrorsSchema,
  pretixPageSchema,
  pretixWebhookInputSchema,
  pretixWebhookPatchSchema,
  pretixWebhookSchema,
  talerAttemptsSchema,
  talerDeliveriesSchema,
  talerErrorSchema,
  talerWebhookAddSchema,
  talerWebhookDetailsSchema,
  talerWebhookPatchSchema,
  talerWebhookSummarySchema,
} from './schemas.js';

/** A JSON object, as the OpenAPI documents are. */
export type OpenApiDocument = Record<string, unknown>;

/** Options of {@link pretixOpenApi}. */
export interface PretixOpenApiOptions {
  /** Must match the handler's `basePath`. Default `/api/v1`. */
  basePath?: string;
  /** `info.version`. Default `1.0.0`. */
  version?: string;
}

/** Options of {@link talerOpenApi}. */
export interface TalerOpenApiOptions {
  /** Must match the handler's `basePath`. Default `''`. */
  basePath?: string;
  /** The default instance's scope (documentation only). Default `default`. */
  defaultScope?: string;
  /** `info.version`. Default `1.0.0`. */
  version?: string;
}

type Json = Record<string, unknown>;

/** Throws `invalid_option` for options that are not an object or a `basePath`/`version` that is not a string. */
function checkDocumentOptions(where: string, options: unknown): void {
  checkOptionsObject(where, options);
  const { basePath, version } = options as { basePath?: unknown; version?: unknown };
  checkOptionalString(where, 'basePath', basePath);
  checkOptionalString(where, 'version', version);
}

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Json {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io }) as Json;
  return rest;
}

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
const content = (schema: Json): Json => ({ 'application/json': { schema } });
const reply = (description: string, schema?: Json): Json =>
  schema === undefined ? { description } : { description, content: content(schema) };
const body = (name: string): Json => ({ required: true, content: content(ref(name)) });
const pathParam = (name: string, description: string, type: 'string' | 'integer' = 'string'): Json => ({
  name,
  in: 'path',
  required: true,
  description,
  schema: { type },
});
const queryParam = (name: string, description: string, schema: Json): Json => ({
  name,
  in: 'query',
  required: false,
  description,
  schema,
});

const EXTENSION = { tags: ['hookline extensions'], 'x-hookline-extension': true };

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
  return {
    openapi: '3.1.0',
    info: {
      title: 'Webhooks (pretix dialect)',
      version: options.version ?? '1.0.0',
      description:
        'The pretix organizer-level webhook REST API, served by hookline. Paths tagged "hookline extensions" are not part of pretix.',
    },
    security: [{ token: [] }],
    tags: [{ name: 'webhooks' }, { name: 'hookline extensions' }],
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
          requestBody: body('WebhookInput'),
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
          requestBody: body('WebhookInput'),
          responses: { '200': reply('Updated.', ref('Webhook')), ...withBody, ...common, ...notFound },
        },
        patch: {
          operationId: 'updateWebhook',
          tags: ['webhooks'],
          description: 'Partial update: omitted fields stay as they are.',
          requestBody: body('WebhookPatch'),
          responses: { '200': reply('Updated.', ref('Webhook')), ...withBody, ...common, ...notFound },
        },
        delete: {
          operationId: 'deleteWebhook',
          tags: ['webhooks'],
          description: 'Disables the webhook (it stays readable with `enabled: false`).',
          responses: { '204': reply('Disabled.'), ...common, ...notFound },
        },
      },
      [`${base}/organizers/{organizer}/webhooks/{id}/deliveries/`]: {
        parameters: [organizer, id],
        get: {
          ...EXTENSION,
          operationId: 'listDeliveries',
          parameters: [page],
          responses: {
            '200': reply('Deliveries, newest first.', ref('DeliveryPage')),
            ...common,
            ...notFound,
          },
        },
      },
      [`${base}/organizers/{organizer}/webhooks/{id}/ping/`]: {
        parameters: [organizer, id],
        post: {
          ...EXTENSION,
          operationId: 'pingWebhook',
          responses: { '202': reply('A test delivery was queued.', ref('Delivery')), ...common, ...notFound },
        },
      },
      [`${base}/organizers/{organizer}/webhook-deliveries/{delivery_id}/attempts/`]: {
        parameters: [organizer, delivery],
        get: {
          ...EXTENSION,
          operationId: 'listAttempts',
          parameters: [page],
          responses: { '200': reply('Attempts, newest first.', ref('AttemptPage')), ...common, ...notFound },
        },
      },
      [`${base}/organizers/{organizer}/webhook-deliveries/{delivery_id}/redeliver/`]: {
        parameters: [organizer, delivery],
        post: {
          ...EXTENSION,
          operationId: 'redeliver',
          responses: {
            '202': reply('The delivery was queued again.', ref('Delivery')),
            ...common,
            ...notFound,
          },
        },
      },
    },
    components: {
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
        Delivery: jsonSchema(deliverySchema, 'output'),
        DeliveryPage: jsonSchema(pretixPageSchema(deliverySchema), 'output'),
        Attempt: jsonSchema(attemptSchema, 'output'),
        AttemptPage: jsonSchema(pretixPageSchema(attemptSchema), 'output'),
        Detail: jsonSchema(pretixDetailSchema, 'output'),
        FieldErrors: jsonSchema(pretixFieldErrorsSchema, 'output'),
      },
    },
  };
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
        requestBody: body('WebhookAddDetails'),
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
        requestBody: body('WebhookPatchDetails'),
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
    [`${prefix}/private/webhooks/{webhook_id}/deliveries`]: {
      parameters: [...params, key],
      get: {
        ...EXTENSION,
        operationId: op('listDeliveries'),
        parameters: [page],
        responses: {
          '200': reply('Deliveries, newest first.', ref('DeliveryList')),
          ...unauthorized,
          ...unknownInstance,
        },
      },
    },
    [`${prefix}/private/webhooks/{webhook_id}/ping`]: {
      parameters: [...params, key],
      post: {
        ...EXTENSION,
        operationId: op('pingWebhook'),
        responses: {
          '202': reply('A test delivery was queued.', ref('Delivery')),
          ...unauthorized,
          ...unknownInstance,
        },
      },
    },
    [`${prefix}/private/webhook-deliveries/{delivery_id}/attempts`]: {
      parameters: [...params, delivery],
      get: {
        ...EXTENSION,
        operationId: op('listAttempts'),
        parameters: [page],
        responses: {
          '200': reply('Attempts, newest first.', ref('AttemptList')),
          ...unauthorized,
          ...unknownInstance,
        },
      },
    },
    [`${prefix}/private/webhook-deliveries/{delivery_id}/redeliver`]: {
      parameters: [...params, delivery],
      post: {
        ...EXTENSION,
        operationId: op('redeliver'),
        responses: {
          '202': reply('The delivery was queued again.', ref('Delivery')),
          ...unauthorized,
          ...unknownInstance,
        },
      },
    },
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
  return {
    openapi: '3.1.0',
    info: {
      title: 'Webhooks (GNU Taler merchant dialect)',
      version: options.version ?? '1.0.0',
      description: `The GNU Taler merchant webhook API, served by hookline. \`/private/...\` addresses the instance \`${
        options.defaultScope ?? 'default'
      }\`. Paths tagged "hookline extensions" are not part of Taler.`,
    },
    security: [{ bearer: [] }],
    tags: [{ name: 'webhooks' }, { name: 'hookline extensions' }],
    paths: {
      ...talerPaths(base, null, ''),
      ...talerPaths(`${base}/instances/{instance}`, instance, 'OfInstance'),
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        WebhookAddDetails: jsonSchema(talerWebhookAddSchema, 'input'),
        WebhookPatchDetails: jsonSchema(talerWebhookPatchSchema, 'input'),
        WebhookDetails: jsonSchema(talerWebhookDetailsSchema, 'output'),
        WebhookSummaryResponse: jsonSchema(talerWebhookSummarySchema, 'output'),
        ErrorDetail: jsonSchema(talerErrorSchema, 'output'),
        Delivery: jsonSchema(deliverySchema, 'output'),
        DeliveryList: jsonSchema(talerDeliveriesSchema, 'output'),
        Attempt: jsonSchema(attemptSchema, 'output'),
        AttemptList: jsonSchema(talerAttemptsSchema, 'output'),
      },
    },
  };
}
