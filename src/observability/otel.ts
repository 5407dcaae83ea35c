/**
 * OpenTelemetry traces and metrics through `@opentelemetry/api`, an optional peer dependency.
 * Without the package hookline never touches telemetry (one `require` attempt per process);
 * with the package but without a registered SDK the API's no-op tracer and meter answer, and
 * nothing is built that only a recording span would read.
 *
 * Traces: `registry.emit()` is a PRODUCER span (`hookline emit`); its context is stored with
 * each delivery (a W3C `traceparent`), and every attempt is a CLIENT span (`POST`, …) that
 * links back to it, in whatever process and however much later the attempt happens.
 * Metrics: see {@link TELEMETRY_METRICS}.
 *
 * @module
 */
import { createRequire } from 'node:module';
import type * as Api from '@opentelemetry/api';
import { BoundedCache } from '../util/bounded-cache.js';
import { VERSION } from '../version.js';

type OtelApi = typeof Api;

let api: OtelApi | null | undefined;

/**
 * Whether an OpenTelemetry SDK is registered now: the global tracer provider delegates to a
 * real one, or the global meter provider is not the API's no-op one. A registry made while
 * this is false records nothing and costs nothing (register the SDK first, as OpenTelemetry
 * asks of every instrumented library).
 */
export function sdkRegistered(otel: OtelApi): boolean {
  const tracerProvider = otel.trace.getTracerProvider() as { getDelegate?: () => Api.TracerProvider };
  const noopTracerProvider = new otel.ProxyTracerProvider().getDelegate();
  if (
    typeof tracerProvider.getDelegate !== 'function' ||
    tracerProvider.getDelegate() !== noopTracerProvider
  ) {
    return true;
  }
  return otel.metrics.getMeterProvider().getMeter('hookline', VERSION) !== otel.createNoopMeter();
}

/** `@opentelemetry/api` when it is installed, else null; looked up once per process. */
export function otelApi(): OtelApi | null {
  if (api === undefined) {
    try {
      api = createRequire(import.meta.url)('@opentelemetry/api') as OtelApi;
    } catch {
      api = null;
    }
  }
  return api;
}

/**
 * The metrics hookline records, by name: instrument kind, unit and attributes. Names and
 * units follow the OpenTelemetry conventions (seconds for durations, `{thing}` for counts).
 *
 * @example
 * ```ts
 * TELEMETRY_METRICS['hookline.attempt.duration']; // { kind: 'histogram', unit: 's', … }
 * ```
 */
export const TELEMETRY_METRICS = Object.freeze({
  'hookline.notifications.emitted': {
    kind: 'counter',
    unit: '{notification}',
    description: 'Notifications emitted (a repeated notification id counts again).',
    attributes: ['hookline.scope?'],
  },
  'hookline.deliveries.created': {
    kind: 'counter',
    unit: '{delivery}',
    description: 'Deliveries stored by emit().',
    attributes: ['hookline.scope?'],
  },
  'hookline.attempts': {
    kind: 'counter',
    unit: '{attempt}',
    description: 'Attempts made, by outcome and status class.',
    attributes: ['hookline.outcome', 'http.response.status_class', 'hookline.scope?'],
  },
  'hookline.attempt.duration': {
    kind: 'histogram',
    unit: 's',
    description: 'Duration of one attempt, connect to response body.',
    attributes: ['hookline.outcome', 'http.response.status_class', 'hookline.scope?'],
  },
  'hookline.delivery.lag': {
    kind: 'histogram',
    unit: 's',
    description: 'Time from an attempt being due to it being sent.',
    attributes: ['hookline.scope?'],
  },
  'hookline.delivery.duration': {
    kind: 'histogram',
    unit: 's',
    description: 'Time from emit to a delivery’s final state.',
    attributes: ['hookline.delivery.state', 'hookline.scope?'],
  },
  'hookline.webhooks.disabled': {
    kind: 'counter',
    unit: '{webhook}',
    description: 'Webhooks disabled, by reason.',
    attributes: ['hookline.disabled_reason', 'hookline.scope?'],
  },
  'hookline.outbox.pending': {
    kind: 'gauge',
    unit: '{delivery}',
    description: 'Deliveries pending (due, leased or scheduled).',
    attributes: ['hookline.scope?'],
  },
  'hookline.outbox.due': {
    kind: 'gauge',
    unit: '{delivery}',
    description: 'Deliveries due now and not taken by a worker.',
    attributes: ['hookline.scope?'],
  },
  'hookline.outbox.in_flight': {
    kind: 'gauge',
    unit: '{delivery}',
    description: 'Deliveries under a live lease (being sent).',
    attributes: ['hookline.scope?'],
  },
  'hookline.outbox.oldest_due_age': {
    kind: 'gauge',
    unit: 's',
    description: 'Age of the oldest due delivery (0 when none is due).',
    attributes: ['hookline.scope?'],
  },
} as const);

