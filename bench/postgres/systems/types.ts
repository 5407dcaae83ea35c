/** What bench/postgres needs of each system it compares (hookline, graphile-worker, BullMQ). */
import type pg from 'pg';
import type { WorkerConfig } from '../peers/protocol.js';

/** What every system's setup gets from the bench. */
export interface BenchContext {
  /** PostgreSQL connection string. */
  url: string;
  /** The parent's pool (its connections carry the bench's `application_name`). */
  pool: pg.Pool;
  /** Prefix of every schema, Redis key prefix and `application_name` of this bench run. */
  tag: string;
  /** The receiver's port on 127.0.0.1. */
  port: number;
  redis: { host: string; port: number };
}

/** One run's queue: made empty, filled by the bench, worked by the worker processes, dropped after. */
export interface SystemRun {
  /** What the worker processes get (schema, Redis prefix, …); the bench adds the rest. */
  config: Pick<WorkerConfig, 'schema' | 'redis'>;
  /** Adds `count` jobs before the workers start, the fastest way the system offers (bulk). */
  backlog(count: number): Promise<void>;
  /** Adds job `i` in a transaction of its own, as a business transaction would. */
  addOne(i: number): Promise<void>;
  /** Drops the schema or deletes the keys. */
  cleanup(): Promise<void>;
}

export interface BenchSystem {
  /** Shown in the report. */
  name: string;
  /** The worker process: `peers/<script>.ts`. */
  script: string;
  /** Where the queue's server-side CPU is measured. */
  server: 'postgres' | 'redis';
  prepare(context: BenchContext, label: string): Promise<SystemRun>;
}
