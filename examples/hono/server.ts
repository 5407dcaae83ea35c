/**
 * Both webhook APIs and both delivery-log UIs in a Hono 4 app on @hono/node-server.
 * Run: `npx tsx examples/hono/server.ts` (`WORKER=1` to deliver what is emitted).
 *
 * Hono speaks Fetch, so the handlers mount directly: `c.req.raw` is the `Request`. The Taler
 * UI's routes come before the Taler API's, whose prefix they share.
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import {
  createHandlers,
  describeRunning,
  type ExampleHandlers,
  type ExampleOptions,
  isMain,
  optionsFromEnv,
  PATHS,
  type RunningHandlers,
  running,
  runningHandlers,
  startWorkers,
} from '../shared/handlers.js';

export function createApp(handlers: ExampleHandlers = createHandlers()): Hono {
  const app = new Hono();
  for (const [prefix, handler] of [
    [PATHS.pretixUi, handlers.pretixUi],
    [PATHS.talerUi, handlers.talerUi],
    [PATHS.pretix, handlers.pretix],
    [PATHS.taler, handlers.taler],
  ] as const) {
    app.all(prefix, (c) => handler(c.req.raw));
    app.all(`${prefix}/*`, (c) => handler(c.req.raw));
  }
  return app;
}

export async function start(options: ExampleOptions = {}): Promise<RunningHandlers> {
  const handlers = createHandlers(options);
  const app = createApp(handlers);
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: options.port ?? 3000, hostname: '127.0.0.1' }, () =>
      resolve(s),
    );
  });
  return runningHandlers(running(server), handlers, startWorkers(handlers.registries, options));
}

if (isMain(import.meta.url)) {
  const options = optionsFromEnv();
  const { url } = await start(options);
  for (const line of describeRunning(url, options)) console.log(line);
}
