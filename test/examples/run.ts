/**
 * Starting the examples as a person does (`npx tsx examples/x/server.ts`): a child process with
 * `PORT=0` and the network limited to loopback (`test/docs/loopback-only.mjs`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '../..');
export const LOOPBACK_ONLY = join(ROOT, 'test/docs/loopback-only.mjs');

export interface Started {
  /** The first `http://127.0.0.1:<port>` the process printed. */
  url: string;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** SIGTERM, then waits for the process to end. */
  stop(): Promise<void>;
}

/** Collects a child's output, and resolves with its exit. */
function watch(child: ChildProcess): { output(): string; exited: Promise<number | null> } {
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  return { output: () => output, exited };
}

/** Runs `node <args>` (cwd `cwd`) until it prints `http://127.0.0.1:<port>`; fails if it exits first. */
export async function startServer(
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<Started> {
  const child = spawn(process.execPath, args, {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, PORT: '0', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const { output, exited } = watch(child);
  const url = await new Promise<string>((resolve, reject) => {
    const look = () => {
      const found = /http:\/\/127\.0\.0\.1:\d+/.exec(output());
      if (found) resolve(found[0]);
    };
    child.stdout?.on('data', look);
    child.stderr?.on('data', look);
    exited.then(
      (code) => reject(new Error(`node ${args.join(' ')} exited (${code}) before listening:\n${output()}`)),
      reject,
    );
  });
  return {
    url,
    output,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Runs `node <args>` (or `<command> <args>`) to its end. */
export async function runToEnd(
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; command?: string } = {},
): Promise<{ code: number | null; output: string }> {
  const child = spawn(options.command ?? process.execPath, args, {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const { output, exited } = watch(child);
  const code = await exited;
  return { code, output: output() };
}

/** `node` arguments that run a TypeScript file with tsx, network limited to loopback. */
export function tsxArgs(file: string): string[] {
  return ['--import', 'tsx', '--import', LOOPBACK_ONLY, file];
}
