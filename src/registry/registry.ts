import { type Clock, systemClock } from '../clock.js';
import { createId } from '../delivery/ids.js';
import { type RetryPolicy, retryPolicies } from '../delivery/retry.js';
import { checkSigningSecret } from '../delivery/signing.js';
import { WebhookWorker, type WorkerOptions } from '../delivery/worker.js';
import {
  HooklineError,
  invalidOption,
  NotFoundError,
  TemplateError,
  ValidationError,
  type ValidationIssue,
} from '../errors.js';
import type { EventCatalog } from '../matching/index.js';
import { createMatchIndex, type MatchIndex, validateEventTypes } from '../matching/index.js';
import {
  type Attempt,
  checkUrl,
  type Delivery,
  type DisabledReason,
  keySchema,
  type Notification,
  notificationSchema,
  scopeSchema,
  TEMPLATE_ESCAPES,
  type TemplateEscape,
  toWebhook,
  type Webhook,
  type WebhookFields,
  type WebhookInput,
  type WebhookPatch,
  type WebhookRecord,
  webhookFieldsSchema,
  webhookPatchSchema,
} from '../model.js';
import {
  type EmitMessage,
  emitChannel,
  type WebhookDisabledMessage,
  webhookDisabledChannel,
  withoutCredentials,
} from '../observability/channels.js';
import { checkLogger, type Logger, log } from '../observability/logger.js';
import {
  type EmitSpan,
  otelApi,
  sdkRegistered,
  Telemetry,
  type TelemetryOptions,
} from '../observability/otel.js';
import {
  checkOptionalBoolean,
  checkOptionalByteCount,
  checkOptionalFunction,
  checkOptionalOneOf,
  checkOptionsObject,
} from '../options.js';
import { checkSecretKeys, encryptSecrets, type SecretKey } from '../stores/encrypted.js';
import { memoryStore } from '../stores/memory/store.js';
import { planRecovery, type RecoverOptions, type RecoverResult, runRecovery } from '../stores/recover.js';
import type {
  DeliveryLine,
  EnqueueItem,
  NewDelivery,
  SearchDeliveriesResult,
  Store,
  WebhookActivity,
} from '../stores/types.js';
import { DEFAULT_MAX_TEMPLATE_BYTES, type PayloadStyle, validateTemplate } from '../templates/index.js';
import { PAYLOAD_STYLES, type ResolvedRenderOptions, renderRequestUnchecked } from '../templates/request.js';
import { type EmitManyOptions, parseNotifications } from './emit-many.js';
import {
  deliveryLine,
  type SearchDeliveriesOptions,
  searchDeliveries,
  type WebhookActivityOptions,
  webhookActivity,
} from './log.js';
import {
  DEFAULT_MAX_NOTIFICATION_BYTES,
  type ParsedNotification,
  parseNotification,
} from './notification.js';
import { type RegistryStats, registryStats, type StatsOptions } from './stats.js';
import { parseOrThrow, sortedUnique, throwIfIssues, unique } from './validation.js';

/** The logger's line for each reason a webhook is disabled. */
const DISABLED_MESSAGES: Record<DisabledReason, string> = {
  manual: 'hookline: webhook disabled',
  gone: 'hookline: webhook disabled: its receiver answered 410 Gone',
  failing: 'hookline: webhook disabled: it kept failing past the auto-disable limits',
};

/** Default and maximum page sizes of {@link WebhookRegistry.list}. */
export const DEFAULT_PAGE_SIZE = 50;
/** The largest `pageSize` the paged reads accept: 1000. A larger one is a `ValidationError`. */
export const MAX_PAGE_SIZE = 1000;

/** Options of {@link WebhookRegistry}. */
export interface WebhookRegistryOptions {
  /** Where webhooks (and later the outbox) live. Default: a new {@link memoryStore}. */
  store?: Store;
  /**
   * Known event types. With a catalog, every `eventTypes` entry must be one of its keys
   * (`Invalid action type "foo".`) and matching follows pretix's resolution; without one, any
   * well-formed pattern is accepted and patterns match as globs. Default: none.
   */
  catalog?: EventCatalog;
  /**
   * Tells whether an event slug exists in a scope, to validate `limitEvents`
   * (`Object with slug=foo does not exist.`). Default: every slug is accepted.
   */
  eventExists?: (scope: string, slug: string) => boolean | Promise<boolean>;
  /** Accept `user:pass@` in target URLs. Default `false` (credentials leak into logs). */
  allowUrlCredentials?: boolean;
  /** Largest header or body template, in UTF-8 bytes. Default 65 536. */
  maxTemplateBytes?: number;
  /** Largest notification `data`, serialized as JSON, in bytes. Default 1 MiB. */
  maxNotificationBytes?: number;
  /**
   * Shape of the default JSON body of webhooks without a body template: `generic`
   * (`{ id, type, scope, event, occurredAt, data }`) or `pretix` (`{ notification_id,
   * organizer, event, action, ...data }`). Default `generic`.
   */
  payloadStyle?: PayloadStyle;
  /** How `{{x}}` escapes for webhooks whose `templateEscape` is null: `html` (Taler) or `json`. Default `html`. */
  templateEscape?: 'html' | 'json';
  /**
   * The retry schedule: a policy, or a function choosing one per webhook. Default
   * `retryPolicies.standard`.
   */
  retryPolicy?: RetryPolicy | ((webhook: WebhookRecord) => RetryPolicy);
  /** The clock, for tests (see `createFakeClock` in `hookline/testing`). Default the system clock. */
  clock?: Clock;
  /**
   * Where lifecycle lines and unheard errors go (pino, `console`, or your own; see
   * {@link Logger}); its workers and HTTP handlers use it too unless given their own. Default:
   * none, so nothing is written except worker errors nobody listens to (to `console.error`).
   */
  logger?: Logger;
  /**
   * OpenTelemetry traces and metrics, through `@opentelemetry/api` when it is installed (an
   * optional peer dependency) and an SDK is registered: an emit span whose context is stored
   * with each delivery, a CLIENT span per attempt linked to it, and the metrics of
   * docs/observability.md. Options: `propagateToReceivers` (send `traceparent` to receivers,
   * for every webhook or per webhook; default `false`) and `perScope` (a `hookline.scope`
   * attribute on every metric; default `false`). `false` turns telemetry off. Default `{}`.
   */
  telemetry?: TelemetryOptions | false;
  /**
   * Keys to encrypt webhooks' signing secrets at rest (AES-256-GCM), newest first: the first
   * encrypts, all decrypt (see docs/secrets.md and `parseSecretKeys` for
   * `HOOKLINE_SECRET_KEYS`). When given, the registry wraps its store with `encryptSecrets`, so
   * `registry.store` is the wrapped store; secrets stored in plaintext before are still read,
   * and `rotateSecrets` encrypts them. Secrets that cannot be decrypted when a worker claims
   * their deliveries go to `logger` (never the secret). Default: none; without keys, secrets
   * are stored as given (plaintext), as before.
   */
  secretKeys?: readonly SecretKey[];
}

