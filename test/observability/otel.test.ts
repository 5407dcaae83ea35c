import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryStore, retryPolicies, type Store, WebhookRegistry } from '../../src/index.js';
import {
  fromTraceparent,
  redactedUrl,
  TELEMETRY_METRICS,
  toTraceparent,
} from '../../src/observability/otel.js';
import { type CaptureResponse, captureTransport, createFakeClock } from '../../src/testing/index.js';
import { metricNames, metricPoints, registerTestSdk, type TestSdk } from './otel-sdk.js';

let sdk: TestSdk | undefined;
afterEach(async () => {
  await sdk?.disable();
  sdk = undefined;
});

function setup(
  options: {
    respond?: () => CaptureResponse | Promise<CaptureResponse>;
    registry?: ConstructorParameters<typeof WebhookRegistry>[0];
  } = {},
) {
  const clock = createFakeClock();
  const registry = new WebhookRegistry({
    store: memoryStore(),
    clock,
    retryPolicy: retryPolicies.pretix,
    allowUrlCredentials: true,
    ...options.registry,
  });
  const transport = captureTransport({ respond: options.respond ?? (() => 204) });
  const worker = registry.worker({ transport, random: () => 0.5 });
  return { clock, registry, transport, worker };
}

describe('OpenTelemetry traces', () => {
  it('makes emit a PRODUCER span under the caller’s span, and each attempt a CLIENT span linked to it', async () => {
    sdk = registerTestSdk();
    const { registry, worker } = setup();
    const hook = await registry.create('acme', {
      url: 'https://user:pw@hooks.example:8443/in?token=s3cret&x=1',
      eventTypes: ['order.paid'],
    });
    const tracer = trace.getTracer('host');
    const request = tracer.startSpan('POST /orders');
    const emitted = await context.with(trace.setSpan(context.active(), request), () =>
      registry.emit({ scope: 'acme', type: 'order.paid', data: { code: 'ABC' } }),
    );
    request.end();
    await worker.drain();
    await worker.stop();

    const spans = sdk.spans();
    const emit = spans.find((s) => s.name === 'hookline emit');
    const attempt = spans.find((s) => s.kind === SpanKind.CLIENT);
    expect(emit).toBeDefined();
    expect(attempt).toBeDefined();
    expect(emit!.kind).toBe(SpanKind.PRODUCER);
    expect(emit!.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(emit!.spanContext().traceId).toBe(request.spanContext().traceId);
    expect(emit!.attributes).toEqual({
      'hookline.scope': 'acme',
      'hookline.notification.type': 'order.paid',
      'hookline.notification.id': emitted.notificationId,
      'hookline.deliveries.created': 1,
      'hookline.notification.duplicate': false,
    });
    expect(attempt!.name).toBe('POST');
    expect(attempt!.parentSpanContext).toBeUndefined();
    expect(attempt!.links.map((l) => [l.context.traceId, l.context.spanId])).toEqual([
      [emit!.spanContext().traceId, emit!.spanContext().spanId],
    ]);
    expect(attempt!.attributes).toEqual({
      'http.request.method': 'POST',
      'url.full': 'https://hooks.example:8443/in?token=REDACTED&x=REDACTED',
      'server.address': 'hooks.example',
      'server.port': 8443,
      'http.response.status_code': 204,
      'hookline.delivery.id': emitted.deliveryIds[0],
      'hookline.webhook.id': hook.id,
      'hookline.scope': 'acme',
      'hookline.attempt': 1,
      'hookline.outcome': 'success',
    });
    expect(attempt!.status.code).toBe(SpanStatusCode.UNSET);
    expect(JSON.stringify(spans.map((s) => s.attributes))).not.toContain('s3cret');
  });

  it('marks a failed attempt as an error with error.type and the next attempt time', async () => {
    sdk = registerTestSdk();
    const { clock, registry, worker } = setup({ respond: () => 503 });
    await registry.create('acme', { url: 'https://a.example/hook', eventTypes: ['x'] });
    await registry.emit({ scope: 'acme', type: 'x', data: {} });
    await worker.drain();
    await worker.stop();
    const attempt = sdk.spans().find((s) => s.kind === SpanKind.CLIENT)!;
    expect(attempt.status).toEqual({ code: SpanStatusCode.ERROR, message: 'HTTP 503' });
    expect(attempt.attributes).toMatchObject({
      'http.response.status_code': 503,
      'error.type': '503',
      'hookline.outcome': 'retryable',
      'hookline.next_attempt_at': new Date(clock.now() + 5_000).toISOString(),
    });
  });

  it('gives a transport error its code as error.type and no status code', async () => {
    sdk = registerTestSdk();
    const { registry, worker } = setup({
      respond: () => {
        throw new Error('boom');
      },
    });
    await registry.create('acme', { url: 'https://a.example/hook', eventTypes: ['x'] });
    await registry.emit({ scope: 'acme', type: 'x', data: {} });
    await worker.drain();
    await worker.stop();
    const attempt = sdk.spans().find((s) => s.kind === SpanKind.CLIENT)!;
    expect(attempt.status.code).toBe(SpanStatusCode.ERROR);
    expect(attempt.attributes['http.response.status_code']).toBeUndefined();
    expect(typeof attempt.attributes['error.type']).toBe('string');
    expect(attempt.attributes['error.type']).not.toBe('0');
  });

  it('ends the emit span with an error status when the store fails', async () => {
    sdk = registerTestSdk();
    const inner = memoryStore();
    const store: Store = {
      ...inner,
      async enqueue() {
        throw new Error('database is down');
      },
    };
    const registry = new WebhookRegistry({ store });
    await registry.create('acme', { url: 'https://a.example/hook', eventTypes: ['x'] });
    await expect(registry.emit({ scope: 'acme', type: 'x', data: {} })).rejects.toThrow('database is down');
    const [emit] = sdk.spans();
    expect(emit?.name).toBe('hookline emit');
    expect(emit?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'database is down' });
    expect(emit?.attributes['error.type']).toBe('Error');
  });

  it('sends traceparent to receivers only when asked, for every webhook or per webhook', async () => {
    sdk = registerTestSdk();
    const off = setup();
    await off.registry.create('acme', { url: 'https://a.example/hook', eventTypes: ['x'] });
    await off.registry.emit({ scope: 'acme', type: 'x', data: {} });
    await off.worker.drain();
    await off.worker.stop();
    expect(off.transport.requests[0]?.headers.traceparent).toBeUndefined();

    const chosen = setup({
      registry: { telemetry: { propagateToReceivers: (webhook) => webhook.url.includes('partner') } },
    });
    await chosen.registry.create('acme', { url: 'https://partner.example/hook', eventTypes: ['x'] });
    await chosen.registry.create('acme', { url: 'https://third.example/hook', eventTypes: ['x'] });
    await chosen.registry.emit({ scope: 'acme', type: 'x', data: {} });
    await chosen.worker.drain();
    await chosen.worker.stop();
    const byUrl = new Map(chosen.transport.requests.map((r) => [r.url, r.headers.traceparent]));
    expect(byUrl.get('https://third.example/hook')).toBeUndefined();
    const sent = byUrl.get('https://partner.example/hook');
    const attempt = sdk
      .spans()
      .find(
        (s) => s.kind === SpanKind.CLIENT && s.attributes['url.full'] === 'https://partner.example/hook',
      )!;
    expect(sent).toBe(toTraceparent(attempt.spanContext()));
  });

  it('records nothing and stores no trace context with telemetry: false', async () => {
    sdk = registerTestSdk();
    const { registry, worker } = setup({ registry: { telemetry: false } });
    await registry.create('acme', { url: 'https://a.example/hook', eventTypes: ['x'] });
    await registry.emit({ scope: 'acme', type: 'x', data: {} });
    const [claim] = await registry.store.claimDue({ limit: 1, leaseMs: 60_000, now: new Date(8.64e15) });
    expect(claim?.traceContext).toBeNull();
    await worker.stop();
    expect(sdk.spans()).toEqual([]);
    expect(metricNames(await sdk.collect())).toEqual([]);
  });

  it('records nothing, and stores no trace context, in a registry made without an SDK, even after one is registered', async () => {
    const { clock, registry, transport, worker } = setup();
    await registry.create('acme', { url: 'https://a.example/hook', eventTypes: ['x'] });
    await registry.emit({ scope: 'acme', type: 'x', data: {} });
    const now = new Date(clock.now());
    const [claim] = await registry.store.claimDue({ limit: 1, leaseMs: 60_000, now });
    expect(claim?.traceContext).toBeNull();
    await registry.store.releaseClaim({ deliveryId: claim!.id, leaseToken: claim!.leaseToken, now });
    await worker.drain();
    await worker.stop();
    expect(transport.requests).toHaveLength(1);
    expect(transport.requests[0]?.headers.traceparent).toBeUndefined();
    // This registry was made without an SDK: it records nothing, also once one is registered.
    sdk = registerTestSdk();
    await registry.emit({ scope: 'acme', type: 'x', data: {} });
    const later = registry.worker({ transport });
    await later.drain();
    await later.stop();
    expect(transport.requests).toHaveLength(2);
    expect(sdk.spans()).toEqual([]);
    expect(metricNames(await sdk.collect())).toEqual([]);
    // A registry made now records.
    const { registry: fresh } = setup();
    await fresh.create('acme', { url: 'https://a.example/hook', eventTypes: ['x'] });
    await fresh.emit({ scope: 'acme', type: 'x', data: {} });
    expect(sdk.spans().map((s) => s.name)).toEqual(['hookline emit']);
  });
});

