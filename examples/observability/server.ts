/**
 * hookline with OpenTelemetry: traces printed to the console (an emit's trace, and each attempt
 * linked to it) and metrics for Prometheus at `/metrics`. Run: `npx tsx examples/observability/server.ts`
 *
 *   curl -X POST http://127.0.0.1:3000/orders    # emits order.paid; the worker delivers it
 *   curl http://127.0.0.1:3000/metrics           # hookline_attempts_total, hookline_outbox_due, …
 *   open http://127.0.0.1:3000/ui/shop/deliveries  # the delivery log (any user, password demo-token-merchant)
 *
 * A real service registers the OpenTelemetry Node SDK with its exporters (OTLP to a collector,
 * say) the same way, before creating the registry; hookline then needs no setup of its own.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, metrics, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { toNodeHandler } from '../../src/http/index.js';
import { WebhookRegistry } from '../../src/index.js';
import { exampleUi, isMain, PATHS, type RunningExample, running } from '../shared/handlers.js';

/** A console exporter: one line per finished span, with its trace, parent and links. */
class LineSpanExporter implements SpanExporter {
  export(spans: ReadableSpan[], done: Parameters<SpanExporter['export']>[1]): void {
    for (const span of spans) {
      const { traceId, spanId } = span.spanContext();
      const parent = span.parentSpanContext ? ` parent=${span.parentSpanContext.spanId}` : '';
      const links = span.links.map((l) => ` link=${l.context.traceId}/${l.context.spanId}`).join('');
      const status = span.status.code === SpanStatusCode.ERROR ? ' error' : '';
      console.log(`span "${span.name}" trace=${traceId} span=${spanId}${parent}${links}${status}`);
    }
    done({ code: 0 }); // ExportResultCode.SUCCESS
  }
  async shutdown(): Promise<void> {}
}

/** Registers the SDK: what a host does once at startup, before creating its registry. */
function registerTelemetry(): { prometheus: PrometheusExporter; shutdown(): Promise<void> } {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const tracerProvider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(new LineSpanExporter())],
  });
  trace.setGlobalTracerProvider(tracerProvider);
  // Served by this example's own server at /metrics rather than on a port of its own.
  const prometheus = new PrometheusExporter({ preventServerStart: true });
  const meterProvider = new MeterProvider({ readers: [prometheus] });
  metrics.setGlobalMeterProvider(meterProvider);
  return {
    prometheus,
    shutdown: async () => {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
    },
  };
}

export async function start({ port = 3000 }: { port?: number } = {}): Promise<RunningExample> {
  const telemetry = registerTelemetry();

  // A receiver for the webhooks, on loopback.
  const receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const receiverPort = (receiver.address() as AddressInfo).port;

  const registry = new WebhookRegistry();
  await registry.create('shop', { url: `http://127.0.0.1:${receiverPort}/hooks`, eventTypes: ['order.*'] });
  // The receiver is on loopback, which the SSRF guard refuses unless allowed.
  const worker = registry.worker({ ssrf: { allow: ['127.0.0.1'] } });
  worker.start();

  // The delivery log of this registry, in the browser (Basic login with a demo token).
  const ui = toNodeHandler(exampleUi(registry, PATHS.pretixUi, 'Webhooks (shop)'));

  const tracer = trace.getTracer('example-shop');
  let orders = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'POST' && req.url === '/orders') {
      // What the host's HTTP instrumentation would do: a span for the request, active while
      // the order is handled. hookline's emit span becomes its child.
      const span = tracer.startSpan('POST /orders');
      void context
        .with(trace.setSpan(context.active(), span), async () => {
          const order = ++orders;
          return registry.emit({ scope: 'shop', type: 'order.paid', data: { order } });
        })
        .then(
          ({ notificationId }) => {
            span.end();
            res
              .writeHead(201, { 'content-type': 'application/json' })
              .end(JSON.stringify({ notificationId }));
          },
          (error: unknown) => {
            span.end();
            res.writeHead(500).end(String(error));
          },
        );
      return;
    }
    if (/^\/ui(?:[/?]|$)/.test(req.url ?? '')) {
      void ui(req, res);
      return;
    }
    if (req.method === 'GET' && req.url === '/metrics') {
      telemetry.prometheus.getMetricsRequestHandler(req, res);
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const app = running(server);
  return {
    url: app.url,
    close: async () => {
      await app.close();
      await worker.stop();
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
      await telemetry.shutdown();
    },
  };
}

if (isMain(import.meta.url)) {
  const example = await start({ port: Number(process.env.PORT ?? 3000) });
  console.log(`orders:  POST ${example.url}/orders`);
  console.log(`metrics: GET  ${example.url}/metrics`);
  console.log(
    `UI:      ${example.url}${PATHS.pretixUi}/shop/deliveries  (log in: any user, password demo-token-merchant)`,
  );
  process.once('SIGTERM', () => {
    void example.close().then(() => process.exit(0));
  });
}
