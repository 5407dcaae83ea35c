/**
 * Both webhook APIs and both delivery-log UIs in a Fastify 5 app.
 * Run: `npx tsx examples/fastify/server.ts` (`WORKER=1` to deliver what is emitted).
 *
 * The routes live in their own plugin that replaces Fastify's body parsers with a pass-through,
 * so the raw body stream reaches the adapter untouched; `reply.hijack()` hands the response
 * over to it. Each prefix serves its path itself too (`/ui`, not only `/ui/*`).
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { type FetchHandler, toNodeHandler } from '../../src/http/index.js';
import {
  createHandlers,
  describeRunning,
  type ExampleOptions,
  isMain,
  optionsFromEnv,
  PATHS,
  type RunningHandlers,
  runningHandlers,
  startWorkers,
} from '../shared/handlers.js';

function mount(app: FastifyInstance, prefix: string, handler: FetchHandler): void {
  const node = toNodeHandler(handler);
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null));
    for (const path of [prefix, `${prefix}/*`]) {
      scope.all(path, async (request, reply) => {
        reply.hijack();
        await node(request.raw, reply.raw);
      });
    }
  });
}

export async function start(options: ExampleOptions = {}): Promise<RunningHandlers> {
  const handlers = createHandlers(options);
  const app = Fastify();
  mount(app, PATHS.pretix, handlers.pretix);
  // Fastify routes the longer static prefix first, so /taler/ui/* goes to the UI.
  mount(app, PATHS.taler, handlers.taler);
  mount(app, PATHS.pretixUi, handlers.pretixUi);
  mount(app, PATHS.talerUi, handlers.talerUi);
  const url = await app.listen({ port: options.port ?? 3000, host: '127.0.0.1' });
  return runningHandlers(
    { url, close: () => app.close() },
    handlers,
    startWorkers(handlers.registries, options),
  );
}

if (isMain(import.meta.url)) {
  const options = optionsFromEnv();
  const { url } = await start(options);
  for (const line of describeRunning(url, options)) console.log(line);
}
