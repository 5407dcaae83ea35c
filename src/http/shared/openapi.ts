/**
 * What every dialect's OpenAPI 3.1 document shares: the document skeleton, the hookline
 * extension operations, and small builders for parameters, replies and schemas. Each dialect's
 * document is built in its folder's `openapi.ts`.
 */
import { z } from 'zod';
import { checkOptionalString, checkOptionsObject } from '../../options.js';
import { attemptSchema, deliverySchema, orderingRequestSchema, orderingSchema } from './schemas.js';

/** A JSON object, as the OpenAPI documents are. */
export type OpenApiDocument = Record<string, unknown>;

/** A JSON object inside a document (an operation, a schema, a parameter...). */
export type Json = Record<string, unknown>;

/**
 * Throws `invalid_option` for options that are not an object or a `basePath`/`version` that
 * is not a string; `where` names the function, e.g. `pretixOpenApi()`.
 *
 * @example
 * ```ts
 * checkDocumentOptions('pretixOpenApi()', options);
 * ```
 */
export function checkDocumentOptions(where: string, options: unknown): void {
  checkOptionsObject(where, options);
  const { basePath, version } = options as { basePath?: unknown; version?: unknown };
  checkOptionalString(where, 'basePath', basePath);
  checkOptionalString(where, 'version', version);
}

/**
 * The JSON Schema of a zod schema, as a component (without `$schema`).
 *
 * @example
 * ```ts
 * jsonSchema(deliverySchema, 'output'); // { type: 'object', properties: { id: ... }, ... }
 * ```
 */
export function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Json {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io }) as Json;
  return rest;
}

/** A reference to a component schema, e.g. `ref('Webhook')`. */
export const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
const content = (schema: Json): Json => ({ 'application/json': { schema } });
/** A response, with a JSON body when `schema` is given, e.g. `reply('Deleted.')`. */
export const reply = (description: string, schema?: Json): Json =>
  schema === undefined ? { description } : { description, content: content(schema) };
/** A required JSON request body of a component schema, e.g. `requestBody('WebhookInput')`. */
export const requestBody = (name: string): Json => ({ required: true, content: content(ref(name)) });
/** A required path parameter (default type `string`), e.g. `pathParam('id', 'The id.', 'integer')`. */
export const pathParam = (
  name: string,
  description: string,
  type: 'string' | 'integer' = 'string',
): Json => ({
  name,
  in: 'path',
  required: true,
  description,
  schema: { type },
});
/** An optional query parameter, e.g. `queryParam('page', 'Page number.', { type: 'integer' })`. */
export const queryParam = (name: string, description: string, schema: Json): Json => ({
  name,
  in: 'query',
  required: false,
  description,
  schema,
});

/** Marks an operation as a hookline extension (tag `hookline extensions`, `x-hookline-extension`). */
export const EXTENSION: Json = { tags: ['hookline extensions'], 'x-hookline-extension': true };

const DATE_TIME_FIELD = (description: string): Json => ({ type: 'string', format: 'date-time', description });

/**
 * The components every dialect shares: `Delivery` and `Attempt`, the bodies of the recover
 * and cancel extensions (`RecoverRequest`, `RecoverResult`, `CancelRequest`), and those of the
 * ordering extension (`Ordering`, `OrderingRequest`).
 */
export const extensionSchemas = {
  Delivery: (): Json => jsonSchema(deliverySchema, 'output'),
  Attempt: (): Json => jsonSchema(attemptSchema, 'output'),
  Ordering: (): Json => jsonSchema(orderingSchema, 'output'),
  OrderingRequest: (): Json => jsonSchema(orderingRequestSchema, 'input'),
  RecoverRequest: (): Json => ({
    type: 'object',
    required: ['since'],
    additionalProperties: false,
    properties: {
      since: DATE_TIME_FIELD(
        'Deliveries that reached their final state at or after this instant (ISO 8601 with a time zone).',
      ),
      until: DATE_TIME_FIELD('... and before this instant (exclusive). Default, and at most: now.'),
      types: {
        type: 'array',
        items: { type: 'string' },
        maxItems: 1000,
        description: 'Only these event types (exact names). Default: every type.',
      },
      states: {
        type: 'array',
        items: { type: 'string', enum: ['failed', 'canceled'] },
        minItems: 1,
        description: 'The final states to recover. Default `["failed"]`.',
      },
      dry_run: { type: 'boolean', description: 'Count only, change nothing. Default `false`.' },
    },
  }),
  RecoverResult: (): Json => ({
    type: 'object',
    required: ['matched', 'queued', 'skipped'],
    properties: {
      matched: { type: 'integer', description: 'Deliveries found in the range, states and filters.' },
      queued: { type: 'integer', description: 'Of those, the ones queued again (0 for a dry run).' },
      skipped: {
        type: 'integer',
        description: 'Of those, the ones left as they were because their webhook is disabled or deleted.',
      },
    },
  }),
  CancelRequest: (): Json => ({
    type: 'object',
    additionalProperties: false,
    properties: {
      reason: {
        type: 'string',
        minLength: 1,
        maxLength: 1000,
        description: "Kept as the delivery's `last_error`. Default `canceled`.",
      },
    },
  }),
};