/** A `traceparent` header value of a span context: `00-<trace id>-<span id>-<flags>`. */
export function toTraceparent(context: Api.SpanContext): string {
  return `00-${context.traceId}-${context.spanId}-${(context.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The span context of a stored `traceparent`, or undefined when it does not parse. */
export function fromTraceparent(value: string | null | undefined): Api.SpanContext | undefined {
  const match = value ? TRACEPARENT.exec(value) : null;
  if (!match) return undefined;
  const [, traceId = '', spanId = '', flags = '00'] = match;
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return { traceId, spanId, traceFlags: Number.parseInt(flags, 16), isRemote: true };
}

/**
 * `url` as `url.full` may show it: without `user:password@`, and with every query value
 * replaced by `REDACTED` (webhook URLs often carry tokens in the query).
 */
export function redactedUrl(url: string): string {
  if (!url.includes('@') && !url.includes('?')) return url;
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    if (parsed.search) {
      const params = new URLSearchParams();
      for (const key of parsed.searchParams.keys()) params.append(key, 'REDACTED');
      parsed.search = params.toString();
    }
    return parsed.href;
  } catch {
    return url;
  }
}

/** `http.response.status_class` values by the status's first digit; `none` (0) without an answer. */
const STATUS_CLASSES = ['none', '1xx', '2xx', '3xx', '4xx', '5xx'] as const;

/** Index into {@link STATUS_CLASSES} of a status. */
function statusClassIndex(status: number): number {
  return status >= 100 && status <= 599 ? Math.floor(status / 100) : 0;
}

interface Instruments {
  provider: unknown;
  /** The provider is the API's no-op one (no SDK): nothing to record. */
  noop: boolean;
  emitted: Api.Counter;
  created: Api.Counter;
  attempts: Api.Counter;
  attemptDuration: Api.Histogram;
  lag: Api.Histogram;
  deliveryDuration: Api.Histogram;
  disabled: Api.Counter;
}

/**
 * Options of the registry's `telemetry` option (see `WebhookRegistryOptions.telemetry`).
 * Telemetry needs `@opentelemetry/api` installed and an SDK registered; without them these
 * options do nothing.
 *
 * @example
 * ```ts
 * const telemetry: TelemetryOptions = {
 *   propagateToReceivers: (webhook) => webhook.url.startsWith('https://internal.example/'),
 *   perScope: true,
 * };
 * ```
 */
export interface TelemetryOptions {
  /**
   * Send the attempt span's context to receivers as a `traceparent` header: `true` for every
   * webhook, or a function choosing per webhook. Default `false`: it tells third parties your
   * trace ids.
   */
  propagateToReceivers?: boolean | ((webhook: { scope: string; id: number; url: string }) => boolean);
  /** Add `hookline.scope` to every metric (one series per scope). Default `false`. */
  perScope?: boolean;
}

/** What an attempt's span starts from. */
export interface AttemptStartInput {
  deliveryId: string;
  scope: string;
  webhook: { scope: string; id: number; url: string };
  method: string;
  url: string;
  attempt: number;
  /** The emit's stored `traceparent`, linked from the attempt's span. */
  traceContext: string | null;
  startedAt: Date;
}

/** How an attempt ended, for its span and metrics. */
export interface AttemptEndInput {
  scope: string;
  status: number;
  error: { code: string; message: string } | undefined;
  classification: string;
  nextAttemptAt: Date | null;
  durationMs: number;
  dueAt: Date | null;
  startedAt: Date;
  endedAt: Date;
}

/** A delivery's final state, for the end-to-end metric. */
export interface DeliveryFinishedInput {
  scope: string;
  state: string;
  createdAt: Date;
  at: Date;
}

/** An emit's span and the context that has it active. */
export interface EmitSpan {
  span: Api.Span;
  context: Api.Context;
}

/** What the worker keeps of an attempt's span between start and end. */
export interface AttemptSpan {
  span: Api.Span;
  /** The `traceparent` to send, when propagation is on for this webhook. */
  traceparent: string | undefined;
}

/** Outbox counts for the observable gauges. */
export interface GaugeSource {
  /** One read of the outbox: per scope when `perScope` is on, else one entry without a scope. */
  read(
    perScope: boolean,
  ): Promise<
    { scope?: string; pending: number; due: number; inFlight: number; oldestDueAgeMs: number | null }[]
  >;
}

/**
 * One registry's telemetry: its tracer and its instruments (made again when the global meter
 * provider changes, so an SDK registered after the registry still gets every metric).
 */
export class Telemetry {
  readonly #api: OtelApi;
  readonly #tracer: Api.Tracer;
  readonly #perScope: boolean;
  readonly #propagate: TelemetryOptions['propagateToReceivers'];
  readonly #gauges: GaugeSource | undefined;
  #instruments: Instruments | undefined;
  /**
   * Attribute objects by key (scope, state, reason), reused rather than built per record.
   * Bound: 10 000 sets (one per scope and state with `perScope`); emptied when full.
   */
  readonly #attributes = new BoundedCache<string, Api.Attributes>(10_000);
  /**
   * The attempt metrics' attributes without a scope, by classification and status class: two
   * lookups instead of building a key string per attempt (endAttempt without an SDK: 690 → 394 ns
   * in a micro-benchmark, three Dates of the caller included).
   */
  readonly #attemptAttributes = new Map<string, Api.Attributes[]>();

  constructor(otel: OtelApi, options: TelemetryOptions = {}, gauges?: GaugeSource) {
    this.#api = otel;
    this.#tracer = otel.trace.getTracer('hookline', VERSION);
    this.#perScope = options.perScope ?? false;
    this.#propagate = options.propagateToReceivers ?? false;
    this.#gauges = gauges;
    // Instruments (and the gauges' callback) at once when an SDK is already registered.
    this.#metrics();
  }

  /**
   * Whether an SDK records metrics (the global meter provider is not the API's no-op one).
   * Callers skip building a metric's input when it is false.
   *
   * An SDK may register traces without metrics; then the metric inputs are not built.
   */
  get measuring(): boolean {
    return !this.#metrics().noop;
  }

  #metrics(): Instruments {
    const provider = this.#api.metrics.getMeterProvider();
    const current = this.#instruments;
    if (current && current.provider === provider) return current;
    const meter = provider.getMeter('hookline', VERSION);
    // The API's no-op meter provider hands out the one no-op meter.
    const noop = meter === this.#api.createNoopMeter();
    const counter = (name: keyof typeof TELEMETRY_METRICS) =>
      meter.createCounter(name, {
        unit: TELEMETRY_METRICS[name].unit,
        description: TELEMETRY_METRICS[name].description,
      });
    const histogram = (name: keyof typeof TELEMETRY_METRICS) =>
      meter.createHistogram(name, {
        unit: TELEMETRY_METRICS[name].unit,
        description: TELEMETRY_METRICS[name].description,
      });
    const instruments: Instruments = {
      provider,
      noop,
      emitted: counter('hookline.notifications.emitted'),
      created: counter('hookline.deliveries.created'),
      attempts: counter('hookline.attempts'),
      attemptDuration: histogram('hookline.attempt.duration'),
      lag: histogram('hookline.delivery.lag'),
      deliveryDuration: histogram('hookline.delivery.duration'),
      disabled: counter('hookline.webhooks.disabled'),
    };
    if (this.#gauges && !noop) this.#observe(meter, this.#gauges);
    this.#instruments = instruments;
    return instruments;
  }

  #observe(meter: Api.Meter, source: GaugeSource): void {
    const gauge = (name: keyof typeof TELEMETRY_METRICS) =>
      meter.createObservableGauge(name, {
        unit: TELEMETRY_METRICS[name].unit,
        description: TELEMETRY_METRICS[name].description,
      });
    const pending = gauge('hookline.outbox.pending');
    const due = gauge('hookline.outbox.due');
    const inFlight = gauge('hookline.outbox.in_flight');
    const age = gauge('hookline.outbox.oldest_due_age');
    meter.addBatchObservableCallback(
      async (result) => {
        const rows = await source.read(this.#perScope);
        for (const row of rows) {
          const attributes = row.scope === undefined ? {} : { 'hookline.scope': row.scope };
          result.observe(pending, row.pending, attributes);
          result.observe(due, row.due, attributes);
          result.observe(inFlight, row.inFlight, attributes);
          result.observe(age, (row.oldestDueAgeMs ?? 0) / 1000, attributes);
        }
      },
      [pending, due, inFlight, age],
    );
  }

  #attrs(key: string, make: () => Api.Attributes): Api.Attributes {
    return this.#attributes.get(key) ?? this.#attributes.set(key, Object.freeze(make()));
  }

  #scoped(scope: string): Api.Attributes {
    return this.#perScope ? this.#attrs(`s\u0000${scope}`, () => ({ 'hookline.scope': scope })) : EMPTY;
  }

  /**
   * Starts the emit span, a child of the caller's active context; `undefined` when no SDK
   * records it.
   */
  startEmit(): EmitSpan | undefined {
    const otel = this.#api;
    const parent = otel.context.active();
    const span = this.#tracer.startSpan('hookline emit', { kind: otel.SpanKind.PRODUCER }, parent);
    if (!span.isRecording()) return undefined;
    return { span, context: otel.trace.setSpan(parent, span) };
  }

  /** Runs `fn` with the emit span active (so the store's own spans nest under it). */
  within<T>(emit: EmitSpan | undefined, fn: () => Promise<T>): Promise<T> {
    return emit ? this.#api.context.with(emit.context, fn) : fn();
  }

  /** The `traceparent` to store with each delivery of an emit, or null. */
  traceContextOf(emit: EmitSpan | undefined): string | null {
    if (!emit) return null;
    const context = emit.span.spanContext();
    return this.#api.isSpanContextValid(context) ? toTraceparent(context) : null;
  }

  /** Ends the emit span of an emit that stored its deliveries, and counts the emit. */
  endEmit(
    emit: EmitSpan | undefined,
    result: { scope: string; type: string; notificationId: string; deliveries: number; created: boolean },
  ): void {
    if (emit) {
      emit.span.setAttributes({
        'hookline.scope': result.scope,
        'hookline.notification.type': result.type,
        'hookline.notification.id': result.notificationId,
        'hookline.deliveries.created': result.created ? result.deliveries : 0,
        'hookline.notification.duplicate': !result.created,
      });
      emit.span.end();
    }
    const metrics = this.#metrics();
    if (metrics.noop) return;
    const attributes = this.#scoped(result.scope);
    metrics.emitted.add(1, attributes);
    if (result.created && result.deliveries > 0) metrics.created.add(result.deliveries, attributes);
  }

  /** Ends the emit span of an emit that threw, with the error's type and an error status. */
  failEmit(emit: EmitSpan | undefined, error: unknown): void {
    if (!emit) return;
    emit.span.setAttribute('error.type', errorType(error));
    emit.span.setStatus({ code: this.#api.SpanStatusCode.ERROR, message: messageOf(error) });
    emit.span.end();
  }

  /**
   * Starts an attempt's CLIENT span, linked to the emit that made the delivery. Returns
   * undefined when no SDK records it (nothing to end, nothing to propagate).
   */
  startAttempt(input: AttemptStartInput): AttemptSpan | undefined {
    const otel = this.#api;
    const link = fromTraceparent(input.traceContext);
    const span = this.#tracer.startSpan(
      input.method,
      {
        kind: otel.SpanKind.CLIENT,
        startTime: input.startedAt,
        ...(link ? { links: [{ context: link }] } : {}),
      },
      otel.ROOT_CONTEXT,
    );
    if (!span.isRecording()) return undefined;
    let host = '';
    let port = 0;
    try {
      const url = new URL(input.url);
      host = url.hostname;
      port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
    } catch {
      // Left empty: a URL that does not parse fails the attempt anyway.
    }
    span.setAttributes({
      'http.request.method': input.method,
      'url.full': redactedUrl(input.url),
      'server.address': host,
      'server.port': port,
      'hookline.delivery.id': input.deliveryId,
      'hookline.webhook.id': input.webhook.id,
      'hookline.scope': input.scope,
      'hookline.attempt': input.attempt,
    });
    const propagate = this.#propagate;
    const wanted = typeof propagate === 'function' ? propagate(input.webhook) : propagate === true;
    return { span, traceparent: wanted ? toTraceparent(span.spanContext()) : undefined };
  }

  /** Ends an attempt's span and records the attempt's metrics. */
  endAttempt(
    attempt: { readonly traceparent: string | undefined } | undefined,
    input: AttemptEndInput,
  ): void {
    const handle = attempt as AttemptSpan | undefined;
    if (handle) {
      const { span } = handle;
      if (input.status > 0) span.setAttribute('http.response.status_code', input.status);
      span.setAttribute('hookline.outcome', input.classification);
      if (input.nextAttemptAt)
        span.setAttribute('hookline.next_attempt_at', input.nextAttemptAt.toISOString());
      if (input.classification !== 'success') {
        const type = input.error?.code ?? String(input.status);
        span.setAttribute('error.type', type);
        span.setStatus({
          code: this.#api.SpanStatusCode.ERROR,
          message: input.error?.message ?? `HTTP ${input.status}`,
        });
      }
      span.end(input.endedAt);
    }
    const metrics = this.#metrics();
    if (metrics.noop) return;
    const klass = statusClassIndex(input.status);
    let attributes: Api.Attributes | undefined;
    if (this.#perScope) {
      attributes = this.#attrs(`a\u0000${input.classification}\u0000${klass}\u0000${input.scope}`, () => ({
        'hookline.outcome': input.classification,
        'http.response.status_class': STATUS_CLASSES[klass],
        'hookline.scope': input.scope,
      }));
    } else {
      let byClass = this.#attemptAttributes.get(input.classification);
      if (!byClass) {
        byClass = STATUS_CLASSES.map((name) =>
          Object.freeze({ 'hookline.outcome': input.classification, 'http.response.status_class': name }),
        );
        this.#attemptAttributes.set(input.classification, byClass);
      }
      attributes = byClass[klass];
    }
    metrics.attempts.add(1, attributes);
    metrics.attemptDuration.record(input.durationMs / 1000, attributes);
    if (input.dueAt) {
      metrics.lag.record(
        Math.max(0, input.startedAt.getTime() - input.dueAt.getTime()) / 1000,
        this.#scoped(input.scope),
      );
    }
  }

  /** Records a delivery's final state (its end-to-end time). */
  deliveryFinished(input: DeliveryFinishedInput): void {
    const metrics = this.#metrics();
    if (metrics.noop) return;
    const attributes = this.#attrs(`d\u0000${input.state}\u0000${this.#perScope ? input.scope : ''}`, () => ({
      'hookline.delivery.state': input.state,
      ...(this.#perScope ? { 'hookline.scope': input.scope } : {}),
    }));
    metrics.deliveryDuration.record(
      Math.max(0, input.at.getTime() - input.createdAt.getTime()) / 1000,
      attributes,
    );
  }

  /** Counts a disabled webhook. */
  webhookDisabled(input: { scope: string; reason: string }): void {
    const metrics = this.#metrics();
    if (metrics.noop) return;
    const attributes = this.#attrs(
      `w\u0000${input.reason}\u0000${this.#perScope ? input.scope : ''}`,
      () => ({
        'hookline.disabled_reason': input.reason,
        ...(this.#perScope ? { 'hookline.scope': input.scope } : {}),
      }),
    );
    metrics.disabled.add(1, attributes);
  }
}

const EMPTY: Api.Attributes = Object.freeze({});

function errorType(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') return code;
    const name = (error as { name?: unknown }).name;
    if (typeof name === 'string' && name !== '') return name;
  }
  return '_OTHER';
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
