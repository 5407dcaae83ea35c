/**
 * hookline: an embeddable outgoing-webhook system for Node backends.
 *
 * @example
 * ```ts
 * import { WebhookRegistry, pretixCatalog } from 'hookline';
 * const registry = new WebhookRegistry({ catalog: pretixCatalog });
 * await registry.create('acme', { url: 'https://example.com/hook', eventTypes: ['pretix.event.order.paid'] });
 * ```
 *
 * @module hookline
 */

export { type Clock, systemClock } from './clock.js';
export {
  type AttemptClassification,
  type ClassifiableResult,
  classifyOutcome,
  type NextAttemptInput,
  nextAttemptDelay,
  parseRetryAfter,
} from './delivery/classify.js';
export {
  type DecidableResult,
  type DecideInput,
  type DeliveryFailure,
  decideOutcome,
  type OutcomeDecision,
} from './delivery/decide.js';
export {
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_TIMEOUT_MS,
  DEFAULT_USER_AGENT,
  type DeliverOptions,
  type DeliveryRequest,
  type DeliveryResult,
  deliver,
} from './delivery/deliver.js';
export { createId } from './delivery/ids.js';
export {
  defineRetryPolicy,
  maxAttempts,
  type RetryAfterBounds,
  type RetryPolicy,
  type RetryPolicyName,
  retryPolicies,
} from './delivery/retry.js';
export {
  checkSigningSecret,
  generateKeyPair,
  generateSecret,
  type HeadersLike,
  MIN_SECRET_BYTES,
  SignatureError,
  type SignatureFailureReason,
  type SignInput,
  signWebhook,
  type VerifiedWebhook,
  type VerifyInput,
  type VerifyResult,
  verifyWebhook,
  verifyWebhookSafe,
  type WebhookHeaders,
  type WebhookKeyPair,
  webhookHeaders,
} from './delivery/signing.js';
export type {
  Transport,
  TransportError,
  TransportErrorCode,
  TransportRequest,
  TransportResult,
} from './delivery/transport/contract.js';
export { type DefaultTransportOptions, defaultTransport } from './delivery/transport/default.js';
export { type KyTransport, type KyTransportOptions, kyTransport } from './delivery/transport/ky.js';
export { type NodeTransportOptions, nodeTransport } from './delivery/transport/node.js';
export { fetchHonoursDispatcher, undiciDispatcherSupported } from './delivery/transport/runtime.js';
export {
  checkAddress,
  createSsrfGuard,
  type SsrfCheck,
  type SsrfGuard,
  type SsrfLookup,
  type SsrfOptions,
} from './delivery/transport/ssrf.js';
export { type UndiciTransportOptions, undiciTransport } from './delivery/transport/undici.js';
export {
  type AutoDisableOptions,
  type StopOptions,
  WebhookWorker,
  type WorkerEvents,
  type WorkerOptions,
} from './delivery/worker.js';
export {
  ConflictError,
  HooklineError,
  type HooklineErrorCode,
  type HooklineErrorOptions,
  isHooklineError,
  NotFoundError,
  type ResourceKind,
  TemplateError,
  type TemplatePosition,
  ValidationError,
  type ValidationIssue,
} from './errors.js';
export {
  type CatalogEntries,
  type CatalogEntry,
  type CatalogItem,
  combineCatalogs,
  createCatalog,
  createMatchIndex,
  type EventCatalog,
  isWellFormedPattern,
  type MatchableWebhook,
  type MatchIndex,
  type MatchIndexOptions,
  type MatchQuery,
  naiveMatch,
  pretixCatalog,
  talerCatalog,
  validateEventTypes,
} from './matching/index.js';
export {
  type Attempt,
  checkUrl,
  DELIVERY_STATES,
  type Delivery,
  type DeliveryState,
  DISABLED_REASONS,
  type DisabledReason,
  HTTP_METHODS,
  type HttpMethod,
  type JsonValue,
  MAX_COMMENT_LENGTH,
  MAX_URL_LENGTH,
  type Notification,
  NULL_CHARACTER_CODE,
  NULL_CHARACTER_MESSAGE,
  notificationSchema,
  ORDERING_FAILURE_MODES,
  ORDERINGS,
  type Ordering,
  type OrderingFailureMode,
  type OutgoingRequest,
  TEMPLATE_ESCAPES,
  type TemplateEscape,
  type UrlRules,
  type Webhook,
  type WebhookFields,
  type WebhookInput,
  type WebhookPatch,
  type WebhookRecord,
  webhookFieldsSchema,
  webhookPatchSchema,
} from './model.js';
export {
  type AttemptEndMessage,
  type AttemptStartMessage,
  CHANNELS,
  type DeliveryOutcomeMessage,
  type EmitMessage,
  type WebhookDisabledMessage,
} from './observability/channels.js';
export type { Logger } from './observability/logger.js';
export { TELEMETRY_METRICS, type TelemetryOptions } from './observability/otel.js';
export type { EmitManyOptions } from './registry/emit-many.js';
export {
  DEFAULT_SEARCH_LIMIT,
  MAX_ACTIVITY_BUCKETS,
  MAX_ACTIVITY_WEBHOOKS,
  MAX_SEARCH_LIMIT,
  type SearchDeliveriesOptions,
  type WebhookActivityOptions,
} from './registry/log.js';
export { DEFAULT_MAX_NOTIFICATION_BYTES, MAX_DATA_DEPTH } from './registry/notification.js';
export {
  DEFAULT_PAGE_SIZE,
  type EmitOptions,
  type EmitResult,
  type ListOptions,
  MAX_PAGE_SIZE,
  type Page,
  type PageOptions,
  PING_EVENT_TYPE,
  type WebhookPage,
  WebhookRegistry,
  type WebhookRegistryOptions,
} from './registry/registry.js';
export type { RegistryStats, ScopeStats, StatsOptions } from './registry/stats.js';
export {
  type EncryptSecretsOptions,
  encryptSecrets,
  generateSecretKey,
  parseSecretKeys,
  type RotateSecretsOptions,
  type RotateSecretsProgress,
  type RotateSecretsResult,
  rotateSecrets,
  type SecretKey,
} from './stores/encrypted.js';
export { type MemoryStoreOptions, memoryStore } from './stores/memory/store.js';
export {
  DEFAULT_RECOVER_BATCH_SIZE,
  MAX_RECOVER_BATCH_SIZE,
  type RecoverOptions,
  type RecoverProgress,
  type RecoverResult,
} from './stores/recover.js';
export {
  type AutoDisableLimits,
  activityBucketCount,
  assertCancelable,
  assertRedeliverable,
  badRecoverCursor,
  copyWebhook,
  deliveryAfterAttempt,
  freezeWebhook,
  HEALTHY,
  healthAfterAttempt,
  holdsLease,
  inRecoveryRange,
  isHealthy,
  mayRecordAttempt,
  shouldAutoDisable,
} from './stores/rules.js';
export {
  type ActivityBucket,
  type AttemptCounts,
  type AttemptData,
  type AttemptOutcome,
  type AttemptResult,
  type ClaimedDelivery,
  type DeliveryLine,
  type DeliveryTransition,
  type EnqueueItem,
  FAILING_WEBHOOKS_LIMIT,
  type FailingWebhook,
  type NewDelivery,
  type OutboxCounts,
  type OutboxStats,
  type OutboxStatsInput,
  type RecordAttemptInput,
  type RecordAttemptResult,
  type RecoverableState,
  type RecoverDeliveriesInput,
  type RecoverDeliveriesResult,
  type ScopeOutboxStats,
  type SearchDeliveriesInput,
  type SearchDeliveriesResult,
  type Store,
  type StoreSignal,
  type WebhookActivity,
  type WebhookActivityInput,
  type WebhookHealth,
} from './stores/types.js';
export {
  DEFAULT_MAX_TEMPLATE_BYTES,
  type DefaultPayloadOptions,
  defaultPayload,
  escapeHtml,
  escapeJson,
  FORBIDDEN_HEADER_NAMES,
  type PayloadStyle,
  type RenderableWebhook,
  type RenderHeadersOptions,
  type RenderRequestOptions,
  type RenderTemplateOptions,
  renderHeaders,
  renderRequest,
  renderTemplate,
  type ValidateTemplateOptions,
  validateTemplate,
} from './templates/index.js';
