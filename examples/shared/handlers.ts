/**
 * What every example shares: two registries (one per dialect), a toy token authorization and
 * the two Fetch handlers. pretix lives under /api/v1, Taler under /taler.
 */
import type { AddressInfo } from 'node:net';
import {
  type Authorize,
  combineHandlers,
  type FetchHandler,
  pretixHandler,
  talerHandler,
} from '../../src/http/index.js';
import { pretixCatalog, talerCatalog, WebhookRegistry } from '../../src/index.js';

/** Toy tokens: token → the scopes it may use. Real hosts look tokens up in their database. */
export const TOKENS: Readonly<Record<string, readonly string[]>> = {
  'demo-token-bigevents': ['bigevents'],
  'demo-token-merchant': ['default', 'shop'],
};

/**
 * Accepts `Authorization: Token <t>` (pretix) and `Bearer <t>` (Taler). No token is
 * `'unauthenticated'`, a token it does not know `'invalid_token'` (pretix: "Invalid token.").
 */
export const authorize: Authorize = ({ request, scope }) => {
  const match = /^(?:Token|Bearer) (.+)$/.exec(request.headers.get('authorization') ?? '');
  if (match?.[1] === undefined) return 'unauthenticated';
  // Own keys only: `Token toString` must not find Object.prototype.toString.
  const scopes = Object.hasOwn(TOKENS, match[1]) ? TOKENS[match[1]] : undefined;
  if (scopes === undefined) return 'invalid_token';
  return scopes.includes(scope);
};

/** Both dialects, ready to mount. */
export interface ExampleHandlers {
  pretix: FetchHandler;
  taler: FetchHandler;
  /** Both at once: tries pretix, then Taler. */
  both: FetchHandler;
}

export function createHandlers(): ExampleHandlers {
  const pretix = pretixHandler(new WebhookRegistry({ catalog: pretixCatalog }), {
    authorize,
    basePath: '/api/v1',
    openApiPath: '/api/v1/openapi.json',
  });
  const taler = talerHandler(new WebhookRegistry({ catalog: talerCatalog }), {
    authorize,
    basePath: '/taler',
    openApiPath: '/taler/openapi.json',
  });
  return { pretix, taler, both: combineHandlers(pretix, taler) };
}

/** Whether this module is the script being run (`tsx examples/x/server.ts`). */
export function isMain(moduleUrl: string): boolean {
  const entry = process.argv[1];
  return entry !== undefined && new URL(moduleUrl).pathname === new URL(`file://${entry}`).pathname;
}

/** The running example: its base URL and a way to stop it. */
export interface RunningExample {
  url: string;
  close: () => Promise<void>;
}

/** A listening server as the examples use it (node:http, Express and Hono servers all fit). */
interface ListeningServer {
  address(): AddressInfo | string | null;
  close(callback: (error?: Error) => void): unknown;
  closeAllConnections?: () => void;
}

/** The {@link RunningExample} of a server listening on 127.0.0.1. */
export function running(server: ListeningServer): RunningExample {
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections?.();
      }),
  };
}
