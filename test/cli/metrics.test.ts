import { metrics } from '@opentelemetry/api';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetricsCollector } from '../../src/cli/metrics.js';
import { defineRetryPolicy, memoryStore, WebhookRegistry } from '../../src/index.js';
import { captureTransport } from '../../src/testing/index.js';

/** Sample lines and TYPE lines of an exposition, sorted. */
function lines(text: string, prefix: string): string[] {
  return text
    .split('\n')
    .filter((l) => (prefix === '#' ? l.startsWith('# TYPE ') : l !== '' && !l.startsWith('#')))
    .sort();
}

describe('the worker command /metrics and the OpenTelemetry Prometheus exporter', () => {
  let provider: MeterProvider;
  let exporter: PrometheusExporter;
  const collector = new MetricsCollector();

  beforeAll(() => {
    exporter = new PrometheusExporter({ preventServerStart: true });
    provider = new MeterProvider({ readers: [exporter] });
    metrics.setGlobalMeterProvider(provider);
    collector.start();
  });
  afterAll(async () => {
    collector.stop();
    metrics.disable();
    await provider.shutdown();
  });

  it('give the same names, labels and values for the same deliveries', async () => {
    const store = memoryStore();
    const registry = new WebhookRegistry({
      store,
      retryPolicy: defineRetryPolicy({ name: 'once', delaysMs: [] }),
    });
    await registry.create('acme', { url: 'https://ok.example/h', eventTypes: ['order.*'] });
    await registry.create('acme', { url: 'https://fail.example/h', eventTypes: ['order.*'] });
    await registry.create('acme', { url: 'https://gone.example/h', eventTypes: ['order.paid'] });
    const transport = captureTransport({
      respond: (req) => (req.url.includes('fail') ? 500 : req.url.includes('gone') ? 410 : 200),
    });
    for (let i = 0; i < 3; i++)
      await registry.emit({ scope: 'acme', type: i === 0 ? 'order.paid' : 'order.sent', data: { i } });
    const worker = registry.worker({ transport, autoDisable: false });
    await worker.drain();
    await worker.stop();

    const { resourceMetrics } = await exporter.collect();
    const otel = new PrometheusSerializer(undefined, false, undefined, true, true).serialize(resourceMetrics);
    const stats = await registry.stats();
    const ours = collector.render(stats);

    // Every series the exporter gives, ours gives with the same value.
    expect(lines(otel, '').length).toBeGreaterThan(20);
    expect(lines(ours, '')).toEqual(expect.arrayContaining(lines(otel, '')));
    expect(lines(ours, '#')).toEqual(lines(otel, '#'));
    expect(ours).toContain(
      'hookline_attempts_total{hookline_outcome="retryable",http_response_status_class="5xx"} 3',
    );
    expect(ours).toContain('hookline_webhooks_disabled_total{hookline_disabled_reason="gone"} 1');
  });
});
