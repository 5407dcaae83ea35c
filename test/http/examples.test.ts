import { afterEach, describe, expect, it } from 'vitest';
import type { RunningExample } from '../../examples/shared/handlers.js';

const EXAMPLES: Record<string, () => Promise<{ start: (o: { port: number }) => Promise<RunningExample> }>> = {
  'node-http': () => import('../../examples/node-http/server.js'),
  express: () => import('../../examples/express/server.js'),
  fastify: () => import('../../examples/fastify/server.js'),
  hono: () => import('../../examples/hono/server.js'),
};

const PRETIX = { authorization: 'Token demo-token-bigevents', 'content-type': 'application/json' };
const TALER = { authorization: 'Bearer demo-token-merchant', 'content-type': 'application/json' };

let running: RunningExample | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

describe.each(Object.keys(EXAMPLES))('example %s over real HTTP', (name) => {
  it('creates, lists, reads, and refuses without credentials (both dialects)', async () => {
    const load = EXAMPLES[name];
    if (load === undefined) throw new Error(name);
    running = await (await load()).start({ port: 0 });
    const base = `${running.url}/api/v1/organizers/bigevents/webhooks/`;

    const created = await fetch(base, {
      method: 'POST',
      headers: PRETIX,
      body: JSON.stringify({
        target_url: 'https://receiver.example/h',
        action_types: ['pretix.event.order.paid'],
      }),
    });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ id: 1, action_types: ['pretix.event.order.paid'] });
    const list = await fetch(base, { headers: PRETIX });
    expect(await list.json()).toMatchObject({ count: 1, next: null, previous: null });
    expect((await fetch(`${base}1/`, { headers: PRETIX })).status).toBe(200);
    const anonymous = await fetch(base);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toEqual({ detail: 'Authentication credentials were not provided.' });
    const bad = await fetch(base, {
      method: 'POST',
      headers: PRETIX,
      body: '{"target_url": "x", "action_types": []}',
    });
    expect(await bad.json()).toEqual({ target_url: ['Enter a valid URL.'] });

    const taler = `${running.url}/taler/private/webhooks`;
    const hook = {
      webhook_id: 'w1',
      event_type: 'pay',
      url: 'https://receiver.example/t',
      http_method: 'POST',
    };
    expect((await fetch(taler, { method: 'POST', headers: TALER, body: JSON.stringify(hook) })).status).toBe(
      204,
    );
    expect(await (await fetch(taler, { headers: TALER })).json()).toEqual({
      webhooks: [{ webhook_id: 'w1', event_type: 'pay' }],
    });
    expect(await (await fetch(`${taler}/w1`, { headers: TALER })).json()).toEqual({
      event_type: 'pay',
      url: 'https://receiver.example/t',
      http_method: 'POST',
    });
    const refused = await fetch(taler);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ code: 2015 });

    const tooBig = await fetch(base, {
      method: 'POST',
      headers: PRETIX,
      body: `"${'x'.repeat(2 * 1024 * 1024)}"`,
    });
    expect(tooBig.status).toBe(413);
  });
});
