/**
 * Both webhook APIs in a Fastify 5 app.  Run: `npx tsx examples/fastify/server.ts`
 *
 * The routes live in their own plugin that replaces Fastify's body parsers with a pass-through,
 * so the raw body stream reaches the adapter untouched; `reply.hijack()` hands the response
 * over to it.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { type FetchHandler, toNodeHandler } from '../../src/http/index.js';
import { createHandlers, isMain, type RunningExample } from '../shared/handlers.js';

function mount(app: FastifyInstance, prefix: string, handler: FetchHandler): void {
  const node = toNodeHandler(handler);
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null));
    scope.all(`${prefix}/*`, async (request, reply) => {
      reply.hijack();
      await node(request.raw, reply.raw);
    });
  });
}

export async function start({ port = 3000 }: { port?: number } = {}): Promise<RunningExample> {
  const { pretix, taler } = createHandlers();
  const app = Fastify();
  mount(app, '/api/v1', pretix);
  mount(app, '/taler', taler);
  const url = await app.listen({ port, host: '127.0.0.1' });
  return { url, close: () => app.close() };
}

if (isMain(import.meta.url)) {
  const { url } = await start({ port: Number(process.env.PORT ?? 3000) });
  console.log(`listening on ${url}`);
}