/** Options of {@link openApiDocument}. */
export interface OpenApiDocumentOptions {
  /** `info.title`. */
  title: string;
  /** `info.version`. */
  version: string;
  /** `info.description`. */
  description: string;
  /** Security requirements, e.g. `[{ token: [] }]`. */
  security: Json[];
  /** The paths, in document order. */
  paths: Json;
  /** `components.securitySchemes`. */
  securitySchemes: Json;
  /** `components.schemas`, in document order. */
  schemas: Json;
}

/**
 * An OpenAPI 3.1 document with the tags `webhooks` and `hookline extensions`.
 *
 * @example
 * ```ts
 * openApiDocument({ title: 'Webhooks', version: '1.0.0', description: '', security: [], paths: {}, securitySchemes: {}, schemas: {} });
 * ```
 */
export function openApiDocument(options: OpenApiDocumentOptions): OpenApiDocument {
  return {
    openapi: '3.1.0',
    info: { title: options.title, version: options.version, description: options.description },
    security: options.security,
    tags: [{ name: 'webhooks' }, { name: 'hookline extensions' }],
    paths: options.paths,
    components: { securitySchemes: options.securitySchemes, schemas: options.schemas },
  };
}

/** Where the extension operations live in a document, for {@link extensionPaths}. */
export interface ExtensionPathsOptions {
  /** One webhook's path, e.g. `/api/v1/organizers/{organizer}/webhooks/{id}`, and its parameters. */
  webhook: { path: string; parameters: Json[] };
  /** One delivery's path, e.g. `/api/v1/organizers/{organizer}/webhook-deliveries/{delivery_id}`, and its parameters. */
  delivery: { path: string; parameters: Json[] };
  /** Appended to every path (`/` where the dialect writes trailing slashes). Default `''`. */
  trailingSlash?: string;
  /** Appended to every `operationId`, e.g. `OfInstance`. Default `''`. */
  operationIdSuffix?: string;
  /** The `page` query parameter of the two lists. */
  page: Json;
  /** Component names of the two list bodies, e.g. `{ deliveries: 'DeliveryPage', attempts: 'AttemptPage' }`. */
  lists: { deliveries: string; attempts: string };
  /** The error responses every extension operation lists, e.g. `{ '401': ..., '404': ... }`. */
  errors: Json;
  /** The answers to a bad body of the operations that take one (recover, cancel, ordering), e.g. `{ '400': ... }`. Default none. */
  badBody?: Json;
  /** The answer when a delivery is not pending (cancel), e.g. `{ '409': ... }`. Default none. */
  conflict?: Json;
}

/**
 * The paths of the hookline extension operations (delivery list, ping, recover of a webhook,
 * a webhook's ordering, recover of the scope, attempt list, redeliver, cancel), tagged as
 * extensions. The replies refer to components the document must define: `Delivery`, the two
 * lists, and the {@link extensionSchemas} `RecoverRequest`, `RecoverResult`, `CancelRequest`,
 * `Ordering` and `OrderingRequest`. The scope's recover path is the delivery path's parent
 * plus `/recover`.
 *
 * @example
 * ```ts
 * extensionPaths({ webhook: { path: '/private/webhooks/{webhook_id}', parameters: [key] }, delivery, page, lists, errors });
 * ```
 */