/** Options of {@link WebhookRegistry.emit}. */
export interface EmitOptions {
  /**
   * The host's open database transaction, so the notification is stored if and only if the
   * host's change commits. Store-specific: a `pg` client inside `BEGIN`, or a PGlite
   * transaction, for the PostgreSQL store. The memory store has no transactions.
   */
  tx?: unknown;
}

/** What {@link WebhookRegistry.emit} did. */
export interface EmitResult {
  /** The notification's id: the one given, or a new `ntf_…` id. */
  notificationId: string;
  /** How many deliveries this notification has (one per matching webhook). */
  deliveries: number;
  /** The delivery ids, in webhook id order. */
  deliveryIds: string[];
  /** `false` when a notification with this id was emitted before in the scope (nothing new was stored). */
  created: boolean;
}

/** Options of {@link WebhookRegistry.deliveries} and {@link WebhookRegistry.attempts}. */
export interface PageOptions {
  /** 1-based page number. Default 1. */
  page?: number;
  /** Items per page, 1 to 1000. Default 50. */
  pageSize?: number;
}

/** A page of deliveries or attempts, newest first, with the total `count`. */
export interface Page<T> {
  count: number;
  items: T[];
}

/** The event type of a test ping sent by {@link WebhookRegistry.ping}. */
export const PING_EVENT_TYPE = 'hookline.ping';

/** Options of {@link WebhookRegistry.list}. */
export interface ListOptions {
  /** Only enabled (`true`) or disabled (`false`) webhooks. Default: all. */
  enabled?: boolean;
  /** 1-based page number. Default 1. */
  page?: number;
  /** Items per page, 1 to 1000. Default 50. */
  pageSize?: number;
}

/** One page of {@link WebhookRegistry.list}: the total `count` and this page's `items`. */
export interface WebhookPage {
  count: number;
  items: Webhook[];
}

/** The store methods the registry itself calls (the worker checks the ones it needs). */
const REGISTRY_STORE_METHODS = [
  'insertWebhook',
  'getWebhook',
  'getWebhookByKey',
  'listWebhooks',
  'updateWebhook',
  'deleteWebhook',
  'enqueue',
  'cancelPending',
  'getDelivery',
  'listDeliveries',
  'listAttempts',
  'redeliver',
] as const;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/**
 * Checks the constructor options of {@link WebhookRegistry}: a mistyped or out-of-range option
 * throws a `HooklineError` with code `invalid_option` naming it, instead of failing later
 * (or silently falling back to a default) in the middle of a request.
 */
function checkRegistryOptions(options: unknown): void {
  const where = 'new WebhookRegistry()';
  checkOptionsObject(where, options);
  const o = options as Record<keyof WebhookRegistryOptions, unknown>;
  if (o.store !== undefined) {
    const store = o.store;
    const missing = isObject(store)
      ? REGISTRY_STORE_METHODS.filter((name) => typeof store[name] !== 'function')
      : REGISTRY_STORE_METHODS;
    if (missing.length > 0) {
      throw invalidOption(
        where,
        'store',
        `a Store (memoryStore(), postgresStore(), ...); this one has no ${missing.join(', ')}`,
        store,
      );
    }
  }
  if (o.catalog !== undefined) {
    const catalog = o.catalog;
    if (!isObject(catalog) || typeof catalog.has !== 'function' || typeof catalog.resolve !== 'function') {
      throw invalidOption(
        where,
        'catalog',
        'an EventCatalog (createCatalog(), pretixCatalog, talerCatalog)',
        catalog,
      );
    }
  }
  checkOptionalFunction(where, 'eventExists', o.eventExists, 'a function (scope, slug) => boolean');
  checkLogger(where, o.logger);
  if (o.telemetry !== undefined && o.telemetry !== false) {
    if (typeof o.telemetry !== 'object' || o.telemetry === null) {
      throw invalidOption(
        where,
        'telemetry',
        'an object ({ propagateToReceivers?, perScope? }) or false',
        o.telemetry,
      );
    }
    const t = o.telemetry as Record<string, unknown>;
    if (
      t.propagateToReceivers !== undefined &&
      typeof t.propagateToReceivers !== 'boolean' &&
      typeof t.propagateToReceivers !== 'function'
    ) {
      throw invalidOption(
        where,
        'telemetry.propagateToReceivers',
        'a boolean or a function (webhook) => boolean',
        t.propagateToReceivers,
      );
    }
    checkOptionalBoolean(where, 'telemetry.perScope', t.perScope);
  }
  if (o.secretKeys !== undefined) checkSecretKeys(where, 'secretKeys', o.secretKeys);
  checkOptionalBoolean(where, 'allowUrlCredentials', o.allowUrlCredentials);
  checkOptionalByteCount(where, 'maxTemplateBytes', o.maxTemplateBytes, 1);
  checkOptionalByteCount(where, 'maxNotificationBytes', o.maxNotificationBytes, 1);
  checkOptionalOneOf(where, 'payloadStyle', o.payloadStyle, PAYLOAD_STYLES);
  checkOptionalOneOf(where, 'templateEscape', o.templateEscape, TEMPLATE_ESCAPES);
  const retry = o.retryPolicy;
  if (
    retry !== undefined &&
    typeof retry !== 'function' &&
    !(isObject(retry) && Array.isArray(retry.delaysMs))
  ) {
    throw invalidOption(
      where,
      'retryPolicy',
      'a RetryPolicy ({ name, delaysMs, ... }, e.g. retryPolicies.pretix) or a function choosing one per webhook',
      retry,
    );
  }
  if (o.clock !== undefined && !(isObject(o.clock) && typeof o.clock.now === 'function')) {
    throw invalidOption(where, 'clock', 'a Clock ({ now, setTimeout, clearTimeout })', o.clock);
  }
}

function requireId(id: unknown): number {
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 1) {
    throw new ValidationError([
      { path: ['id'], code: 'invalid_id', message: 'A webhook id is a positive integer.' },
    ]);
  }
  return id;
}

function requirePositiveInt(value: number | undefined, field: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1 || value > max) {
    throw new ValidationError([
      { path: [field], code: 'invalid_number', message: `${field} must be an integer from 1 to ${max}.` },
    ]);
  }
  return value;
}

/**
 * The registry of webhook subscriptions: create, read, change and remove webhooks per scope,
 * and find which webhooks a notification reaches.
 *
 * Every call is scoped: a webhook of scope A is invisible to calls for scope B (reported as
 * not found, exactly like a missing one). Read methods return the {@link Webhook} read model,
 * which never carries secrets; {@link WebhookRegistry.secrets} reads them on purpose.
 *
 * @example
 * ```ts
 * const registry = new WebhookRegistry({ catalog: pretixCatalog });
 * const hook = await registry.create('bigevents', {
 *   url: 'https://example.com/hook',
 *   eventTypes: ['pretix.event.order.paid'],
 * });
 * await registry.update('bigevents', hook.id, { comment: 'orders' });
 * ```
 */
