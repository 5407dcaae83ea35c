import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ENTRY = fileURLToPath(new URL('../../src/cli/index.ts', import.meta.url));

/** The environment of a CLI child: this one's, without DATABASE_URL or keys unless given. */
function childEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env };
  delete base.DATABASE_URL;
  delete base.HOOKLINE_SECRET_KEYS;
  delete base.NODE_OPTIONS;
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete base[key];
    else base[key] = value;
  }
  return base;
}

/** What a finished CLI run gave. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A CLI process still running, as a user started it. */
export interface CliProcess {
  child: ChildProcess;
  /** All stdout / stderr so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the first stderr line matching `pattern` (rejects if the process ends first). */
  waitForStderr(pattern: RegExp): Promise<string>;
  /** Resolves when the process has ended. */
  done: Promise<CliResult>;
}

/** Starts `hookline <args>` as a child process (`node --import tsx src/cli/index.ts`). */
export function startCli(
  args: readonly string[],
  options: { env?: Record<string, string | undefined>; cwd?: string } = {},
): CliProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, ...args], {
    cwd: options.cwd ?? ROOT,
    env: childEnv(options.env ?? {}),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    for (const wake of waiters) wake();
  });
  const done = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => {
      for (const wake of waiters) wake();
      resolve({ code, signal, stdout, stderr });
    });
  });
  let ended = false;
  void done.then(() => {
    ended = true;
  });
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    done,
    waitForStderr(pattern) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const line = stderr.split('\n').find((l) => pattern.test(l));
          if (line !== undefined) {
            waiters.delete(check);
            resolve(line);
          } else if (ended || child.exitCode !== null) {
            waiters.delete(check);
            reject(new Error(`hookline ended before printing ${pattern}:\n${stderr}`));
          }
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/** Runs `hookline <args>` to the end. */
export function runCli(
  args: readonly string[],
  options: { env?: Record<string, string | undefined>; cwd?: string } = {},
): Promise<CliResult> {
  return startCli(args, options).done;
}

/** A receiver on 127.0.0.1: counts arrivals by `webhook-id`, answers `status()`, or holds the answer while `hold` is on. */
export interface Receiver {
  url: string;
  /** webhook-id → arrivals. */
  arrivals: Map<string, number>;
  /** Total requests. */
  total(): number;
  /** The status to answer. */
  status: number;
  /** While true, requests are held (not answered) until {@link release}. */
  hold: boolean;
  /** Requests held now. */
  held(): number;
  /** Answers every held request. */
  release(): void;
  /** Resolves once `predicate` is true (checked on each arrival), or rejects after `timeoutMs`. */
  until(predicate: () => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const arrivals = new Map<string, number>();
  const pending: (() => void)[] = [];
  let total = 0;
  const watchers = new Set<() => void>();
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const id = String(req.headers['webhook-id']);
      arrivals.set(id, (arrivals.get(id) ?? 0) + 1);
      total += 1;
      const answer = () => {
        res.writeHead(receiver.status, { 'content-type': 'text/plain' });
        res.end(receiver.status >= 400 ? 'nope \u001b[31mred\u001b[0m' : 'ok');
      };
      if (receiver.hold) pending.push(answer);
      else answer();
      for (const w of watchers) w();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const receiver: Receiver = {
    url: `http://127.0.0.1:${port}/hook`,
    arrivals,
    total: () => total,
    status: 200,
    hold: false,
    held: () => pending.length,
    release() {
      for (const answer of pending.splice(0)) answer();
    },
    until(predicate, timeoutMs = 45_000) {
      return new Promise((resolve, reject) => {
        if (predicate()) return resolve();
        const timer = setTimeout(() => {
          watchers.delete(check);
          reject(new Error(`receiver: condition not met within ${timeoutMs} ms (total ${total})`));
        }, timeoutMs);
        const check = () => {
          if (!predicate()) return;
          clearTimeout(timer);
          watchers.delete(check);
          resolve();
        };
        watchers.add(check);
      });
    },
    async close() {
      receiver.release();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return receiver;
}

/** GETs `url` on loopback: status and body. */
export async function get(url: string): Promise<{ status: number; body: string; type: string }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text(), type: res.headers.get('content-type') ?? '' };
}

/** Polls `check` until it returns true or the deadline passes (for state outside this process). */
export async function eventually(
  check: () => Promise<boolean>,
  timeoutMs = 45_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
