/** The parent's handle on receiver.mjs, the receiver process that counts what the workers send. */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { BENCH_SECRET } from './job.js';

/** What the receiver saw in one run (see receiver.mjs). */
export interface ReceivedRun {
  /** Distinct `webhook-id`s: the run's target. */
  distinct: number;
  /** Requests, duplicates included. */
  requests: number;
  /** Body bytes of those requests. */
  bytes: number;
  /** Signatures checked, and how many of them failed. */
  checked: number;
  bad: number;
}

export interface Receiver {
  child: ChildProcess;
  port: number;
  /** Requests since the receiver started. */
  count(): Promise<number>;
  /**
   * Starts a run of `target` distinct deliveries; `reached` resolves when they have all
   * arrived, or rejects after `timeoutMs`.
   */
  arm(target: number, timeoutMs: number): Promise<{ reached: Promise<ReceivedRun> }>;
  close(): void;
}

type Message = { port?: number; count?: number; armed?: number; reached?: ReceivedRun };

export async function startReceiver(): Promise<Receiver> {
  const child = fork(fileURLToPath(new URL('./receiver.mjs', import.meta.url)), {
    stdio: 'inherit',
    env: { ...process.env, BENCH_SECRET },
  });
  const [first] = (await once(child, 'message')) as [Message];
  const next = async <K extends keyof Message>(key: K): Promise<NonNullable<Message[K]>> => {
    for (;;) {
      const [m] = (await once(child, 'message')) as [Message];
      const value = m[key];
      if (value !== undefined) return value as NonNullable<Message[K]>;
    }
  };
  return {
    child,
    port: first.port!,
    async count() {
      const reply = next('count');
      child.send('count');
      return reply;
    },
    async arm(target, timeoutMs) {
      const armed = next('armed');
      child.send({ arm: target });
      await armed;
      const reached = next('reached');
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`the receiver did not get ${target} deliveries in ${timeoutMs} ms`)),
          timeoutMs,
        );
      });
      return { reached: Promise.race([reached, timeout]).finally(() => clearTimeout(timer)) };
    },
    close() {
      child.disconnect();
      child.kill();
    },
  };
}
