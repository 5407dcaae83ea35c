import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { WebhookRegistry } from '../../src/index.js';
import type { PostgresStore } from '../../src/stores/postgres/index.js';
import { DATABASE_URL, describeServer, destroyStore, freshStore, serverPool } from '../postgres/helpers.js';
import { registerTestSdk } from './otel-sdk.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/otel-worker.ts', import.meta.url));

/** Runs the worker fixture to completion; its spans. */
function runWorkerProcess(schema: string): Promise<
  {
    name: string;
    kind: number;
    traceId: string;
    links: { traceId: string; spanId: string }[];
    attributes: Record<string, unknown>;
  }[]
> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, DATABASE_URL!, schema], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`the worker process exited with ${code}`));
      else resolve(JSON.parse(out.trim().split('\n').at(-1) ?? '[]'));
    });
  });
}

describeServer('OpenTelemetry across processes on PostgreSQL', () => {
  const pool = serverPool();
  let store: PostgresStore;
  beforeAll(async () => {
    store = await freshStore(pool);
  });
  afterAll(async () => {
    await destroyStore(store);
    await pool.end();
  });

  it('links each attempt, made by a worker in another process, to the emit span of the request', {
    timeout: 60_000,
  }, async () => {
    const sdk = registerTestSdk();
    try {
      const registry = new WebhookRegistry({ store });
      await registry.create('acme', { url: 'https://a.example/hook', eventTypes: ['x'] });
      await registry.create('acme', { url: 'https://b.example/hook', eventTypes: ['x'] });
      const request = trace.getTracer('host').startSpan('POST /orders');
      const emitted = await context.with(trace.setSpan(context.active(), request), () =>
        registry.emit({ scope: 'acme', type: 'x', data: { n: 1 } }),
      );
      request.end();
      const emit = sdk.spans().find((s) => s.name === 'hookline emit');
      expect(emit?.parentSpanContext?.spanId).toBe(request.spanContext().spanId);

      const spans = await runWorkerProcess(store.schema);
      const attempts = spans.filter((s) => s.kind === SpanKind.CLIENT);
      expect(attempts.map((a) => a.attributes['hookline.delivery.id']).sort()).toEqual(
        [...emitted.deliveryIds].sort(),
      );
      for (const attempt of attempts) {
        expect(attempt.links).toEqual([
          { traceId: emit!.spanContext().traceId, spanId: emit!.spanContext().spanId },
        ]);
        expect(attempt.attributes['http.response.status_code']).toBe(204);
        // Its own trace: the link, not a parent, leads back to the request.
        expect(attempt.traceId).not.toBe(emit!.spanContext().traceId);
      }
    } finally {
      await sdk.disable();
    }
  });
});
