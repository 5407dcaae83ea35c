/**
 * The examples' opt-in workers: off unless asked; when on, the SSRF guard still refuses
 * loopback unless `allowHosts` names it (it is never silently off); and the environment
 * variables a person sets when running an example as a script.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { start } from '../../examples/node-http/server.js';
import { optionsFromEnv, type RunningHandlers } from '../../examples/shared/handlers.js';
import type { WorkerEvents } from '../../src/index.js';

let example: RunningHandlers | undefined;
let receiver: Server | undefined;
afterEach(async () => {
  await example?.close();
  example = undefined;
  await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
  receiver = undefined;
});

/** A receiver on 127.0.0.1 answering 204, counting requests. */
async function listen(): Promise<{ url: string; hits: () => number }> {
  let hits = 0;
  receiver = createServer((req, res) => {
    hits++;
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  const server = receiver;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, hits: () => hits };
}

/** Creates a webhook to `url` in bigevents and emits one matching notification. */
async function emitTo(running: RunningHandlers, url: string): Promise<string> {
  const registry = running.registries.pretix;
  await registry.create('bigevents', { url, eventTypes: ['pretix.event.order.paid'] });
  const { deliveryIds } = await registry.emit({
    scope: 'bigevents',
    type: 'pretix.event.order.paid',
    data: {},
  });
  const [id] = deliveryIds;
  if (id === undefined) throw new Error('no delivery');
  return id;
}

describe('the examples’ workers', () => {
  it('are off by default', async () => {
    example = await start({ port: 0 });
    expect(example.workers).toEqual([]);
  });

  it('keep the SSRF guard on: a receiver on 127.0.0.1 is refused unless allowed', async () => {
    const { url, hits } = await listen();
    example = await start({ port: 0, worker: true });
    const [worker] = example.workers;
    if (!worker) throw new Error('no worker');
    const retrying = new Promise<WorkerEvents['delivery.retrying']>((resolve) =>
      worker.on('delivery.retrying', resolve),
    );
    const id = await emitTo(example, url);
    const { delivery, result } = await retrying;
    expect(delivery.id).toBe(id);
    expect(result.error?.code).toBe('ssrf_blocked');
    expect(hits()).toBe(0);
  });

  it('deliver to 127.0.0.1 when allowHosts names it', async () => {
    const { url, hits } = await listen();
    example = await start({ port: 0, worker: true, allowHosts: ['127.0.0.1'] });
    const [worker] = example.workers;
    if (!worker) throw new Error('no worker');
    const succeeded = new Promise<WorkerEvents['delivery.succeeded']>((resolve) =>
      worker.on('delivery.succeeded', resolve),
    );
    const id = await emitTo(example, url);
    expect((await succeeded).delivery.id).toBe(id);
    expect(hits()).toBe(1);
  });

  it('read PORT, WORKER and ALLOW_HOSTS when run as a script', () => {
    expect(optionsFromEnv({})).toEqual({ port: 3000, worker: false, allowHosts: [] });
    expect(optionsFromEnv({ PORT: '0', WORKER: '1', ALLOW_HOSTS: '127.0.0.1, 10.0.0.0/8,' })).toEqual({
      port: 0,
      worker: true,
      allowHosts: ['127.0.0.1', '10.0.0.0/8'],
    });
  });
});
