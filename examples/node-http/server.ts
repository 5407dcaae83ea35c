/**
 * Both webhook APIs on plain node:http.  Run: `npx tsx examples/node-http/server.ts`
 */
import { createServer } from 'node:http';
import { toNodeHandler } from '../../src/http/index.js';
import { createHandlers, isMain, type RunningExample, running } from '../shared/handlers.js';

export async function start({ port = 3000 }: { port?: number } = {}): Promise<RunningExample> {
  const { both } = createHandlers();
  const server = createServer(toNodeHandler(both));
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return running(server);
}

if (isMain(import.meta.url)) {
  const { url } = await start({ port: Number(process.env.PORT ?? 3000) });
  console.log(
    `pretix API: ${url}/api/v1/organizers/bigevents/webhooks/  (Authorization: Token demo-token-bigevents)`,
  );
  console.log(`Taler API:  ${url}/taler/private/webhooks  (Authorization: Bearer demo-token-merchant)`);
}
