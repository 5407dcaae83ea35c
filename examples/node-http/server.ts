/**
 * Both webhook APIs and both delivery-log UIs on plain node:http.
 * Run: `npx tsx examples/node-http/server.ts` (`WORKER=1` to deliver what is emitted,
 * `ALLOW_HOSTS=127.0.0.1` to let the workers reach a receiver on this machine).
 */
import { createServer } from 'node:http';
import { toNodeHandler } from '../../src/http/index.js';
import {
  createHandlers,
  describeRunning,
  type ExampleOptions,
  isMain,
  optionsFromEnv,
  type RunningHandlers,
  running,
  runningHandlers,
  startWorkers,
} from '../shared/handlers.js';

export async function start(options: ExampleOptions = {}): Promise<RunningHandlers> {
  const handlers = createHandlers(options);
  const server = createServer(toNodeHandler(handlers.all));
  await new Promise<void>((resolve) => server.listen(options.port ?? 3000, '127.0.0.1', resolve));
  return runningHandlers(running(server), handlers, startWorkers(handlers.registries, options));
}

if (isMain(import.meta.url)) {
  const options = optionsFromEnv();
  const { url } = await start(options);
  for (const line of describeRunning(url, options)) console.log(line);
}
