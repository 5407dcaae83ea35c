/**
 * The HTTP examples, started as their doc comments say (`npx tsx examples/<x>/server.ts`, here
 * with `PORT=0` and the network limited to loopback) and exercised over real HTTP; and the
 * PostgreSQL example run as a script against the real server.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { describeServer } from '../postgres/helpers.js';
import { basicAuth, exerciseExample, exerciseUi } from './exercise.js';
import { runToEnd, type Started, startServer, tsxArgs } from './run.js';

const SERVERS = ['node-http', 'express', 'fastify', 'hono'] as const;

let running: Started | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

describe.each(SERVERS)('examples/%s/server.ts', (name) => {
  it('serves both webhook APIs and both delivery-log UIs over real HTTP', async () => {
    running = await startServer(tsxArgs(`examples/${name}/server.ts`));
    await exerciseExample({ pretix: `${running.url}/api/v1`, taler: `${running.url}/taler` });
    await exerciseUi({ pretixUi: `${running.url}/ui`, talerUi: `${running.url}/taler/ui` });
    // It says where the UIs are, and that no worker runs unless asked.
    expect(running.output()).toContain(`${running.url}/ui/`);
    expect(running.output()).toContain(`${running.url}/taler/ui/`);
    expect(running.output()).toContain('workers: off');
    expect(running.output()).not.toContain('[loopback-only] refused');
  });
});

describeServer('examples/postgres/transactional-emit.ts', () => {
  it('runs against DATABASE_URL: the rolled-back order leaves nothing, the committed one is delivered', async () => {
    const { code, output } = await runToEnd(tsxArgs('examples/postgres/transactional-emit.ts'), {
      env: { DATABASE_URL: process.env.HOOKLINE_TEST_DATABASE_URL ?? '' },
    });
    expect(code, output).toBe(0);
    const lines = output.trim().split('\n');
    expect(lines).toEqual([
      'order 1: rolled back (payment provider said no)',
      'order 1: 0 deliveries stored',
      'order 2: committed',
      expect.stringMatching(/^receiver got: \{.*"data":\{"order":2\}.*\}$/),
    ]);
  });
});

describe('examples/observability/server.ts', () => {
  it('prints an emit span under the request span, an attempt span linked to it, and serves /metrics', async () => {
    running = await startServer(tsxArgs('examples/observability/server.ts'));
    const started = running;
    const order = await fetch(`${started.url}/orders`, { method: 'POST' });
    expect(order.status).toBe(201);
    // The worker delivers to the example's own receiver; its span is printed when it ends.
    await expect.poll(() => started.output(), { timeout: 15_000 }).toMatch(/span "POST" .* link=/);
    const lines = started.output().split('\n');
    const span = (name: string) => {
      const line = lines.find((l) => l.startsWith(`span "${name}"`));
      const match = line
        ? /trace=(\w+) span=(\w+)(?: parent=(\w+))?(?: link=(\w+)\/(\w+))?/.exec(line)
        : null;
      return match
        ? { trace: match[1], span: match[2], parent: match[3], linkTrace: match[4], linkSpan: match[5] }
        : undefined;
    };
    const request = span('POST /orders');
    const emit = span('hookline emit');
    const attempt = span('POST');
    expect(emit?.trace).toBe(request?.trace);
    expect(emit?.parent).toBe(request?.span);
    expect([attempt?.linkTrace, attempt?.linkSpan]).toEqual([emit?.trace, emit?.span]);

    // The delivery log shows the webhook and its delivered order (the merchant's token owns shop).
    const headers = { authorization: basicAuth('demo-token-merchant') };
    expect((await fetch(`${started.url}/ui/shop/webhooks`)).status).toBe(401);
    const webhooks = await fetch(`${started.url}/ui/shop/webhooks`, { headers });
    expect(webhooks.status).toBe(200);
    expect(await webhooks.text()).toContain('<tr data-webhook-id="1">');
    const log = await (await fetch(`${started.url}/ui/shop/deliveries?state=succeeded`, { headers })).text();
    expect(log.match(/<tr data-delivery-id="/g)?.length).toBe(1);
    expect(started.output()).toContain(`${started.url}/ui/shop/deliveries`);

    const metricsText = await (await fetch(`${started.url}/metrics`)).text();
    expect(metricsText).toMatch(/^hookline_notifications_emitted_total(\{[^}]*\})? 1$/m);
    expect(metricsText).toMatch(/^hookline_attempts_total\{[^}]*hookline_outcome="success"[^}]*\} 1$/m);
    expect(metricsText).toMatch(/^hookline_outbox_pending(\{[^}]*\})? 0$/m);
    expect(started.output()).not.toContain('[loopback-only] refused');
  });
});
