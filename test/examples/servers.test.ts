/**
 * The HTTP examples, started as their doc comments say (`npx tsx examples/<x>/server.ts`, here
 * with `PORT=0` and the network limited to loopback) and exercised over real HTTP; and the
 * PostgreSQL example run as a script against the real server.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { describeServer } from '../postgres/helpers.js';
import { exerciseExample } from './exercise.js';
import { runToEnd, type Started, startServer, tsxArgs } from './run.js';

const SERVERS = ['node-http', 'express', 'fastify', 'hono'] as const;

let running: Started | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

describe.each(SERVERS)('examples/%s/server.ts', (name) => {
  it('serves both webhook APIs over real HTTP', async () => {
    running = await startServer(tsxArgs(`examples/${name}/server.ts`));
    await exerciseExample({ pretix: `${running.url}/api/v1`, taler: `${running.url}/taler` });
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
