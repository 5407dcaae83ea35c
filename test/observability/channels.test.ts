import diagnosticsChannel from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type AttemptEndMessage,
  type AttemptStartMessage,
  CHANNELS,
  type DeliveryOutcomeMessage,
  type EmitMessage,
  memoryStore,
  retryPolicies,
  type WebhookDisabledMessage,
  WebhookRegistry,
} from '../../src/index.js';
import { type CaptureResponse, captureTransport, createFakeClock } from '../../src/testing/index.js';

type Received = { channel: string; message: unknown }[];

const unsubscribers: (() => void)[] = [];
afterEach(() => {
  for (const unsubscribe of unsubscribers.splice(0)) unsubscribe();
});

/** Subscribes to every hookline channel; returns what they publish, in order. */
function listen(): Received {
  const received: Received = [];
  for (const name of Object.values(CHANNELS)) {
    const listener = (message: unknown) => received.push({ channel: name, message });
    diagnosticsChannel.subscribe(name, listener);
    unsubscribers.push(() => diagnosticsChannel.unsubscribe(name, listener));
  }
  return received;
}

function setup(
  respond: () => CaptureResponse | Promise<CaptureResponse> = () => 200,
  options: { allowUrlCredentials?: boolean } = {},
) {
  const clock = createFakeClock();
  const registry = new WebhookRegistry({
    store: memoryStore(),
    clock,
    retryPolicy: retryPolicies.pretix,
    ...options,
  });
  const transport = captureTransport({ respond });
  const worker = registry.worker({ transport, random: () => 0.5 });
  return { clock, registry, transport, worker };
}

const of = <T>(received: Received, channel: string): T[] =>
  received.filter((r) => r.channel === channel).map((r) => r.message as T);

