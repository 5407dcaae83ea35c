import { afterEach, describe, expect, it } from 'vitest';
import { type HealthServer, startHealthServer } from '../../src/cli/health.js';
import { MetricsCollector } from '../../src/cli/metrics.js';
import { addSecret } from '../../src/cli/output.js';

describe('the worker command health server', () => {
  let server: HealthServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const start = async (source: {
    ping: () => Promise<void>;
    running: () => boolean;
    gauges?: () => Promise<never>;
  }) => {
    server = await startHealthServer(
      {
        ping: source.ping,
        running: source.running,
        gauges: source.gauges ?? (async () => ({ pending: 3, due: 2, inFlight: 1, oldestDueAgeMs: 1500 })),
        metrics: new MetricsCollector(),
      },
      { host: '127.0.0.1', port: 0 },
    );
    return `http://127.0.0.1:${server.port}`;
  };

  it('/readyz is 503 with a reason when the store does not answer (password redacted) or the worker is not running', async () => {
    addSecret('pa55word-xyz');
    let running = true;
    let fail = true;
    const base = await start({
      ping: async () => {
        if (fail) throw new Error('connect ECONNREFUSED for postgres://app:pa55word-xyz@db');
      },
      running: () => running,
    });
    const down = await fetch(`${base}/readyz`);
    expect(down.status).toBe(503);
    const body = (await down.json()) as { status: string; reason: string };
    expect(body.status).toBe('not_ready');
    expect(body.reason).toContain('the store is unreachable: connect ECONNREFUSED');
    expect(body.reason).not.toContain('pa55word-xyz');
    fail = false;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    running = false;
    const stopped = await fetch(`${base}/readyz`);
    expect(stopped.status).toBe(503);
    expect(await stopped.json()).toEqual({ status: 'not_ready', reason: 'the worker is not running' });
    // /healthz is about the process only.
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/healthz`, { method: 'POST' })).status).toBe(405);
  });

  it('/metrics: the gauges from stats(), left out (not an error) when the store does not answer', async () => {
    const base = await start({ ping: async () => undefined, running: () => true });
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toMatch(/^hookline_outbox_pending 3$/m);
    expect(text).toMatch(/^hookline_outbox_due 2$/m);
    expect(text).toMatch(/^hookline_outbox_in_flight 1$/m);
    expect(text).toMatch(/^hookline_outbox_oldest_due_age 1\.5$/m);
    await server?.close();
    const failing = await start({
      ping: async () => undefined,
      running: () => true,
      gauges: async () => {
        throw new Error('down');
      },
    });
    const res = await fetch(`${failing}/metrics`);
    expect(res.status).toBe(200);
    const partial = await res.text();
    expect(partial).toContain('# TYPE hookline_attempts_total counter');
    expect(partial).not.toContain('hookline_outbox_pending');
  });
});
