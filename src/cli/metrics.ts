/**
 * The worker command's `/metrics`: hookline's metrics (docs/observability.md) in the Prometheus
 * text exposition format 0.0.4, made from the `node:diagnostics_channel` channels and
 * `registry.stats()`, with no OpenTelemetry package at run time.
 *
 * Names are those the OpenTelemetry Prometheus exporter for JavaScript
 * (`@opentelemetry/exporter-prometheus`) gives the same metrics, so a dashboard works with
 * either: dots become underscores, monotonic counters end in `_total`, histograms have
 * `_bucket` / `_sum` / `_count`, attribute names are sanitized the same way, and histogram
 * buckets are the SDK's default boundaries. Like that exporter, no unit suffix is added
 * (`hookline_attempt_duration`, in seconds).
 *
 * @module
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import {
  type AttemptEndMessage,
  CHANNELS,
  type DeliveryOutcomeMessage,
  type EmitMessage,
  type WebhookDisabledMessage,
} from '../observability/channels.js';
import { TELEMETRY_METRICS } from '../observability/otel.js';

/** The OpenTelemetry SDK's default explicit histogram boundaries. */
const BOUNDARIES = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000] as const;
const STATUS_CLASSES = ['none', '1xx', '2xx', '3xx', '4xx', '5xx'] as const;

type MetricName = keyof typeof TELEMETRY_METRICS;
type Labels = Readonly<Record<string, string>>;

