import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { memoryStore, type Transport, WebhookRegistry, type WorkerOptions } from '../../src/index.js';
import { thrownBy } from '../helpers/errors.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/keep-alive.ts', import.meta.url));

async function run(keepAlive: boolean): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, String(keepAlive)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  expect(code).toBe(0);
  return out;
}

describe('a started worker and the process', () => {
  it('keeps the process alive while retries are pending, until stop()', async () => {
    const out = await run(true);
    expect(out).toContain('retry scheduled');
    expect(out).toContain('stopped by the host');
    expect(out).not.toContain('exited with the worker running');
  });

  it('lets the process exit with keepAlive: false', async () => {
    const out = await run(false);
    expect(out).toContain('exited with the worker running (retrying: true)');
    expect(out).not.toContain('stopped by the host');
  });
});

describe('worker options are checked', () => {
  const registry = new WebhookRegistry({ store: memoryStore() });
  it.each<[string, WorkerOptions, RegExp]>([
    ['concurrency 0', { concurrency: 0 }, /"concurrency" must be a positive integer; got number 0/],
    ['concurrency 1.5', { concurrency: 1.5 }, /concurrency/],
    ['perWebhookConcurrency -1', { perWebhookConcurrency: -1 }, /perWebhookConcurrency/],
    [
      'a lease too short for the timeout',
      { leaseMs: 10_000, timeoutMs: 5_000 },
      /"leaseMs" must be more than three times timeoutMs \(5000\).*got number 10000/,
    ],
    ['attemptRetentionMs 0', { attemptRetentionMs: 0 }, /attemptRetentionMs/],
    [
      'a negative auto-disable threshold',
      { autoDisable: { afterConsecutiveFailures: -1 } },
      /afterConsecutiveFailures/,
    ],
    ['a transport without send', { transport: { name: 'x' } as unknown as Transport }, /transport/],
    [
      'pollIntervalMs 0',
      { pollIntervalMs: 0 },
      /"pollIntervalMs" must be a positive integer; got number 0\./,
    ],
    [
      'pollIntervalMs NaN',
      { pollIntervalMs: Number.NaN },
      /"pollIntervalMs" must be a positive integer; got number NaN/,
    ],
    ['timeoutMs -1', { timeoutMs: -1 }, /"timeoutMs" must be a positive integer; got number -1\./],
    ['timeoutMs 2.5', { timeoutMs: 2.5 }, /"timeoutMs" must be a positive integer; got number 2\.5\./],
    [
      'maxResponseBytes 0',
      { maxResponseBytes: 0 },
      /"maxResponseBytes" must be a positive integer; got number 0\./,
    ],
    [
      'maxResponseBytes as a string',
      { maxResponseBytes: '64kb' as unknown as number },
      /"maxResponseBytes" must be a positive integer; got string "64kb"/,
    ],
    [
      'autoDisable.afterFailingForMs 0',
      { autoDisable: { afterFailingForMs: 0 } },
      /"autoDisable\.afterFailingForMs" must be a positive number \(or Infinity to turn it off\); got number 0\./,
    ],
    [
      'autoDisable.afterFailingForMs NaN',
      { autoDisable: { afterFailingForMs: Number.NaN } },
      /"autoDisable\.afterFailingForMs" must be a positive number/,
    ],
    [
      'a random that is not a function',
      { random: 0.5 as unknown as () => number },
      /"random" must be a function returning numbers in \[0, 1\); got number 0\.5\./,
    ],
  ])('%s is an invalid_option error naming the option', (_name, options, message) => {
    const error = thrownBy(() => registry.worker(options));
    expect(error.code).toBe('invalid_option');
    expect(error.message).toMatch(message);
  });

  it('accepts Infinity to turn an auto-disable threshold off', () => {
    expect(() =>
      registry.worker({ autoDisable: { afterConsecutiveFailures: Number.POSITIVE_INFINITY } }),
    ).not.toThrow();
  });
});
