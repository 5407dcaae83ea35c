/**
 * What every example shares: two registries (one per dialect), a toy token authorization, the
 * two Fetch handlers of the webhook APIs (pretix under /api/v1, Taler under /taler) and a
 * delivery-log UI for each registry (pretix's at /ui, Taler's at /taler/ui), which a browser
 * logs in to with HTTP Basic: any user name, a demo token as the password.
 *
 * Workers are opt-in ({@link startWorkers}; `WORKER=1` when an example is run as a script):
 * the examples' webhooks point at receivers a person chooses, and the SSRF guard stays on
 * (loopback and private addresses refused) unless `ALLOW_HOSTS` names some.
 */
import type { AddressInfo } from 'node:net';
import {
  type Authorize,
  type AuthorizeResult,
  combineHandlers,
  type FetchHandler,
  pretixHandler,
  talerHandler,
} from '../../src/http/index.js';
import {
  type Clock,
  pretixCatalog,
  type RetryPolicy,
  talerCatalog,
  WebhookRegistry,
  type WebhookWorker,
} from '../../src/index.js';
import { deliveryLogUi } from '../../src/ui/index.js';

/** Toy tokens: token → the scopes it may use. Real hosts look tokens up in their database. */
export const TOKENS: Readonly<Record<string, readonly string[]>> = {
  'demo-token-bigevents': ['bigevents'],
  'demo-token-merchant': ['default', 'shop'],
};

/** The scopes of a demo token, or `undefined` for a token it does not know (own keys only). */
function scopesOf(token: string): readonly string[] | undefined {
  // `Token toString` must not find Object.prototype.toString.
  return Object.hasOwn(TOKENS, token) ? TOKENS[token] : undefined;
}

/** The token of `Authorization: Token <t>` (pretix) or `Bearer <t>` (Taler), or `undefined`. */
function apiToken(request: Request): string | undefined {
  return /^(?:Token|Bearer) (.+)$/.exec(request.headers.get('authorization') ?? '')?.[1];
}

/**
 * The password of `Authorization: Basic <base64 user:password>`, or `undefined`. The browser
 * sends it once a person has typed a demo token as the password of the login prompt.
 */
function basicPassword(request: Request): string | undefined {
  const encoded = /^Basic ([A-Za-z0-9+/=]+)$/.exec(request.headers.get('authorization') ?? '')?.[1];
  if (encoded === undefined) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

function decide(token: string | undefined, scope: string): AuthorizeResult {
  if (token === undefined) return 'unauthenticated';
  const scopes = scopesOf(token);
  if (scopes === undefined) return 'invalid_token';
  return scopes.includes(scope);
}

/**
 * The webhook APIs' check: `Authorization: Token <t>` (pretix) and `Bearer <t>` (Taler). No
 * token is `'unauthenticated'`, a token it does not know `'invalid_token'` (pretix: "Invalid
 * token.").
 */
export const authorize: Authorize = ({ request, scope }) => decide(apiToken(request), scope);

/**
 * The UI's check: HTTP Basic with a demo token as the password (what a browser sends), and
 * the APIs' `Token`/`Bearer` headers too (what scripts send). Every demo token may read and
 * change its scopes' webhooks; a real host would check `permission` as well.
 */
export const uiAuthorize: Authorize = ({ request, scope }) =>
  decide(basicPassword(request) ?? apiToken(request), scope);

/** Every scope of a demo token. */
const ALL_SCOPES: readonly string[] = [...new Set(Object.values(TOKENS).flat())];

/**
 * The scopes a UI's index page offers: those of the request's token. Without a (known) token,
 * every demo scope: the UI then asks `authorize`, which answers `'unauthenticated'` (or
 * `'invalid_token'`), and the browser shows its login prompt.
 */
export function uiScopes(request: Request): string[] {
  const token = basicPassword(request) ?? apiToken(request);
  return [...((token === undefined ? undefined : scopesOf(token)) ?? ALL_SCOPES)];
}

/** The UI's answer to a request without (valid) credentials: the browser's login prompt. */
export function askForLogin(): Response {
  return new Response('Log in with any user name and a demo token as the password.\n', {
    status: 401,
    headers: {
      'content-type': 'text/plain; charset=utf-8',
      'www-authenticate': 'Basic realm="hookline", charset="UTF-8"',
    },
  });
}

/**
 * A delivery-log UI for one registry, as the examples mount it: Basic login with the demo
 * tokens, the token's scopes on the index page.
 */
export function exampleUi(registry: WebhookRegistry, basePath: string, title: string): FetchHandler {
  return deliveryLogUi(registry, {
    authorize: uiAuthorize,
    basePath,
    scopes: uiScopes,
    onUnauthenticated: askForLogin,
    title,
  });
}

/** The examples' two registries. */
export interface ExampleRegistries {
  pretix: WebhookRegistry;
  taler: WebhookRegistry;
}

/** Both dialects and both UIs, ready to mount, with the registries behind them. */
export interface ExampleHandlers {
  pretix: FetchHandler;
  taler: FetchHandler;
  /** Both APIs at once: tries pretix, then Taler. */
  both: FetchHandler;
  /** The delivery-log UI of the pretix registry, under `/ui`. */
  pretixUi: FetchHandler;
  /** The delivery-log UI of the Taler registry, under `/taler/ui`. */
  talerUi: FetchHandler;
  /** Everything: both UIs, then both APIs (the UIs first: `/taler/ui` lies under `/taler`). */
  all: FetchHandler;
  /** The registries, to emit notifications or start workers in-process. */
  registries: ExampleRegistries;
}

/** Where the examples mount things. */
export const PATHS = {
  pretix: '/api/v1',
  taler: '/taler',
  pretixUi: '/ui',
  talerUi: '/taler/ui',
} as const;

/** How the examples' registries are made. */
export interface RegistryChoices {
  /** The retry policy of both registries. Default hookline's standard policy. */
  retryPolicy?: RetryPolicy;
  /** The clock of both registries and their workers (tests, screenshots). Default the system clock. */
  clock?: Clock;
}

/**
 * The registries, the API handlers and the UIs of an example.
 *
 * @example
 * ```ts
 * const { all, registries } = createHandlers();
 * await registries.pretix.emit({ scope: 'bigevents', type: 'pretix.event.order.paid', data: {} });
 * ```
 */
export function createHandlers(choices: RegistryChoices = {}): ExampleHandlers {
  const chosen = {
    ...(choices.retryPolicy ? { retryPolicy: choices.retryPolicy } : {}),
    ...(choices.clock ? { clock: choices.clock } : {}),
  };
  const registries: ExampleRegistries = {
    pretix: new WebhookRegistry({ catalog: pretixCatalog, ...chosen }),
    taler: new WebhookRegistry({ catalog: talerCatalog, ...chosen }),
  };
  const pretix = pretixHandler(registries.pretix, {
    authorize,
    basePath: PATHS.pretix,
    openApiPath: `${PATHS.pretix}/openapi.json`,
  });
  const taler = talerHandler(registries.taler, {
    authorize,
    basePath: PATHS.taler,
    openApiPath: `${PATHS.taler}/openapi.json`,
  });
  const pretixUi = exampleUi(registries.pretix, PATHS.pretixUi, 'Webhooks (pretix)');
  const talerUi = exampleUi(registries.taler, PATHS.talerUi, 'Webhooks (Taler)');
  return {
    pretix,
    taler,
    both: combineHandlers(pretix, taler),
    pretixUi,
    talerUi,
    all: combineHandlers(pretixUi, talerUi, pretix, taler),
    registries,
  };
}

/** How an example starts. */
export interface ExampleOptions extends RegistryChoices {
  /** The port to listen on, on 127.0.0.1. Default 3000 (0: any free port). */
  port?: number;
  /** Run a worker per registry in-process, delivering what is emitted. Default `false`. */
  worker?: boolean;
  /**
   * Hosts and addresses the workers may reach although the SSRF guard refuses them by default
   * (loopback, private networks), e.g. `['127.0.0.1']` for a receiver on this machine. Default
   * `[]`: the guard as it is.
   */
  allowHosts?: readonly string[];
}

/**
 * The options of an example run as a script: `PORT` (default 3000), `WORKER=1` for workers,
 * `ALLOW_HOSTS=127.0.0.1,10.0.0.0/8` for what they may reach beyond the public internet.
 */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): ExampleOptions {
  const allowHosts = (env.ALLOW_HOSTS ?? '')
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h !== '');
  return { port: Number(env.PORT ?? 3000), worker: env.WORKER === '1', allowHosts };
}