/** The Prometheus name of an OpenTelemetry metric or attribute name, as the exporter makes it. */
export function prometheusName(name: string, counter = false): string {
  const base = name.replace(/[^a-zA-Z0-9_:]/g, '_').replace(/_{2,}/g, '_');
  return counter && !base.endsWith('_total') ? `${base}_total` : base;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function labelText(labels: Labels, extra?: Labels): string {
  const all = { ...labels, ...extra };
  const parts = Object.entries(all).map(([k, v]) => `${prometheusName(k)}="${escapeLabel(v)}"`);
  return parts.length > 0 ? `{${parts.join(',')}}` : '';
}

function number(value: number): string {
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

interface Histogram {
  labels: Labels;
  counts: number[];
  sum: number;
  count: number;
}

/** The gauges' source: `registry.stats()`'s fields (all scopes). */
export interface GaugeReading {
  pending: number;
  due: number;
  inFlight: number;
  oldestDueAgeMs: number | null;
}

/** Counters and histograms fed by the diagnostics channels of this process. */
export class MetricsCollector {
  readonly #counters = new Map<MetricName, Map<string, { labels: Labels; value: number }>>();
  readonly #histograms = new Map<MetricName, Map<string, Histogram>>();
  readonly #unsubscribe: (() => void)[] = [];

  /** Subscribes to hookline's channels. */
  start(): void {
    const on = <T>(name: string, handle: (message: T) => void) => {
      const listener = (message: unknown) => handle(message as T);
      diagnosticsChannel.subscribe(name, listener);
      this.#unsubscribe.push(() => diagnosticsChannel.unsubscribe(name, listener));
    };
    on<EmitMessage>(CHANNELS.emit, (m) => {
      this.#add('hookline.notifications.emitted', {}, 1);
      if (m.created && m.deliveryIds.length > 0) {
        this.#add('hookline.deliveries.created', {}, m.deliveryIds.length);
      }
    });
    on<AttemptEndMessage>(CHANNELS.attemptEnd, (m) => {
      const klass = m.status >= 100 && m.status <= 599 ? Math.floor(m.status / 100) : 0;
      const labels = {
        'hookline.outcome': m.classification,
        'http.response.status_class': STATUS_CLASSES[klass] ?? 'none',
      };
      this.#add('hookline.attempts', labels, 1);
      this.#observe('hookline.attempt.duration', labels, m.durationMs / 1000);
      if (m.dueAt) {
        this.#observe(
          'hookline.delivery.lag',
          {},
          Math.max(0, m.startedAt.getTime() - m.dueAt.getTime()) / 1000,
        );
      }
    });
    on<DeliveryOutcomeMessage>(CHANNELS.deliveryOutcome, (m) => {
      this.#observe(
        'hookline.delivery.duration',
        { 'hookline.delivery.state': m.state },
        Math.max(0, m.at.getTime() - m.createdAt.getTime()) / 1000,
      );
    });
    on<WebhookDisabledMessage>(CHANNELS.webhookDisabled, (m) => {
      this.#add('hookline.webhooks.disabled', { 'hookline.disabled_reason': m.reason }, 1);
    });
  }

  /** Unsubscribes. */
  stop(): void {
    for (const off of this.#unsubscribe.splice(0)) off();
  }

  #add(name: MetricName, labels: Labels, by: number): void {
    let series = this.#counters.get(name);
    if (!series) {
      series = new Map();
      this.#counters.set(name, series);
    }
    const key = JSON.stringify(labels);
    const current = series.get(key);
    if (current) current.value += by;
    else series.set(key, { labels, value: by });
  }

  #observe(name: MetricName, labels: Labels, value: number): void {
    let series = this.#histograms.get(name);
    if (!series) {
      series = new Map();
      this.#histograms.set(name, series);
    }
    const key = JSON.stringify(labels);
    let h = series.get(key);
    if (!h) {
      h = { labels, counts: new Array<number>(BOUNDARIES.length + 1).fill(0), sum: 0, count: 0 };
      series.set(key, h);
    }
    let i = BOUNDARIES.findIndex((bound) => value <= bound);
    if (i === -1) i = BOUNDARIES.length;
    h.counts[i] = (h.counts[i] ?? 0) + 1;
    h.sum += value;
    h.count += 1;
  }

  /** The exposition text; `gauges` from `registry.stats()`, left out when undefined (the store did not answer). */
  render(gauges: GaugeReading | undefined): string {
    const out: string[] = [];
    const header = (name: MetricName, promName: string, type: string) => {
      out.push(`# HELP ${promName} ${escapeHelp(TELEMETRY_METRICS[name].description)}`);
      out.push(`# TYPE ${promName} ${type}`);
    };
    for (const [name, spec] of Object.entries(TELEMETRY_METRICS) as [
      MetricName,
      (typeof TELEMETRY_METRICS)[MetricName],
    ][]) {
      if (spec.kind === 'counter') {
        const promName = prometheusName(name, true);
        header(name, promName, 'counter');
        const series = this.#counters.get(name);
        if (!series || series.size === 0) {
          // Label-less counters start at 0 so rate() has a first point.
          if (!spec.attributes.some((a) => !a.endsWith('?'))) out.push(`${promName} 0`);
          continue;
        }
        for (const { labels, value } of series.values())
          out.push(`${promName}${labelText(labels)} ${number(value)}`);
      } else if (spec.kind === 'histogram') {
        const promName = prometheusName(name);
        header(name, promName, 'histogram');
        for (const h of this.#histograms.get(name)?.values() ?? []) {
          out.push(`${promName}_count${labelText(h.labels)} ${h.count}`);
          out.push(`${promName}_sum${labelText(h.labels)} ${number(h.sum)}`);
          let cumulative = 0;
          for (let i = 0; i <= BOUNDARIES.length; i++) {
            cumulative += h.counts[i] ?? 0;
            const le = i < BOUNDARIES.length ? String(BOUNDARIES[i]) : '+Inf';
            out.push(`${promName}_bucket${labelText(h.labels, { le })} ${cumulative}`);
          }
        }
      } else if (gauges) {
        const promName = prometheusName(name);
        header(name, promName, 'gauge');
        const value =
          name === 'hookline.outbox.pending'
            ? gauges.pending
            : name === 'hookline.outbox.due'
              ? gauges.due
              : name === 'hookline.outbox.in_flight'
                ? gauges.inFlight
                : (gauges.oldestDueAgeMs ?? 0) / 1000;
        out.push(`${promName} ${number(value)}`);
      }
    }
    return `${out.join('\n')}\n`;
  }
}