export class WebhookRegistry {
  /** The store this registry uses. */
  readonly store: Store;
  /** The event-type catalog, when one was given. */
  readonly catalog: EventCatalog | undefined;
  /** The `logger` option, when one was given; workers and HTTP handlers of this registry use it. */
  readonly logger: Logger | undefined;
  readonly #options: WebhookRegistryOptions;
  readonly #maxTemplateBytes: number;
  readonly #payloadStyle: PayloadStyle;
  readonly #defaultEscape: TemplateEscape;
  readonly #clock: Clock;
  /** Traces and metrics, when `@opentelemetry/api` is installed and telemetry is not off. */
  readonly #telemetry: Telemetry | undefined;
  /** Compiled match indexes, per scope, loaded on first use and kept current by this registry's writes. */
  readonly #indexes = new Map<string, IndexEntry>();
  /** False once a store that says it checks `enqueue`'s `webhooksVersion` answered without `stale`. */
  #enqueueChecks = true;

  /**
   * Creates a registry. Throws a `HooklineError` with code `invalid_option` for an option of
   * the wrong type or out of range (see {@link WebhookRegistryOptions}).
   *
   * @example
   * ```ts
   * const registry = new WebhookRegistry({ store: memoryStore(), catalog: pretixCatalog });
   * ```
   */
  constructor(options: WebhookRegistryOptions = {}) {
    checkRegistryOptions(options);
    this.#options = options;
    const store = options.store ?? memoryStore();
    const logger = options.logger;
    this.store =
      options.secretKeys === undefined
        ? store
        : encryptSecrets(store, {
            keys: options.secretKeys,
            onError: (error, at) => {
              if (logger) log(logger, 'error', { code: error.code, ...at }, `hookline: ${error.message}`);
              else console.error(`hookline: ${error.message}`);
            },
          });
    this.catalog = options.catalog;
    this.logger = options.logger;
    this.#maxTemplateBytes = options.maxTemplateBytes ?? DEFAULT_MAX_TEMPLATE_BYTES;
    this.#payloadStyle = options.payloadStyle ?? 'generic';
    this.#defaultEscape = options.templateEscape ?? 'html';
    this.#clock = options.clock ?? systemClock;
    // Telemetry only when an SDK is registered already: a registry made without one costs
    // nothing per emit and per attempt (bench/pipeline: the per-call checks alone cost 1–3 %).
    const otel = options.telemetry === false ? null : otelApi();
    this.#telemetry =
      otel && sdkRegistered(otel)
        ? new Telemetry(otel, options.telemetry || {}, {
            read: async (perScope) => {
              if (typeof this.store.outboxStats !== 'function') return [];
              const stats = await this.stats({ perScope });
              if (!perScope) return [stats];
              return stats.scopes ?? [];
            },
          })
        : undefined;
  }

  /**
   * The clock this registry reads (its `clock` option; default the system clock), e.g. for a
   * page that shows "24 hours ago" by the same time the registry stamps deliveries with.
   *
   * @example
   * ```ts
   * const now = new Date(registry.clock.now());
   * ```
   */
  get clock(): Clock {
    return this.#clock;
  }

  #now(): Date {
    return new Date(this.#clock.now());
  }