/** Running workers, and how to stop them all. */
export interface ExampleWorkers {
  workers: WebhookWorker[];
  stop(): Promise<void>;
}

/**
 * Starts one worker per registry when `options.worker` is set (none otherwise), with the SSRF
 * guard allowing `options.allowHosts` only.
 *
 * @example
 * ```ts
 * const workers = startWorkers(createHandlers().registries, { worker: true, allowHosts: ['127.0.0.1'] });
 * await workers.stop();
 * ```
 */
export function startWorkers(registries: ExampleRegistries, options: ExampleOptions): ExampleWorkers {
  if (!options.worker) return { workers: [], stop: async () => {} };
  const allow = [...(options.allowHosts ?? [])];
  const workers = [registries.pretix, registries.taler].map((registry) =>
    registry.worker(allow.length > 0 ? { ssrf: { allow } } : {}),
  );
  for (const worker of workers) worker.start();
  return {
    workers,
    stop: async () => {
      await Promise.all(workers.map((worker) => worker.stop()));
    },
  };
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

/** A running example of the shared handlers: also its registries and workers. */
export interface RunningHandlers extends RunningExample {
  registries: ExampleRegistries;
  workers: WebhookWorker[];
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

/**
 * The {@link RunningHandlers} of a started server: closing stops the workers (finishing their
 * attempts), then the server.
 */
export function runningHandlers(
  server: RunningExample,
  handlers: ExampleHandlers,
  workers: ExampleWorkers,
): RunningHandlers {
  return {
    url: server.url,
    registries: handlers.registries,
    workers: workers.workers,
    close: async () => {
      await workers.stop();
      await server.close();
    },
  };
}

/** What an example prints when it is listening: where the APIs and UIs are, and how to log in. */
export function describeRunning(url: string, options: ExampleOptions): string[] {
  const allowed = options.allowHosts?.length ? ` (may reach ${options.allowHosts.join(', ')})` : '';
  return [
    `pretix API: ${url}${PATHS.pretix}/organizers/bigevents/webhooks/  (Authorization: Token demo-token-bigevents)`,
    `Taler API:  ${url}${PATHS.taler}/private/webhooks  (Authorization: Bearer demo-token-merchant)`,
    `delivery-log UI (pretix): ${url}${PATHS.pretixUi}/  (log in: any user, password demo-token-bigevents)`,
    `delivery-log UI (Taler):  ${url}${PATHS.talerUi}/  (log in: any user, password demo-token-merchant)`,
    options.worker ? `workers: delivering${allowed}` : 'workers: off (WORKER=1 starts them)',
  ];
}
