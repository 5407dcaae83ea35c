/**
 * Both webhook APIs and both delivery-log UIs in an Express 5 app.
 * Run: `npx tsx examples/express/server.ts` (`WORKER=1` to deliver what is emitted).
 *
 * Mount the adapter before any body parser (or let it reuse `req.body`, which it does when a
 * JSON parser ran first). `next()` is called for paths neither dialect serves. The Taler UI
 * (`/taler/ui`) is mounted before the Taler API (`/taler`), whose prefix it shares.
 */
import type { Server } from 'node:http';
import express from 'express';
import { toNodeHandler } from '../../src/http/index.js';
import {
  createHandlers,
  describeRunning,
  type ExampleOptions,
  isMain,
  optionsFromEnv,
  PATHS,
  type RunningHandlers,
  running,
  runningHandlers,
  startWorkers,
} from '../shared/handlers.js';

export async function start(options: ExampleOptions = {}): Promise<RunningHandlers> {
  const handlers = createHandlers(options);
  const app = express();
  app.get('/', (_req, res) => {
    res.json({ ok: true });
  });
  app.use(PATHS.pretixUi, toNodeHandler(handlers.pretixUi));
  app.use(PATHS.talerUi, toNodeHandler(handlers.talerUi));
  app.use(PATHS.pretix, toNodeHandler(handlers.pretix));
  app.use(PATHS.taler, toNodeHandler(handlers.taler));
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(options.port ?? 3000, '127.0.0.1', () => resolve(s));
  });
  return runningHandlers(running(server), handlers, startWorkers(handlers.registries, options));
}

if (isMain(import.meta.url)) {
  const options = optionsFromEnv();
  const { url } = await start(options);
  for (const line of describeRunning(url, options)) console.log(line);
}
