/**
 * An OpenTelemetry SDK for tests: in-memory span exporter, a metric reader collected on
 * demand, and the AsyncLocalStorage context manager, registered globally; `disable()` removes
 * them again.
 */
import { context, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

export interface TestSdk {
  spans(): ReadableSpan[];
  collect(): Promise<ResourceMetrics>;
  disable(): Promise<void>;
}

export function registerTestSdk(options: { metrics?: boolean } = {}): TestSdk {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  trace.setGlobalTracerProvider(tracerProvider);
  const reader = new PeriodicExportingMetricReader({
    exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
    exportIntervalMillis: 3_600_000,
  });
  const meterProvider = new MeterProvider({ readers: [reader] });
  if (options.metrics !== false) metrics.setGlobalMeterProvider(meterProvider);
  return {
    spans: () => exporter.getFinishedSpans(),
    async collect() {
      const { resourceMetrics, errors } = await reader.collect();
      if (errors.length > 0) throw errors[0];
      return resourceMetrics;
    },
    async disable() {
      trace.disable();
      metrics.disable();
      context.disable();
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
    },
  };
}

/** One metric's data points by name, from a collection. */
export function metricPoints(
  collected: ResourceMetrics,
  name: string,
): { attributes: Record<string, unknown>; value: unknown }[] {
  for (const scope of collected.scopeMetrics) {
    for (const metric of scope.metrics) {
      if (metric.descriptor.name === name) {
        return metric.dataPoints.map((p) => ({ attributes: { ...p.attributes }, value: p.value }));
      }
    }
  }
  return [];
}

/** The names of every metric collected. */
export function metricNames(collected: ResourceMetrics): string[] {
  return collected.scopeMetrics.flatMap((s) => s.metrics.map((m) => m.descriptor.name)).sort();
}