  /**
   * Creates a webhook. Only `url` and `eventTypes` are required; `eventTypes` are stored
   * sorted and without duplicates. Throws `ValidationError` for bad input and `ConflictError`
   * for a `key` the scope already has.
   *
   * @example
   * ```ts
   * await registry.create('acme', { url: 'https://example.com/h', eventTypes: ['pay'], key: 'pay-hook' });
   * ```
   */
  async create(scope: string, input: WebhookInput): Promise<Webhook> {
    const validScope = this.#scope(scope);
    const fields = parseOrThrow(webhookFieldsSchema, input);
    const normalized = await this.#check(validScope, fields);
    const record = await this.#changing(
      validScope,
      () => this.store.insertWebhook({ scope: validScope, fields: normalized, now: this.#now() }),
      (index, inserted) => index.upsert(inserted),
    );
    return toWebhook(record);
  }

  /**
   * One webhook by id. Throws `NotFoundError` when the scope has no such webhook.
   *
   * @example
   * ```ts
   * const hook = await registry.get('acme', 1);
   * ```
   */
  async get(scope: string, id: number): Promise<Webhook> {
    return toWebhook(await this.#record(scope, id));
  }

  /**
   * One webhook by its client-chosen `key` (Taler's `webhook_id`). Throws `NotFoundError`.
   *
   * @example
   * ```ts
   * const hook = await registry.getByKey('default', 'pay-hook');
   * ```
   */
  async getByKey(scope: string, key: string): Promise<Webhook> {
    const validScope = this.#scope(scope);
    const validKey = parseOrThrow(keySchema, key, ['key']);
    const record = await this.store.getWebhookByKey({ scope: validScope, key: validKey });
    if (!record) throw new NotFoundError('webhook', { scope: validScope, id: validKey });
    return toWebhook(record);
  }

  /**
   * A page of a scope's webhooks, ordered by id, with the total `count`.
   *
   * @example
   * ```ts
   * const { count, items } = await registry.list('acme', { enabled: true, page: 2 }); // 50 per page
   * ```
   */
  async list(scope: string, options: ListOptions = {}): Promise<WebhookPage> {
    const validScope = this.#scope(scope);
    const { offset, limit } = pageWindow(options);
    if (options.enabled !== undefined && typeof options.enabled !== 'boolean') {
      throw new ValidationError([
        { path: ['enabled'], code: 'invalid_type', message: 'enabled must be a boolean.' },
      ]);
    }
    const result = await this.store.listWebhooks({
      scope: validScope,
      ...(options.enabled === undefined ? {} : { enabled: options.enabled }),
      offset,
      limit,
    });
    return { count: result.count, items: result.items.map(toWebhook) };
  }

  /**
   * Changes some fields of a webhook; omitted fields stay as they are. Cross-field rules are
   * checked on the stored webhook merged with the change.
   *
   * @example
   * ```ts
   * await registry.update('acme', 1, { eventTypes: ['pay', 'refund'] });
   * ```
   */
  async update(scope: string, id: number, patch: WebhookPatch): Promise<Webhook> {
    const current = await this.#record(scope, id);
    const changes = parseOrThrow(webhookPatchSchema, patch);
    const merged: WebhookFields = { ...pickFields(current), ...definedOnly(changes) };
    const normalized = await this.#check(current.scope, merged);
    return this.#write(current, normalized);
  }

  /**
   * Replaces every writable field of a webhook; omitted optional fields take their defaults
   * (as for `create`). `id`, `scope` and `createdAt` stay.
   *
   * @example
   * ```ts
   * await registry.replace('acme', 1, { url: 'https://example.com/v2', eventTypes: ['pay'] });
   * ```
   */
  async replace(scope: string, id: number, input: WebhookInput): Promise<Webhook> {
    const current = await this.#record(scope, id);
    const fields = parseOrThrow(webhookFieldsSchema, input);
    const normalized = await this.#check(current.scope, fields);
    return this.#write(current, normalized);
  }

  /**
   * Disables a webhook (it receives nothing until enabled again) and records why. Default
   * reason `manual`; the worker uses `gone` (410) and `failing`.
   *
   * @example
   * ```ts
   * await registry.disable('acme', 1);
   * ```
   */
  async disable(scope: string, id: number, reason: DisabledReason = 'manual'): Promise<Webhook> {
    const current = await this.#record(scope, id);
    return this.#update(current, { enabled: false, disabledReason: reason });
  }

  /**
   * Enables a webhook again and clears its disabled reason.
   *
   * @example
   * ```ts
   * await registry.enable('acme', 1);
   * ```
   */
  async enable(scope: string, id: number): Promise<Webhook> {
    return this.update(scope, id, { enabled: true });
  }

  /**
   * Deletes a webhook. Throws `NotFoundError` when the scope has no such webhook.
   *
   * @example
   * ```ts
   * await registry.remove('acme', 1);
   * ```
   */
  async remove(scope: string, id: number): Promise<void> {
    const validScope = this.#scope(scope);
    const validId = requireId(id);
    const existed = await this.#changing(
      validScope,
      () => this.store.deleteWebhook({ scope: validScope, id: validId }),
      (index, deleted) => deleted && index.remove(validId),
    );
    if (!existed) throw new NotFoundError('webhook', { scope: validScope, id: validId });
    await this.store.cancelPending({
      scope: validScope,
      webhookId: validId,
      reason: 'webhook removed',
      now: this.#now(),
    });
  }

  /**
   * The signing secrets of a webhook. Read endpoints never return them; call this on purpose.
   *
   * @example
   * ```ts
   * const [secret] = await registry.secrets('acme', 1);
   * ```
   */
  async secrets(scope: string, id: number): Promise<string[]> {
    return (await this.#record(scope, id)).secrets;
  }

  /**
   * Which webhooks a notification would reach, ordered by id. No side effects: nothing is
   * stored or sent. Uses a compiled per-scope index, loaded on the first call for a scope.
   *
   * @example
   * ```ts
   * const hooks = await registry.match({ scope: 'acme', type: 'pretix.event.order.paid', event: 'democon' });
   * ```
   */
  async match(notification: Notification): Promise<Webhook[]> {
    const parsed = parseOrThrow(notificationSchema, notification);
    const index = await this.#index(parsed.scope);
    return index.match({ type: parsed.type, event: parsed.event ?? null }).map(toWebhook);
  }

  /**
   * Emits a notification: finds the matching webhooks, renders each one's request (templates
   * or the default JSON body) and stores one delivery per match in the outbox, in one atomic
   * step. The worker sends them. Emitting an `id` the scope has seen before stores nothing new
   * (`created: false`). Throws `ValidationError` for a bad notification (blank scope or type,
   * data that is not JSON, data over `maxNotificationBytes` or nested more than 256 levels,
   * code `too_deep`), and for U+0000 (NUL) in any string of it: a field (`scope`, `type`,
   * `event`, `id`) or a `data` value or key at any depth, code `null_character` with the path,
   * e.g. `['data', 'items', 0, 'name']`. PostgreSQL cannot store NUL, so every store refuses it
   * the same way, before anything is stored.
   *
   * A webhook whose template cannot be rendered for this data (say a header value with a line
   * break) still gets its delivery, stored as `failed` with the reason, so nothing is lost
   * silently.
   *
   * @example
   * ```ts
   * const { notificationId, deliveries } = await registry.emit({
   *   scope: 'bigevents', type: 'pretix.event.order.paid', event: 'democon', data: { code: 'ABC12' },
   * });
   * ```
   */
  emit(notification: Notification, options: EmitOptions = {}): Promise<EmitResult> {
    // Not async: the promise of #emit is handed on as it is. An async wrapper returning it
    // costs three more microtask turns per emit (bench/pipeline, emit only: 76 000 against
    // 94 000 notifications/s).
    const telemetry = this.#telemetry;
    const span = telemetry?.startEmit();
    if (telemetry === undefined || span === undefined) return this.#emit(notification, options, undefined);
    return this.#emitTraced(notification, options, telemetry, span);
  }

  /** emit() with its span active around the work, ended with an error status if it fails. */
  async #emitTraced(
    notification: Notification,
    options: EmitOptions,
    telemetry: Telemetry,
    span: EmitSpan,
  ): Promise<EmitResult> {
    try {
      return await telemetry.within(span, () => this.#emit(notification, options, span));
    } catch (error) {
      telemetry.failEmit(span, error);
      throw error;
    }
  }

  async #emit(
    notification: Notification,
    options: EmitOptions,
    span: EmitSpan | undefined,
  ): Promise<EmitResult> {
    const parsed = parseNotification(
      notification,
      this.#options.maxNotificationBytes ?? DEFAULT_MAX_NOTIFICATION_BYTES,
    );
    const telemetry = this.#telemetry;
    const traceContext = telemetry ? telemetry.traceContextOf(span) : null;
    const now = this.#now();
    const notificationId = parsed.id ?? createId('ntf', now.getTime());
    const store = this.store;
    // A store that checks the version in enqueue needs no read of it first while the scope's
    // index is cached: one statement per emit instead of two on PostgreSQL (bench/postgres,
    // enqueue included; see docs/postgres.md, "Webhook versions").
    const checks = this.#enqueueChecks && store.enqueueChecksVersion === true;
    let entry = checks ? this.#indexes.get(parsed.scope) : undefined;
    let result: Awaited<ReturnType<Store['enqueue']>>;
    for (let round = 0; ; round++) {
      if (entry === undefined || typeof entry.version !== 'number')
        entry = await this.#entry(parsed.scope, options.tx);
      const index = await entry.index;
      const deliveries = this.#deliveriesOf(parsed, notificationId, now, index, traceContext);
      // The last round asks for no check: a scope whose webhooks change faster than emits
      // match is stored against the index as read, as without the check.
      const check = checks && round < 2 && typeof entry.version === 'number';
      result = await store.enqueue({
        scope: parsed.scope,
        notificationId,
        deliveries,
        now,
        ...(options.tx === undefined ? {} : { tx: options.tx }),
        ...(check ? { webhooksVersion: entry.version as number } : {}),
      });
      if (check && result.stale === undefined) {
        // The version never reached a check (a wrapper dropped it): read it before each emit.
        this.#enqueueChecks = false;
        this.#indexes.delete(parsed.scope);
      }
      if (!result.stale) break;
      if (!check) {
        throw new HooklineError(
          'store_failed',
          `The store (${store.name}) answered an enqueue as stale that asked for no version check.`,
        );
      }
      // Another process changed the scope's webhooks since the index was built: match again.
      if (this.#indexes.get(parsed.scope) === entry) this.#indexes.delete(parsed.scope);
      entry = undefined;
    }
    if (emitChannel.hasSubscribers) {
      emitChannel.publish({
        scope: parsed.scope,
        type: parsed.type,
        event: parsed.event,
        notificationId,
        deliveryIds: result.deliveryIds,
        created: result.created,
        startedAt: now,
        durationMs: this.#clock.now() - now.getTime(),
      } satisfies EmitMessage);
    }
    if (telemetry && (span !== undefined || telemetry.measuring))
      telemetry.endEmit(span, {
        scope: parsed.scope,
        type: parsed.type,
        notificationId,
        deliveries: result.deliveryIds.length,
        created: result.created,
      });
    return {
      notificationId,
      deliveries: result.deliveryIds.length,
      deliveryIds: result.deliveryIds,
      created: result.created,
    };
  }

  /**
   * Emits several notifications in one transaction: each is parsed, matched and rendered as by
   * {@link WebhookRegistry.emit}, then all are stored in one atomic step (the host's `tx`, or
   * one transaction of the store's own) with one wake-up for the workers. Resolves with one
   * {@link EmitResult} per notification, in order. Idempotent per notification id like `emit()`:
   * an id emitted before, or earlier in the same batch, stores nothing new (`created: false`,
   * the first emit's delivery ids). A bad notification throws one `ValidationError` for the
   * batch, each issue's path starting with the notification's index (e.g. `[1, 'type']`), and
   * nothing is stored. An empty array stores nothing and resolves with `[]`.
   *
   * A store without `enqueueMany` (a third-party adapter) gets one `enqueue` per notification:
   * atomic together only inside the host's `tx`. Telemetry and diagnostics see the batch as its
   * notifications: one `hookline emit` span and one `hookline:emit` message per notification
   * (the spans end together; `durationMs` is the batch's).
   *
   * @example
   * ```ts
   * const [paid, shipped] = await registry.emitMany([
   *   { scope: 'acme', type: 'order.paid', data: { code: 'ABC12' } },
   *   { scope: 'acme', type: 'order.shipped', data: { code: 'ABC12' } },
   * ]);
   * ```
   */
  async emitMany(
    notifications: readonly Notification[],
    options: EmitManyOptions = {},
  ): Promise<EmitResult[]> {
    const batch = parseNotifications(
      notifications,
      this.#options.maxNotificationBytes ?? DEFAULT_MAX_NOTIFICATION_BYTES,
    );
    if (batch.length === 0) return [];
    const telemetry = this.#telemetry;
    const spans = batch.map(() => telemetry?.startEmit());
    try {
      const now = this.#now();
      const items: EnqueueItem[] = [];
      /** The item each notification is stored as (a repeated id: its first one's). */
      const itemOf: number[] = [];
      /** By scope and notification id: the index of its first notification in the batch. */
      const firstOf = new Map<string, number>();
      for (const [i, parsed] of batch.entries()) {
        const notificationId = parsed.id ?? createId('ntf', now.getTime());
        const key = `${parsed.scope}\u0000${notificationId}`;
        const first = firstOf.get(key);
        if (first !== undefined) {
          itemOf.push(itemOf[first] as number);
          continue;
        }
        const index = await this.#index(parsed.scope, options.tx);
        const traceContext = telemetry ? telemetry.traceContextOf(spans[i]) : null;
        firstOf.set(key, i);
        itemOf.push(items.length);
        items.push({
          scope: parsed.scope,
          notificationId,
          deliveries: this.#deliveriesOf(parsed, notificationId, now, index, traceContext),
        });
      }
      const tx = options.tx === undefined ? {} : { tx: options.tx };
      let stored: { created: boolean; deliveryIds: string[] }[];
      if (this.store.enqueueMany) {
        stored = await this.store.enqueueMany({ items, now, ...tx });
      } else {
        stored = [];
        for (const item of items) stored.push(await this.store.enqueue({ ...item, now, ...tx }));
      }
      const durationMs = this.#clock.now() - now.getTime();
      return batch.map((parsed, i) => {
        const item = itemOf[i] as number;
        const { notificationId } = items[item] as EnqueueItem;
        const result = stored[item] as { created: boolean; deliveryIds: string[] };
        const created = result.created && firstOf.get(`${parsed.scope}\u0000${notificationId}`) === i;
        const deliveryIds = [...result.deliveryIds];
        if (emitChannel.hasSubscribers) {
          emitChannel.publish({
            scope: parsed.scope,
            type: parsed.type,
            event: parsed.event,
            notificationId,
            deliveryIds,
            created,
            startedAt: now,
            durationMs,
          } satisfies EmitMessage);
        }
        const span = spans[i];
        if (telemetry && (span !== undefined || telemetry.measuring))
          telemetry.endEmit(span, {
            scope: parsed.scope,
            type: parsed.type,
            notificationId,
            deliveries: deliveryIds.length,
            created,
          });
        return { notificationId, deliveries: deliveryIds.length, deliveryIds, created };
      });
    } catch (error) {
      for (const span of spans) telemetry?.failEmit(span, error);
      throw error;
    }
  }

  /** One delivery per webhook of `index` that matches, its request rendered (a template that fails: stored `failed`). */
  #deliveriesOf(
    parsed: ParsedNotification,
    notificationId: string,
    now: Date,
    index: MatchIndex<WebhookRecord>,
    traceContext: string | null,
  ): NewDelivery[] {
    const matches = index.match({ type: parsed.type, event: parsed.event });
    const renderable: Notification = {
      scope: parsed.scope,
      type: parsed.type,
      event: parsed.event,
      data: parsed.data,
    };
    if (parsed.occurredAt) renderable.occurredAt = parsed.occurredAt;
    const renderOptions = this.#renderOptions(notificationId, now);
    return matches.map((webhook): NewDelivery => {
      // Literals rather than `{ ...base, request }`: adding keys after a spread takes V8's slow
      // path, and this runs once per delivery.
      const id = createId('msg', now.getTime());
      try {
        const request = renderRequestUnchecked(webhook, renderable, renderOptions);
        if (webhook.ordering === 'fifo') {
          return {
            id,
            webhookId: webhook.id,
            type: parsed.type,
            event: parsed.event,
            request,
            traceContext,
            ordered: true,
            orderingKey: parsed.orderingKey,
          };
        }
        return { id, webhookId: webhook.id, type: parsed.type, event: parsed.event, request, traceContext };
      } catch (error) {
        if (!(error instanceof TemplateError)) throw error;
        const request = { url: webhook.url, method: webhook.method, headers: {}, body: '' };
        return {
          id,
          webhookId: webhook.id,
          type: parsed.type,
          event: parsed.event,
          request,
          failure: `${error.code}: ${error.message}`,
          traceContext,
          // A delivery that could not be rendered is failed at once and never holds its line.
        };
      }
    });
  }

  /**
   * A worker that sends the outbox's deliveries. Start it in-process, or in separate worker
   * processes that share the store.
   *
   * @example
   * ```ts
   * const worker = registry.worker({ concurrency: 32 });
   * worker.start();
   * await worker.stop();
   * ```
   */
  worker(options: WorkerOptions = {}): WebhookWorker {
    const registry = this;
    return new WebhookWorker(
      {
        store: this.store,
        ...(this.#telemetry ? { telemetry: this.#telemetry } : {}),
        retryPolicyFor: (webhook) => registry.#retryPolicy(webhook),
        async disableForWorker(webhook, reason) {
          await registry.disable(webhook.scope, webhook.id, reason);
          await registry.store.cancelPending({
            scope: webhook.scope,
            webhookId: webhook.id,
            reason: `webhook disabled (${reason})`,
            now: registry.#now(),
          });
        },
      },
      { clock: this.#clock, ...(this.logger ? { logger: this.logger } : {}), ...options },
    );
  }

  /**
   * A webhook's deliveries, newest first. Throws `NotFoundError` for a webhook the scope does
   * not have (deliveries of a removed webhook stay readable through {@link getDelivery}).
   *
   * @example
   * ```ts
   * const { count, items } = await registry.deliveries('acme', 1, { page: 1 });
   * ```
   */
  async deliveries(scope: string, webhookId: number, options: PageOptions = {}): Promise<Page<Delivery>> {
    const webhook = await this.#record(scope, webhookId);
    const { offset, limit } = pageWindow(options);
    return this.store.listDeliveries({ scope: webhook.scope, webhookId: webhook.id, offset, limit });
  }

  /**
   * One delivery by id. Throws `NotFoundError` when the scope has none with that id.
   *
   * @example
   * ```ts
   * const delivery = await registry.getDelivery('acme', 'msg_01JD...');
   * ```
   */
  async getDelivery(scope: string, deliveryId: string): Promise<Delivery> {
    const validScope = this.#scope(scope);
    const id = parseOrThrow(keySchema, deliveryId, ['deliveryId']);
    const delivery = await this.store.getDelivery({ scope: validScope, id });
    if (!delivery) throw new NotFoundError('delivery', { scope: validScope, id });
    return delivery;
  }

  /**
   * The attempt log of one delivery, newest first: status, duration, error and capped
   * response body of every try. Throws `NotFoundError` for a delivery of another scope.
   *
   * @example
   * ```ts
   * const { items } = await registry.attempts('acme', 'msg_01JD...');
   * ```
   */
  async attempts(scope: string, deliveryId: string, options: PageOptions = {}): Promise<Page<Attempt>> {
    const delivery = await this.getDelivery(scope, deliveryId);
    const { offset, limit } = pageWindow(options);
    return this.store.listAttempts({ scope: delivery.scope, deliveryId: delivery.id, offset, limit });
  }

  /**
   * Sends a finished delivery again, as a new series of attempts with the same id and the
   * request as it was rendered. Throws `ConflictError` while it is still pending.
   *
   * @example
   * ```ts
   * await registry.redeliver('acme', 'msg_01JD...');
   * ```
   */
  async redeliver(scope: string, deliveryId: string): Promise<Delivery> {
    const delivery = await this.getDelivery(scope, deliveryId);
    const again = await this.store.redeliver({ scope: delivery.scope, id: delivery.id, now: this.#now() });
    if (!again) throw new NotFoundError('delivery', { scope: delivery.scope, id: delivery.id });
    return again;
  }

  /**
   * Re-queues, in bulk, the deliveries of a scope that ended `failed` (or, with `states`, also
   * `canceled`) between `since` (inclusive) and `until` (exclusive; default and at most: now),
   * optionally of one webhook (`webhookId`, which must exist in the scope: `NotFoundError`
   * otherwise) and of some event types (`types`). "Ended" is when the delivery reached its
   * final state (its `updatedAt`). Each one goes back to `pending`, due now, with the same id
   * and a new attempt series, exactly as {@link redeliver} does, and workers are woken.
   *
   * Streams through the store in batches of `batchSize` (default 500, at most 10 000; one
   * statement each on PostgreSQL): memory stays bounded at a million deliveries. Safe to run
   * twice, or twice at once: a queued delivery is pending and no longer matches, and no
   * delivery is queued twice. Deliveries of a disabled or deleted webhook are left as they
   * are and counted in `skipped` (queued, the worker would cancel them at once); enable the
   * webhook first. `dryRun: true` counts only. `onProgress` gets the totals after each
   * batch; `signal` stops before the next batch (what was queued stays queued).
   *
   * Throws `ValidationError` for a bad scope, date, range, state, type list or batch size,
   * `invalid_option` for options of the wrong kind, and `store_unsupported` when the store has
   * no `recoverDeliveries`.
   *
   * @example
   * ```ts
   * const { matched, queued } = await registry.recover({
   *   scope: 'acme',
   *   since: new Date(Date.now() - 24 * 3_600_000),
   *   states: ['failed', 'canceled'],
   * });
   * ```
   */
  async recover(options: RecoverOptions): Promise<RecoverResult> {
    const plan = planRecovery(options, this.#now(), (scope) => this.#scope(scope), requireId);
    if (plan.webhookId !== null) await this.#record(plan.scope, plan.webhookId);
    return runRecovery(this.store, plan, () => this.#now());
  }

  /**
   * Stops a pending delivery's retries (pretix's "stop retrying"): it becomes `canceled`, with
   * `reason` (default `'canceled'`, at most 1 000 characters) as its `lastError`, and is never
   * attempted again unless redelivered. A delivery whose attempt is in flight is canceled as
   * well: that request may still arrive, but its outcome is not recorded and no retry follows.
   * Throws `NotFoundError` for a delivery the scope does not have, `ConflictError` when it is
   * not pending, and `store_unsupported` when the store has no `cancelDelivery`.
   *
   * @example
   * ```ts
   * await registry.cancel('acme', 'msg_01JD...', { reason: 'receiver retired' });
   * ```
   */
  async cancel(scope: string, deliveryId: string, options: { reason?: string } = {}): Promise<Delivery> {
    checkOptionsObject('registry.cancel()', options);
    const reason = options.reason ?? 'canceled';
    if (typeof reason !== 'string' || reason.length === 0 || reason.length > 1_000 || reason.includes('\0')) {
      throw new ValidationError([
        {
          path: ['reason'],
          code: 'invalid_reason',
          message: 'A cancel reason is 1 to 1000 characters, without NUL.',
        },
      ]);
    }
    const delivery = await this.getDelivery(scope, deliveryId);
    if (typeof this.store.cancelDelivery !== 'function') {
      throw new HooklineError(
        'store_unsupported',
        `registry.cancel() needs a store with a cancelDelivery() method; the ${JSON.stringify(this.store.name)} store ` +
          'has none. Implement Store.cancelDelivery (run storeConformance with capabilities.cancelDelivery: true), ' +
          'or use memoryStore() or postgresStore(), which have it.',
      );
    }
    const canceled = await this.store.cancelDelivery({
      scope: delivery.scope,
      id: delivery.id,
      reason,
      now: this.#now(),
    });
    if (!canceled) throw new NotFoundError('delivery', { scope: delivery.scope, id: delivery.id });
    return canceled;
  }

  /**
   * Queues a test ping to one webhook, whatever its event types (type `hookline.ping`, data
   * `{ "ping": true }`, rendered like any notification). Returns the new delivery. A ping is
   * never ordered, even for a webhook with `ordering: 'fifo'`: it is sent at once, neither
   * waiting behind the webhook's lines nor holding them up.
   *
   * @example
   * ```ts
   * const delivery = await registry.ping('acme', 1);
   * ```
   */
  async ping(scope: string, webhookId: number): Promise<Delivery> {
    const webhook = await this.#record(scope, webhookId);
    const now = this.#now();
    const notificationId = createId('ntf', now.getTime());
    const id = createId('msg', now.getTime());
    const request = renderRequestUnchecked(
      webhook,
      { scope: webhook.scope, type: PING_EVENT_TYPE, event: null, data: { ping: true } },
      this.#renderOptions(notificationId, now),
    );
    await this.store.enqueue({
      scope: webhook.scope,
      notificationId,
      deliveries: [{ id, webhookId: webhook.id, type: PING_EVENT_TYPE, event: null, request }],
      now,
    });
    return this.getDelivery(webhook.scope, id);
  }

  /**
   * The outbox's health now (by the registry's clock), for dashboards and readiness checks:
   * `pending`, `due` (not yet taken by a worker), `inFlight`, `oldestDueAt` and
   * `oldestDueAgeMs` (how far behind the workers are), and the webhooks failing longest
   * (`failingWebhooks`, at most 100, and `failingWebhookCount`). With `scope`, of that scope
   * alone; with `perScope: true`, also per scope in `scopes`. Throws `invalid_option` for
   * options of the wrong type, `ValidationError` for a bad scope, and `store_unsupported` when
   * the store has no `outboxStats`. One statement on PostgreSQL.
   *
   * @example
   * ```ts
   * const { due, oldestDueAgeMs } = await registry.stats({ scope: 'acme' });
   * ```
   */
  async stats(options: StatsOptions = {}): Promise<RegistryStats> {
    return registryStats(this.store, this.#now(), options, (scope) => this.#scope(scope));
  }

  /**
   * One page of a scope's delivery log, newest first, filtered by webhook, states, event
   * types, creation time (`since` inclusive, `until` exclusive) and a delivery or notification
   * `id`; pass the page's `cursor` back for the next (older) page (`null`: no more). What the
   * delivery-log page (`hookline/ui`) shows. Throws `ValidationError` for bad filters (a bad
   * `cursor` too), `NotFoundError` never (an unknown webhook just matches nothing), and
   * `store_unsupported` when the store has no `searchDeliveries`. Default `limit` 50, at most
   * 500. One index range scan per page on PostgreSQL.
   *
   * @example
   * ```ts
   * const page = await registry.searchDeliveries('acme', { states: ['failed'], limit: 20 });
   * const older = page.cursor ? await registry.searchDeliveries('acme', { states: ['failed'], limit: 20, cursor: page.cursor }) : null;
   * ```
   */
  async searchDeliveries(
    scope: string,
    options: SearchDeliveriesOptions = {},
  ): Promise<SearchDeliveriesResult> {
    return searchDeliveries(this.store, scope, options, (s) => this.#scope(s), requireId);
  }

  /**
   * Where a pending delivery of an ordered line (a webhook with `ordering: 'fifo'`) stands:
   * `ahead`, how many deliveries of its line come before it (the pending ones emitted earlier,
   * plus the failed one pausing the line, if any), and `blockedBy`, the delivery it waits for
   * (the one pausing the line, else the line's head when that is another delivery; `null` when
   * it is the head itself). `null` when the scope has no such delivery, or it is not ordered or
   * not pending. What the delivery-log page shows as "waiting behind". Throws
   * `ValidationError` for a bad scope or id and `store_unsupported` when the store has no
   * `deliveryLine`.
   *
   * @example
   * ```ts
   * const line = await registry.deliveryLine('acme', 'msg_01JD...');
   * if (line?.blockedBy) console.log(`waiting behind ${line.blockedBy.id}, ${line.ahead} ahead`);
   * ```
   */
  async deliveryLine(scope: string, deliveryId: string): Promise<DeliveryLine | null> {
    return deliveryLine(
      this.store,
      scope,
      deliveryId,
      (s) => this.#scope(s),
      (id) => parseOrThrow(keySchema, id, ['deliveryId']),
    );
  }

  /**
   * What a scope's webhooks did over a window (default: the last 24 hours by the registry's
   * clock), from their attempts: counts by outcome (`succeeded`, `failed` with an HTTP status,
   * `errored` without one), the median and 95th percentile duration, the newest attempt ever,
   * and the same per chart bucket (default an hour). One entry per webhook, in the order of
   * `webhookIds` (default: the scope's webhooks by id). Throws `ValidationError` for a bad
   * window or bucket length and `store_unsupported` when the store has no `webhookActivity`.
   *
   * @example
   * ```ts
   * const [hook] = await registry.webhookActivity('acme', { webhookIds: [1] });
   * console.log(hook?.succeeded, hook?.p95DurationMs);
   * ```
   */
  async webhookActivity(scope: string, options: WebhookActivityOptions = {}): Promise<WebhookActivity[]> {
    return webhookActivity(
      this.store,
      scope,
      options,
      this.#now(),
      (s) => this.#scope(s),
      requireId,
      async (s) => {
        const page = await this.store.listWebhooks({ scope: s, offset: 0, limit: 1_000 });
        return page.items.map((w) => w.id);
      },
    );
  }

  /** The render options of one notification; the rest were checked by the constructor. */
  #renderOptions(notificationId: string, now: Date): ResolvedRenderOptions {
    return {
      notificationId,
      payloadStyle: this.#payloadStyle,
      defaultEscape: this.#defaultEscape,
      maxTemplateBytes: this.#maxTemplateBytes,
      now,
    };
  }

  #retryPolicy(webhook: WebhookRecord): RetryPolicy {
    const option = this.#options.retryPolicy;
    if (option === undefined) return retryPolicies.standard;
    return typeof option === 'function' ? option(webhook) : option;
  }

  /**
   * Forgets the compiled match indexes (all scopes, or one), so the next match reloads from
   * the store. Needed only when another process changed webhooks in a shared store.
   *
   * @example
   * ```ts
   * registry.invalidate('acme');
   * ```
   */
  invalidate(scope?: string): void {
    if (scope === undefined) this.#indexes.clear();
    else this.#indexes.delete(scope);
  }

  #scope(scope: string): string {
    return parseOrThrow(scopeSchema, scope, ['scope']);
  }

  async #record(scope: string, id: number): Promise<WebhookRecord> {
    const validScope = this.#scope(scope);
    const validId = requireId(id);
    const record = await this.store.getWebhook({ scope: validScope, id: validId });
    if (!record) throw new NotFoundError('webhook', { scope: validScope, id: validId });
    return record;
  }

  async #write(current: WebhookRecord, fields: WebhookFields): Promise<Webhook> {
    const disabledReason = fields.enabled ? null : current.enabled ? 'manual' : current.disabledReason;
    return this.#update(current, { ...fields, disabledReason });
  }

  async #update(
    current: WebhookRecord,
    changes: Partial<WebhookFields> & { disabledReason?: WebhookRecord['disabledReason'] },
  ): Promise<Webhook> {
    const record = await this.#changing(
      current.scope,
      () => this.store.updateWebhook({ scope: current.scope, id: current.id, changes, now: this.#now() }),
      (index, updated) => updated && index.upsert(updated),
    );
    if (!record) throw new NotFoundError('webhook', { scope: current.scope, id: current.id });
    if (current.enabled && !record.enabled) {
      this.#disabled(record);
      // Ordered lines end at once: a paused line's deliveries would never come up to be
      // canceled by a worker, and a waiting one would otherwise wait for each head before it.
      if (current.ordering === 'fifo' || record.ordering === 'fifo') {
        await this.store.cancelPending({
          scope: record.scope,
          webhookId: record.id,
          reason: `webhook disabled (${record.disabledReason ?? 'manual'})`,
          now: this.#now(),
        });
      }
    }
    return toWebhook(record);
  }

  /** Tells the diagnostics channel and the logger that a webhook was just disabled. */
  #disabled(record: WebhookRecord): void {
    const reason = record.disabledReason ?? 'manual';
    this.#telemetry?.webhookDisabled({ scope: record.scope, reason });
    if (webhookDisabledChannel.hasSubscribers) {
      webhookDisabledChannel.publish({
        scope: record.scope,
        webhookId: record.id,
        reason,
      } satisfies WebhookDisabledMessage);
    }
    log(
      this.logger,
      reason === 'manual' ? 'info' : 'warn',
      { scope: record.scope, webhookId: record.id, url: withoutCredentials(record.url), reason },
      DISABLED_MESSAGES[reason],
    );
  }

  /** Checks the rules zod cannot see alone and returns the normalized fields. */
  async #check(scope: string, fields: WebhookFields): Promise<WebhookFields> {
    const issues: ValidationIssue[] = [];
    const urlProblem = checkUrl(fields.url, { allowCredentials: this.#options.allowUrlCredentials ?? false });
    if (urlProblem) issues.push({ path: ['url'], code: 'invalid_url', message: urlProblem });
    issues.push(...validateEventTypes(fields.eventTypes, this.catalog));
    for (const [index, secret] of fields.secrets.entries()) {
      const problem = checkSigningSecret(secret);
      if (problem) issues.push({ path: ['secrets', index], code: 'invalid_secret', message: problem });
    }
    if (fields.allEvents && fields.limitEvents.length > 0) {
      issues.push({
        path: [],
        code: 'limit_events_with_all_events',
        message: 'You can set either limit_events or all_events.',
      });
    }
    for (const [field, template] of [
      ['headerTemplate', fields.headerTemplate],
      ['bodyTemplate', fields.bodyTemplate],
    ] as const) {
      if (template !== null) {
        issues.push(
          ...validateTemplate(template, {
            field,
            maxBytes: this.#maxTemplateBytes,
            kind: field === 'headerTemplate' ? 'headers' : 'body',
          }),
        );
      }
    }
    const limitEvents = unique(fields.limitEvents);
    const eventExists = this.#options.eventExists;
    if (eventExists) {
      for (const [index, slug] of limitEvents.entries()) {
        if (!(await eventExists(scope, slug))) {
          issues.push({
            path: ['limitEvents', index],
            code: 'unknown_event',
            message: `Object with slug=${slug} does not exist.`,
          });
        }
      }
    }
    throwIfIssues(issues);
    return { ...fields, eventTypes: sortedUnique(fields.eventTypes), limitEvents };
  }

  /** The store's webhook version of a scope, or `undefined` when the store keeps none. */
  #version(scope: string, tx?: unknown): Promise<number> | undefined {
    return this.store.webhooksVersion?.(tx === undefined ? { scope } : { scope, tx });
  }

  /**
   * The compiled match index of a scope: cached, and rebuilt from the store when the store's
   * webhook version shows that another process changed the scope's webhooks.
   */
  async #index(scope: string, tx?: unknown): Promise<MatchIndex<WebhookRecord>> {
    return (await this.#entry(scope, tx)).index;
  }

  /** {@link #index}'s cache entry: the index and the store's version it was built at. */
  async #entry(scope: string, tx?: unknown): Promise<IndexEntry> {
    const version = await this.#version(scope, tx);
    let entry = this.#indexes.get(scope);
    if (!entry || entry.version !== version) {
      const read = { scope, offset: 0, limit: null, ...(tx === undefined ? {} : { tx }) };
      const index = this.store.listWebhooks(read).then(({ items }) => {
        const built = createMatchIndex<WebhookRecord>(this.catalog ? { catalog: this.catalog } : {});
        for (const record of items) built.upsert(record);
        return built;
      });
      const created = { index, version };
      entry = created;
      this.#indexes.set(scope, created);
      index.catch(() => {
        if (this.#indexes.get(scope) === created) this.#indexes.delete(scope);
      });
    }
    return entry;
  }

  /**
   * Runs one of this registry's webhook writes and applies it to the cached index of the scope
   * without a rebuild, when the store's version shows that nothing else changed meanwhile
   * (otherwise the cached index is dropped and rebuilt on next use).
   */
  async #changing<T>(
    scope: string,
    write: () => Promise<T>,
    apply: (index: MatchIndex<WebhookRecord>, result: T) => unknown,
  ): Promise<T> {
    const entry = this.#indexes.get(scope);
    const before = entry ? await this.#version(scope) : undefined;
    const result = await write();
    if (!entry || this.#indexes.get(scope) !== entry) return result;
    const after = await this.#version(scope);
    // Ours alone when the version grew by at most our one write since the index was current.
    // (`typeof`: an adapter still returning the old decimal string gets a rebuild, not `'4' + 1`.)
    const onlyOurs =
      after === undefined ||
      (typeof before === 'number' &&
        typeof after === 'number' &&
        entry.version === before &&
        after <= before + 1);
    if (onlyOurs) {
      apply(await entry.index, result);
      entry.version = after;
    } else {
      this.#indexes.delete(scope);
    }
    return result;
  }
}

/** A scope's compiled match index and the store's webhook version it was built at. */
interface IndexEntry {
  index: Promise<MatchIndex<WebhookRecord>>;
  version: number | undefined;
}

function pageWindow(options: PageOptions): { offset: number; limit: number } {
  const page = requirePositiveInt(options.page, 'page', 1, Number.MAX_SAFE_INTEGER);
  const pageSize = requirePositiveInt(options.pageSize, 'pageSize', DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
  return { offset: (page - 1) * pageSize, limit: pageSize };
}

const FIELD_NAMES = Object.keys(webhookFieldsSchema.shape) as (keyof WebhookFields)[];

function pickFields(record: WebhookRecord): WebhookFields {
  const out: Record<string, unknown> = {};
  for (const name of FIELD_NAMES) out[name] = record[name];
  return out as WebhookFields;
}

function definedOnly<T extends object>(value: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}
