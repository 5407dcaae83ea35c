/**
 * The parent's side of bench/postgres's worker processes: forks `count` of one worker script
 * (TypeScript under tsx), waits until all are ready, starts them together, stops them.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ChildMessage, ParentMessage, WorkerConfig } from './peers/protocol.js';

export interface Fleet {
  /** Starts every process; resolves once all have started. */
  go(): Promise<void>;
  /** Stops every process; resolves with the jobs each finished and their CPU since `go`, in ms. */
  stop(): Promise<{ processed: number; cpuMs: number }>;
  /** Kills what is left (after a failure). */
  kill(): void;
}

/** Forks `count` processes of `peers/<script>.ts` and resolves once all are ready. */
export async function startFleet(script: string, config: WorkerConfig, count: number): Promise<Fleet> {
  const path = fileURLToPath(new URL(`./peers/${script}.ts`, import.meta.url));
  // `--import tsx` resolves from the working directory: the repository's root.
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const children: ChildProcess[] = [];
  const inbox = new Map<ChildProcess, ChildMessage[]>();
  const waiters = new Map<ChildProcess, () => void>();
  let failure: Error | undefined;
  const next = async (child: ChildProcess, type: ChildMessage['type']): Promise<ChildMessage> => {
    for (;;) {
      if (failure) throw failure;
      const queue = inbox.get(child) ?? [];
      const index = queue.findIndex((m) => m.type === type);
      if (index >= 0) return queue.splice(index, 1)[0]!;
      await new Promise<void>((resolve) => waiters.set(child, resolve));
    }
  };
  const wakeAll = () => {
    for (const wake of waiters.values()) wake();
  };
  for (let i = 0; i < count; i++) {
    const child = fork(path, [JSON.stringify(config)], {
      execArgv: ['--import', 'tsx'],
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.push(child);
    inbox.set(child, []);
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'error') failure ??= new Error(`${script} worker ${i}: ${message.message}`);
      inbox.get(child)?.push(message);
      wakeAll();
    });
    child.on('exit', (code) => {
      if (code !== 0 && code !== null) failure ??= new Error(`${script} worker ${i} exited with ${code}`);
      wakeAll();
    });
  }
  const fleet: Fleet = {
    async go() {
      for (const child of children) child.send('go' satisfies ParentMessage);
      await Promise.all(children.map((child) => next(child, 'started')));
    },
    async stop() {
      for (const child of children) child.send('stop' satisfies ParentMessage);
      const stopped = await Promise.all(children.map((child) => next(child, 'stopped')));
      await Promise.all(
        children.map((child) =>
          child.exitCode === null ? new Promise((resolve) => child.once('exit', resolve)) : undefined,
        ),
      );
      let processed = 0;
      let cpuMs = 0;
      for (const m of stopped) {
        if (m.type !== 'stopped') continue;
        processed += m.processed;
        cpuMs += m.cpuMs;
      }
      return { processed, cpuMs };
    },
    kill() {
      for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
  try {
    await Promise.all(children.map((child) => next(child, 'ready')));
  } catch (error) {
    fleet.kill();
    throw error;
  }
  return fleet;
}
