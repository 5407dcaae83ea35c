/**
 * Where the CPU of a run goes: PostgreSQL's server processes (from /proc) and Redis's (`INFO cpu`).
 *
 * PostgreSQL: utime + stime of every process whose `comm` starts with `postgres` (postmaster,
 * background processes, backends), before and after a run. The machine is shared, so client
 * backends of other applications (pg_stat_activity rows whose `application_name` does not start
 * with the bench's tag) are left out; background processes and the postmaster count. Backends
 * that exit during a run would take their CPU with them: the bench's pools never close idle
 * connections (`idleTimeoutMillis: 0`), so none does before the second snapshot.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import type pg from 'pg';

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** CPU ticks by pid of the PostgreSQL server processes on this machine. */
export function postgresTicks(): Map<number, number> {
  const ticks = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // "pid (comm) state ppid ...": comm may hold spaces, so split after its closing parenthesis.
    const open = stat.indexOf('(');
    const close = stat.lastIndexOf(')');
    if (!stat.slice(open + 1, close).startsWith('postgres')) continue;
    const fields = stat.slice(close + 2).split(' ');
    // Fields 14 and 15 of stat (utime, stime) are 12 and 13 after "pid (comm) ".
    ticks.set(Number(entry), Number(fields[11]) + Number(fields[12]));
  }
  return ticks;
}

/** A snapshot to compare against later: {@link postgresCpuMsSince} gives the CPU used since. */
export interface PostgresSnapshot {
  ticks: Map<number, number>;
}

export function postgresSnapshot(): PostgresSnapshot {
  return { ticks: postgresTicks() };
}

/**
 * Milliseconds of CPU PostgreSQL spent since `before` for the bench (its own backends, found by
 * `application_name` prefix `tag`, and the server's background processes).
 */
export async function postgresCpuMsSince(
  before: PostgresSnapshot,
  pool: pg.Pool,
  tag: string,
): Promise<number> {
  const after = postgresTicks();
  const { rows } = await pool.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity
      WHERE backend_type = 'client backend' AND coalesce(application_name, '') NOT LIKE $1`,
    [`${tag}%`],
  );
  const others = new Set(rows.map((r) => r.pid));
  let ticks = 0;
  for (const [pid, now] of after) {
    if (others.has(pid)) continue;
    ticks += now - (before.ticks.get(pid) ?? 0);
  }
  return (ticks * 1000) / CLK_TCK;
}

/** Redis's CPU so far (`used_cpu_sys` + `used_cpu_user` of `INFO cpu`), in milliseconds. */
export async function redisCpuMs(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const value = (name: string) => Number(new RegExp(`^${name}:([0-9.]+)`, 'm').exec(info)?.[1] ?? 0);
  return (value('used_cpu_sys') + value('used_cpu_user')) * 1000;
}