export function extensionPaths(options: ExtensionPathsOptions): Json {
  const slash = options.trailingSlash ?? '';
  const op = (id: string): string => `${id}${options.operationIdSuffix ?? ''}`;
  const { webhook, delivery, page, errors } = options;
  const badBody = options.badBody ?? {};
  const deliveries = delivery.path.slice(0, delivery.path.lastIndexOf('/'));
  const recover = (operationId: string, summary: string): Json => ({
    ...EXTENSION,
    operationId: op(operationId),
    summary,
    description:
      'Queues again, in batches, the deliveries that ended `failed` (or, with `states`, also `canceled`) ' +
      'between `since` and `until`: each goes back to pending, due now, with the same id, as redeliver does. ' +
      'Safe to run twice: a queued delivery is pending and no longer matches. Deliveries of a disabled or ' +
      'deleted webhook are left as they are (`skipped`). `dry_run` counts only.',
    requestBody: { required: true, content: { 'application/json': { schema: ref('RecoverRequest') } } },
    responses: {
      '200': reply('Dry run: what would be recovered.', ref('RecoverResult')),
      '202': reply('The deliveries were queued again.', ref('RecoverResult')),
      ...badBody,
      ...errors,
    },
  });
  return {
    [`${webhook.path}/deliveries${slash}`]: {
      parameters: webhook.parameters,
      get: {
        ...EXTENSION,
        operationId: op('listDeliveries'),
        parameters: [page],
        responses: { '200': reply('Deliveries, newest first.', ref(options.lists.deliveries)), ...errors },
      },
    },
    [`${webhook.path}/ping${slash}`]: {
      parameters: webhook.parameters,
      post: {
        ...EXTENSION,
        operationId: op('pingWebhook'),
        responses: { '202': reply('A test delivery was queued.', ref('Delivery')), ...errors },
      },
    },
    [`${webhook.path}/recover${slash}`]: {
      parameters: webhook.parameters,
      post: recover('recoverWebhookDeliveries', "Recover a webhook's failed deliveries."),
    },
    [`${webhook.path}/ordering${slash}`]: {
      parameters: webhook.parameters,
      get: {
        ...EXTENSION,
        operationId: op('getWebhookOrdering'),
        summary: "A webhook's delivery ordering.",
        responses: { '200': reply('The ordering.', ref('Ordering')), ...errors },
      },
      put: {
        ...EXTENSION,
        operationId: op('setWebhookOrdering'),
        summary: "Change a webhook's delivery ordering.",
        description:
          'Changes only `ordering` and `on_failure` (omitted: unchanged); the webhook resource itself is not ' +
          'affected. Deliveries emitted from now on follow the new ordering; those already queued keep their line.',
        requestBody: { required: true, content: { 'application/json': { schema: ref('OrderingRequest') } } },
        responses: { '200': reply('The ordering now.', ref('Ordering')), ...badBody, ...errors },
      },
    },
    [`${deliveries}/recover${slash}`]: {
      // The delivery's parameters but its own id: those the parent path still names.
      parameters: delivery.parameters.filter((p) => deliveries.includes(`{${String(p.name)}}`)),
      post: recover('recoverDeliveries', "Recover the scope's failed deliveries."),
    },
    [`${delivery.path}/attempts${slash}`]: {
      parameters: delivery.parameters,
      get: {
        ...EXTENSION,
        operationId: op('listAttempts'),
        parameters: [page],
        responses: { '200': reply('Attempts, newest first.', ref(options.lists.attempts)), ...errors },
      },
    },
    [`${delivery.path}/redeliver${slash}`]: {
      parameters: delivery.parameters,
      post: {
        ...EXTENSION,
        operationId: op('redeliver'),
        responses: { '202': reply('The delivery was queued again.', ref('Delivery')), ...errors },
      },
    },
    [`${delivery.path}/cancel${slash}`]: {
      parameters: delivery.parameters,
      post: {
        ...EXTENSION,
        operationId: op('cancelDelivery'),
        summary: "Stop a pending delivery's retries.",
        description:
          'The delivery becomes `canceled` with the reason as its `last_error`; an attempt in flight may still ' +
          'reach the receiver, but is not recorded and is not retried.',
        requestBody: { required: false, content: { 'application/json': { schema: ref('CancelRequest') } } },
        responses: {
          '200': reply('The delivery was canceled.', ref('Delivery')),
          ...badBody,
          ...errors,
          ...(options.conflict ?? {}),
        },
      },
    },
  };
}
