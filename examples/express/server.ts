/**
 * Both webhook APIs in an Express 5 app.  Run: `npx tsx examples/express/server.ts`
 *
 * Mount the adapter before any body parser (or let it reuse `req.body`, which it does when a
 * JSON parser ran first). `next()` is called for paths neither dialect serves.
 */
import type { Server } from 'node:http';
import express from 'express';
import { toNodeHandler } from '../../src/http/index.js';
import { createHandlers, isMain, type RunningExample, running } from '../shared/handlers.js';

export async function start({ port = 3000 }: { port?: number } = {}): Promise<RunningExample> {
  const { pretix, taler } = createHandlers();
  const app = express();
  app.get('/', (_req, res) => {
    res.json({ ok: true });
  });
  app.use('/api/v1', toNodeHandler(pretix));
  app.use('/taler', toNodeHandler(taler));
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(port, '127.0.0.1', () => resolve(s));
  });
  return running(server);
}

if (isMain(import.meta.url)) {
  const { url } = await start({ port: Number(process.env.PORT ?? 3000) });
  console.log(`listening on ${url}`);
}
