import { once } from 'node:events';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';

/** One request as the test receiver saw it. */
export interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void;

/** A `node:http` receiver on 127.0.0.1 with per-path handlers and a log of what arrived. */
export interface Receiver {
  port: number;
  url(path: string): string;
  received: Received[];
  hits(path: string): number;
  route(path: string, handler: Handler): void;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const routes = new Map<string, Handler>();
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const handler = routes.get(path);
      if (handler) handler(req, res, body);
      else {
        res.writeHead(404);
        res.end('no route');
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: (path) => `http://127.0.0.1:${port}${path}`,
    received,
    hits: (path) => received.filter((r) => (r.url.split('?')[0] ?? '') === path).length,
    route: (path, handler) => routes.set(path, handler),
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  server.close();
  await once(server, 'close');
  return port;
}

/** A server on 127.0.0.1 that accepts TCP connections and never answers (a TLS handshake never completes). */
export interface SilentServer {
  server: net.Server;
  port: number;
  /** Destroys the accepted connections and closes the server. */
  close(): Promise<void>;
}

export async function startSilentServer(): Promise<SilentServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

/** The requests to one path of a receiver, held unanswered until the test answers them. */
export interface HeldRequests {
  /** The path's URL. */
  url: string;
  /** How many requests reached the path so far (held or answered). */
  hits(): number;
  /** Resolves once `n` requests are held. */
  until(n: number): Promise<void>;
  /** Answers every held request with `status` and the body "ok". */
  answer(status?: number): void;
}

/** Holds every request to `path` from now on (replacing that path's earlier handler). */
export function holdRequests(receiver: Receiver, path: string): HeldRequests {
  const held: http.ServerResponse[] = [];
  const arrivals: (() => void)[] = [];
  receiver.route(path, (_req, res) => {
    held.push(res);
    for (const resolve of arrivals.splice(0)) resolve();
  });
  return {
    url: receiver.url(path),
    hits: () => receiver.hits(path),
    async until(n) {
      while (held.length < n) await new Promise<void>((resolve) => arrivals.push(resolve));
    },
    answer(status = 200) {
      for (const res of held.splice(0)) {
        res.writeHead(status);
        res.end('ok');
      }
    },
  };
}