describe('the telemetry option', () => {
  it.each([
    ['true', true, /telemetry/],
    ['a string', 'on', /telemetry/],
    ['a number for propagateToReceivers', { propagateToReceivers: 1 }, /telemetry\.propagateToReceivers/],
    ['a string for perScope', { perScope: 'yes' }, /telemetry\.perScope/],
  ])('refuses %s with invalid_option naming it', (_name, telemetry, message) => {
    const construct = () => new WebhookRegistry({ telemetry: telemetry as unknown as false });
    expect(construct).toThrow(message);
    try {
      construct();
    } catch (error) {
      expect((error as { code?: string }).code).toBe('invalid_option');
    }
  });

  it('accepts false, {} and both options', () => {
    expect(() => new WebhookRegistry({ telemetry: false })).not.toThrow();
    expect(() => new WebhookRegistry({ telemetry: {} })).not.toThrow();
    expect(
      () => new WebhookRegistry({ telemetry: { propagateToReceivers: () => true, perScope: true } }),
    ).not.toThrow();
  });
});

describe('OpenTelemetry metrics', () => {
  it('counts emits, deliveries, attempts by outcome and status class, durations, lag and disables', async () => {
    sdk = registerTestSdk();
    let answer = 503;
    const { clock, registry, worker } = setup({ respond: () => answer });
    await registry.create('acme', { url: 'https://a.example/hook', eventTypes: ['x'] });
    await registry.create('acme', { url: 'https://b.example/hook', eventTypes: ['x'] });
    await registry.emit({ scope: 'acme', type: 'x', data: {} });
    clock.advance(2_000); // due 2 s ago when sent
    await worker.drain();
    answer = 410;
    clock.advance(5_000);
    await worker.drain();
    await worker.stop();
    const collected = await sdk.collect();
    expect(metricNames(collected)).toEqual(
      expect.arrayContaining([
        'hookline.attempt.duration',
        'hookline.attempts',
        'hookline.deliveries.created',
        'hookline.delivery.duration',
        'hookline.delivery.lag',
        'hookline.notifications.emitted',
        'hookline.webhooks.disabled',
      ]),
    );
    expect(metricPoints(collected, 'hookline.notifications.emitted')).toEqual([{ attributes: {}, value: 1 }]);
    expect(metricPoints(collected, 'hookline.deliveries.created')).toEqual([{ attributes: {}, value: 2 }]);
    expect(metricPoints(collected, 'hookline.attempts')).toEqual(
      expect.arrayContaining([
        { attributes: { 'hookline.outcome': 'retryable', 'http.response.status_class': '5xx' }, value: 2 },
        { attributes: { 'hookline.outcome': 'gone', 'http.response.status_class': '4xx' }, value: 2 },
      ]),
    );
    expect(metricPoints(collected, 'hookline.webhooks.disabled')).toEqual([
      { attributes: { 'hookline.disabled_reason': 'gone' }, value: 2 },
    ]);
    const lag = metricPoints(collected, 'hookline.delivery.lag')[0]?.value as {
      count: number;
      min: number;
      max: number;
    };
    expect(lag.count).toBe(4);
    expect(lag.max).toBe(2);
    const durations = metricPoints(collected, 'hookline.delivery.duration');
    expect(durations).toEqual([
      {
        attributes: { 'hookline.delivery.state': 'failed' },
        value: expect.objectContaining({ count: 2, max: 7 }),
      },
    ]);
  });

  it('observes the outbox: pending, due, in flight and the oldest due age, per scope when asked', async () => {
    sdk = registerTestSdk();
    const { clock, registry } = setup({ registry: { telemetry: { perScope: true } } });
    await registry.create('acme', { url: 'https://a.example/hook', eventTypes: ['x'] });
    await registry.create('zeta', { url: 'https://z.example/hook', eventTypes: ['x'] });
    await registry.emit({ scope: 'acme', type: 'x', data: {} });
    await registry.emit({ scope: 'acme', type: 'x', data: {} });
    await registry.emit({ scope: 'zeta', type: 'x', data: {} });
    clock.advance(30_000);
    const collected = await sdk.collect();
    expect(metricPoints(collected, 'hookline.outbox.pending')).toEqual([
      { attributes: { 'hookline.scope': 'acme' }, value: 2 },
      { attributes: { 'hookline.scope': 'zeta' }, value: 1 },
    ]);
    expect(metricPoints(collected, 'hookline.outbox.due')).toEqual([
      { attributes: { 'hookline.scope': 'acme' }, value: 2 },
      { attributes: { 'hookline.scope': 'zeta' }, value: 1 },
    ]);
    expect(metricPoints(collected, 'hookline.outbox.in_flight')).toEqual([
      { attributes: { 'hookline.scope': 'acme' }, value: 0 },
      { attributes: { 'hookline.scope': 'zeta' }, value: 0 },
    ]);
    expect(metricPoints(collected, 'hookline.outbox.oldest_due_age')).toEqual([
      { attributes: { 'hookline.scope': 'acme' }, value: 30 },
      { attributes: { 'hookline.scope': 'zeta' }, value: 30 },
    ]);
  });

  it('documents every metric it records in TELEMETRY_METRICS', async () => {
    sdk = registerTestSdk();
    const { registry, worker } = setup({ respond: () => 410 });
    await registry.create('acme', { url: 'https://a.example/hook', eventTypes: ['x'] });
    await registry.emit({ scope: 'acme', type: 'x', data: {} });
    await worker.drain();
    await worker.stop();
    const names = metricNames(await sdk.collect());
    for (const name of names) expect(Object.keys(TELEMETRY_METRICS)).toContain(name);
  });
});

describe('trace context helpers', () => {
  it('round-trips a traceparent and refuses malformed or all-zero ones', () => {
    const value = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const parsed = fromTraceparent(value);
    expect(parsed).toEqual({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: 1,
      isRemote: true,
    });
    expect(toTraceparent(parsed!)).toBe(value);
    expect(fromTraceparent(null)).toBeUndefined();
    expect(fromTraceparent('01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01')).toBeUndefined();
    expect(fromTraceparent('00-00000000000000000000000000000000-b7ad6b7169203331-01')).toBeUndefined();
  });

  it('redacts credentials and query values from url.full', () => {
    expect(redactedUrl('https://u:p@a.example/x?sig=1&a=2#f')).toBe(
      'https://a.example/x?sig=REDACTED&a=REDACTED#f',
    );
    expect(redactedUrl('https://a.example/x')).toBe('https://a.example/x');
  });
});
