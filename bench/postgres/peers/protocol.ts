/**
 * How bench/postgres talks to its worker processes over IPC. A worker process gets a
 * {@link WorkerConfig} as JSON in argv[2], prepares everything (connections, the worker object,
 * not yet started) and sends `ready`; on `go` it starts working and sends `started`; on `stop`
 * it stops, sends `stopped` with how many jobs it finished and the CPU it used since `go`, and
 * exits.
 */
import type { Pool } from 'pg';

/** What the parent passes to every worker process of one run. */
export interface WorkerConfig {
  /** PostgreSQL connection string (hookline, graphile-worker). */
  url: string;
  /** The receiver's port on 127.0.0.1. */
  port: number;
  /** Jobs in flight per process. */
  concurrency: number;
  /** Connections of the process's own pg pool. */
  poolMax: number;
  /** `application_name` of the process's connections (how the CPU census finds them). */
  appName: string;
  /** The run's schema (hookline, graphile-worker). */
  schema: string;
  /** BullMQ: the Redis key prefix and the queue's name. */
  redis?: { host: string; port: number; prefix: string; queue: string };
  /** hookline: register an OpenTelemetry SDK with no-op exporters before making the registry. */
  otel?: boolean;
  /** hookline: the workers' pool runs with `synchronous_commit=off`. */
  asyncCommit?: boolean;
  /** hookline only: the store's `recordDelayMs` (default: the store's default). */
  recordDelayMs?: number;
  /**
   * graphile-worker: its batching settings on (`localQueue.size` 2 × concurrency,
   * `completeJobBatchDelay` 0) instead of its defaults.
   */
  graphileBatching?: boolean;
}

export type ParentMessage = 'go' | 'stop';
export type ChildMessage =
  | { type: 'ready' }
  | { type: 'started' }
  | { type: 'stopped'; processed: number; cpuMs: number }
  | { type: 'error'; message: string };

/** A started worker process: `stop()` resolves with the number of jobs it finished. */
export interface RunningWorker {
  stop(): Promise<number>;
}

/**
 * The worker-process side of the protocol. `prepare` makes everything ready and returns
 * `start`, which starts work and returns the handle to stop it.
 */
export async function serveWorker(
  prepare: (config: WorkerConfig) => Promise<() => Promise<RunningWorker>>,
): Promise<void> {
  const send = (message: ChildMessage, then?: () => void) => process.send?.(message, undefined, {}, then);
  const config = JSON.parse(process.argv[2] ?? '{}') as WorkerConfig;
  process.on('uncaughtException', (error) => {
    send({ type: 'error', message: error.message }, () => process.exit(1));
  });
  const start = await prepare(config);
  let running: RunningWorker | undefined;
  let cpuAtStart = process.cpuUsage();
  process.on('message', (message: ParentMessage) => {
    if (message === 'go') {
      cpuAtStart = process.cpuUsage();
      void start().then(
        (worker) => {
          running = worker;
          send({ type: 'started' });
        },
        (error: Error) => send({ type: 'error', message: error.message }),
      );
    } else if (message === 'stop') {
      void (running?.stop() ?? Promise.resolve(0)).then(
        (processed) => {
          const cpu = process.cpuUsage(cpuAtStart);
          send({ type: 'stopped', processed, cpuMs: (cpu.user + cpu.system) / 1000 }, () => process.exit(0));
        },
        (error: Error) => {
          send({ type: 'error', message: error.message }, () => process.exit(1));
        },
      );
    }
  });
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready' });
}

/**
 * Opens all of a pool's connections before `ready`, so that neither the timed part of a run nor
 * the PostgreSQL CPU measured for it includes connection start-up.
 */
export async function openConnections(pool: Pool, count: number): Promise<void> {
  const clients = await Promise.all(Array.from({ length: count }, () => pool.connect()));
  for (const client of clients) client.release();
}
