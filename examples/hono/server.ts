/**
 * Both webhook APIs in a Hono 4 app on @hono/node-server.  Run: `npx tsx examples/hono/server.ts`
 *
 * Hono speaks Fetch, so the handlers mount directly: `c.req.raw` is the `Request`.
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { createHandlers, isMain, type RunningExample, running } from '../shared/handlers.js';

export function createApp(): Hono {
  const { pretix, taler } = createHandlers();
  const app = new Hono();
  app.all('/api/v1/*', (c) => pretix(c.req.raw));
  app.all('/taler/*', (c) => taler(c.req.raw));
  return app;
}

export async function start({ port = 3000 }: { port?: number } = {}): Promise<RunningExample> {
  const app = createApp();
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, () => resolve(s));
  });
  return running(server);
}

if (isMain(import.meta.url)) {
  const { url } = await start({ port: Number(process.env.PORT ?? 3000) });
  console.log(`listening on ${url}`);
}