describe('diagnostics channels', () => {
  it('names five channels under hookline:', () => {
    expect(CHANNELS).toEqual({
      emit: 'hookline:emit',
      attemptStart: 'hookline:attempt:start',
      attemptEnd: 'hookline:attempt:end',
      deliveryOutcome: 'hookline:delivery:outcome',
      webhookDisabled: 'hookline:webhook:disabled',
    });
    expect(Object.isFrozen(CHANNELS)).toBe(true);
  });

  it('publishes emit, attempt start and end, and the outcome of a successful delivery', async () => {
    const received = listen();
    const { clock, registry, worker } = setup(() => 204, { allowUrlCredentials: true });
    const emittedAt = new Date(clock.now());
    const hook = await registry.create('acme', {
      url: 'https://user:pw@a.example/hook?x=1',
      eventTypes: ['order.paid'],
      secrets: [],
    });
    const { notificationId, deliveryIds } = await registry.emit({
      scope: 'acme',
      type: 'order.paid',
      event: 'democon',
      data: { code: 'ABC' },
    });
    await worker.drain();
    await worker.stop();

    expect(of<EmitMessage>(received, CHANNELS.emit)).toEqual([
      {
        scope: 'acme',
        type: 'order.paid',
        event: 'democon',
        notificationId,
        deliveryIds,
        created: true,
        startedAt: emittedAt,
        durationMs: 0, // the fake clock does not move by itself
      },
    ]);
    const start = {
      deliveryId: deliveryIds[0],
      notificationId,
      scope: 'acme',
      webhookId: hook.id,
      type: 'order.paid',
      attempt: 1,
      method: 'POST',
      url: 'https://a.example/hook?x=1',
      dueAt: emittedAt,
      startedAt: emittedAt,
    };
    expect(of<AttemptStartMessage>(received, CHANNELS.attemptStart)).toEqual([start]);
    expect(of<AttemptEndMessage>(received, CHANNELS.attemptEnd)).toEqual([
      {
        ...start,
        status: 204,
        durationMs: expect.any(Number),
        error: null,
        classification: 'success',
        state: 'succeeded',
        nextAttemptAt: null,
      },
    ]);
    expect(of<DeliveryOutcomeMessage>(received, CHANNELS.deliveryOutcome)).toEqual([
      {
        deliveryId: deliveryIds[0],
        notificationId,
        scope: 'acme',
        webhookId: hook.id,
        type: 'order.paid',
        state: 'succeeded',
        reason: null,
        attempts: 1,
        createdAt: emittedAt,
        at: emittedAt,
      },
    ]);
    // Order: emit, start, end, outcome.
    expect(received.map((r) => r.channel)).toEqual([
      CHANNELS.emit,
      CHANNELS.attemptStart,
      CHANNELS.attemptEnd,
      CHANNELS.deliveryOutcome,
    ]);
  });

  it('never carries secrets or bodies', async () => {
    const received = listen();
    const { registry, worker } = setup(() => ({ status: 200, body: 'response-body-marker' }));
    await registry.create('acme', {
      url: 'https://a.example/hook',
      eventTypes: ['order.paid'],
      secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
    });
    await registry.emit({ scope: 'acme', type: 'order.paid', data: { marker: 'request-body-marker' } });
    await worker.drain();
    await worker.stop();
    const text = JSON.stringify(received);
    expect(received.length).toBe(4);
    expect(text).not.toContain('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
    expect(text).not.toContain('request-body-marker');
    expect(text).not.toContain('response-body-marker');
  });

  it('gives the lag of an attempt (started after it was due) and the end-to-end time of its delivery', async () => {
    const received = listen();
    const { clock, registry, worker } = setup(() => 200);
    await registry.create('acme', { url: 'https://a.example/hook', eventTypes: ['x'] });
    const emittedAt = new Date(clock.now());
    await registry.emit({ scope: 'acme', type: 'x', data: {} });
    clock.advance(5_000); // the workers are 5 s behind
    await worker.drain();
    await worker.stop();
    const [start] = of<AttemptStartMessage>(received, CHANNELS.attemptStart);
    expect(start?.dueAt).toEqual(emittedAt);
    expect(start?.startedAt).toEqual(new Date(emittedAt.getTime() + 5_000));
    const [outcome] = of<DeliveryOutcomeMessage>(received, CHANNELS.deliveryOutcome);
    expect(outcome?.createdAt).toEqual(emittedAt);
    expect(outcome?.at).toEqual(new Date(emittedAt.getTime() + 5_000));
  });

  it('tells of a retry on attempt end only, then of the failure with its reason', async () => {
    const received = listen();
    const { clock, registry, worker } = setup(() => ({ status: 503, headers: { 'retry-after': '60' } }));
    await registry.create('acme', { url: 'https://a.example/hook', eventTypes: ['x'] });
    const { deliveryIds } = await registry.emit({ scope: 'acme', type: 'x', data: {} });
    await worker.drain();
    const ends = of<AttemptEndMessage>(received, CHANNELS.attemptEnd);
    expect(ends).toHaveLength(1);
    expect(ends[0]).toMatchObject({
      status: 503,
      classification: 'retryable',
      state: 'pending',
      nextAttemptAt: new Date(clock.now() + 60_000),
    });
    expect(of(received, CHANNELS.deliveryOutcome)).toEqual([]);
    // Run the whole pretix schedule (12 attempts).
    for (let i = 0; i < 20; i++) {
      const summary = await registry.store.outboxSummary({ now: new Date(clock.now()) });
      if (summary.pending === 0 || !summary.nextAttemptAt) break;
      clock.set(summary.nextAttemptAt);
      await worker.drain();
    }
    await worker.stop();
    const starts = of<AttemptStartMessage>(received, CHANNELS.attemptStart);
    expect(starts.map((m) => m.attempt)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    // Each attempt starts when it was due (the fake clock jumps there): no lag.
    for (const start of starts) expect(start.startedAt).toEqual(start.dueAt);
    expect(starts[1]?.dueAt).toEqual(ends[0]?.nextAttemptAt);
    expect(of<DeliveryOutcomeMessage>(received, CHANNELS.deliveryOutcome)).toEqual([
      expect.objectContaining({
        deliveryId: deliveryIds[0],
        state: 'failed',
        reason: 'exhausted',
        attempts: 12,
        createdAt: starts[0]?.startedAt,
        at: new Date(clock.now()),
      }),
    ]);
  });

  it('reports a transport error with its code and status 0', async () => {
    const received = listen();
    const { registry, worker } = setup(() => {
      throw new Error('boom');
    });
    await registry.create('acme', { url: 'https://a.example/hook', eventTypes: ['x'] });
    await registry.emit({ scope: 'acme', type: 'x', data: {} });
    await worker.drain();
    await worker.stop();
    const [end] = of<AttemptEndMessage>(received, CHANNELS.attemptEnd);
    expect(end).toMatchObject({ status: 0, classification: 'retryable', state: 'pending' });
    expect(end?.error).toEqual({ code: expect.any(String), message: expect.any(String) });
  });

  it('publishes webhook:disabled for a 410, with the delivery failed as gone', async () => {
    const received = listen();
    const { registry, worker } = setup(() => 410);
    const hook = await registry.create('acme', { url: 'https://a.example/hook', eventTypes: ['x'] });
    await registry.emit({ scope: 'acme', type: 'x', data: {} });
    await worker.drain();
    await worker.stop();
    expect(of<WebhookDisabledMessage>(received, CHANNELS.webhookDisabled)).toEqual([
      { scope: 'acme', webhookId: hook.id, reason: 'gone' },
    ]);
    expect(of<DeliveryOutcomeMessage>(received, CHANNELS.deliveryOutcome)).toEqual([
      expect.objectContaining({ state: 'failed', reason: 'gone' }),
    ]);
  });

  it('publishes webhook:disabled for a manual disable, once, and not for an update that keeps it enabled', async () => {
    const received = listen();
    const { registry } = setup();
    const hook = await registry.create('acme', { url: 'https://a.example/hook', eventTypes: ['x'] });
    await registry.update('acme', hook.id, { comment: 'still on' });
    await registry.disable('acme', hook.id);
    await registry.disable('acme', hook.id); // already disabled: nothing new
    await registry.update('acme', hook.id, { enabled: true });
    await registry.update('acme', hook.id, { enabled: false });
    expect(of<WebhookDisabledMessage>(received, CHANNELS.webhookDisabled)).toEqual([
      { scope: 'acme', webhookId: hook.id, reason: 'manual' },
      { scope: 'acme', webhookId: hook.id, reason: 'manual' },
    ]);
  });

  it('publishes the cancel of a claim whose webhook was disabled while it waited', async () => {
    const received = listen();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let sent: () => void = () => undefined;
    const firstSent = new Promise<void>((resolve) => {
      sent = resolve;
    });
    const registry = new WebhookRegistry({ store: memoryStore(), clock: createFakeClock() });
    const transport = captureTransport({
      respond: async () => {
        sent();
        await gate;
        return 200;
      },
    });
    const worker = registry.worker({ transport, perWebhookConcurrency: 1 });
    const hook = await registry.create('acme', { url: 'https://a.example/hook', eventTypes: ['x'] });
    const first = await registry.emit({ scope: 'acme', type: 'x', data: {} });
    const second = await registry.emit({ scope: 'acme', type: 'x', data: {} });
    worker.start();
    // The first is in flight (held at the gate); the second waits for the webhook's one slot.
    await firstSent;
    await registry.disable('acme', hook.id);
    release();
    await worker.drain();
    await worker.stop();
    const outcomes = of<DeliveryOutcomeMessage>(received, CHANNELS.deliveryOutcome);
    expect(outcomes).toContainEqual(
      expect.objectContaining({
        deliveryId: second.deliveryIds[0],
        state: 'canceled',
        reason: 'webhook disabled',
        attempts: 0,
      }),
    );
    expect(outcomes).toContainEqual(
      expect.objectContaining({ deliveryId: first.deliveryIds[0], state: 'succeeded' }),
    );
    expect(transport.requests).toHaveLength(1);
  });
});
