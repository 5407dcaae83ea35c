#!/usr/bin/env node
// What a user of the published package meets: packs hookline once, installs the tarball into a
// fresh project outside this repository (without vitest, Jest, pg or PGlite), then
//   - type-checks one consumer under moduleResolution node10 (module commonjs), node16 (an ES
//     module and a CommonJS one) and bundler, with skipLibCheck off so the shipped declarations
//     are checked too;
//   - loads every entry point with require() and with import;
//   - runs `npx hookline --help` (the bin) and a command that needs the absent pg;
//   - runs the node:test examples of docs/testing.md (test/testing/node-test/) with `node --test`.
// Run after `npm run build`; part of `npm run check:package`. TypeScript and @types/node come
// from this repository's node_modules (linked into the project), the package's dependencies
// from the npm registry or the local npm cache.
import { execFile } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
const work = mkdtempSync(join(tmpdir(), 'hookline-consumers-'));
const project = join(work, 'consumer');
const started = Date.now();

async function step(title, fn) {
  const t0 = Date.now();
  try {
    await fn();
  } catch (error) {
    console.error(`✗ ${title}`);
    const { stdout, stderr, message } = /** @type {{ stdout?: string, stderr?: string, message: string }} */ (
      error
    );
    console.error([stdout, stderr].filter(Boolean).join('\n') || message);
    throw new Error(`check-consumers: ${title} failed (project kept in ${project})`);
  }
  console.log(`✓ ${title} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}

function write(path, text) {
  writeFileSync(join(project, path), `${text.trim()}\n`);
}

// One consumer, checked in every setup: every entry point, and a wrong use that must fail, so
// the types cannot silently be `any`.
const consumer = `
import { HooklineError, memoryStore, WebhookRegistry } from 'hookline';
import { pretixHandler, toNodeHandler } from 'hookline/http';
import { deliveryLogUi } from 'hookline/ui';
import { postgresStore, type Queryable } from 'hookline/postgres';
import { captureTransport, createFakeClock, type FakeClock } from 'hookline/testing';
import type { StoreConformanceOptions } from 'hookline/testing/conformance';

const clock: FakeClock = createFakeClock();
const registry = new WebhookRegistry({ clock, store: memoryStore() });
const worker = registry.worker({ transport: captureTransport() });
const conformance: StoreConformanceOptions = { name: 'memory', createStore: () => memoryStore() };
export const used = [registry, worker, conformance, pretixHandler, toNodeHandler, deliveryLogUi, postgresStore, HooklineError];
export type Db = Queryable;
// @ts-expect-error now() is a number
export const wrong: string = clock.now();
`;

// What `tsc --init` writes, except skipLibCheck: false. esModuleInterop stays on as there: zod's
// own declarations need it under node10.
const compilerOptions = {
  strict: true,
  esModuleInterop: true,
  noEmit: true,
  skipLibCheck: false,
  target: 'ES2022',
  lib: ['ES2023'],
  types: ['node'],
};
const setups = {
  node10: { options: { module: 'commonjs', moduleResolution: 'node10' }, files: ['consumer.ts'] },
  'node16-esm': { options: { module: 'node16', moduleResolution: 'node16' }, files: ['consumer.mts'] },
  // skipLibCheck here: the CommonJS declarations import types from ky, which is ESM-only, and
  // TypeScript reports that inside hookline's .d.cts (TS1479) unless library checks are skipped.
  // The fix (`with { 'resolution-mode': 'import' }`) would make the declarations unreadable to
  // TypeScript < 5.3 in every setup; the types themselves resolve either way.
  'node16-cjs': {
    options: { module: 'node16', moduleResolution: 'node16', skipLibCheck: true },
    files: ['consumer.cts'],
  },
  bundler: { options: { module: 'esnext', moduleResolution: 'bundler' }, files: ['consumer.ts'] },
};

const requireAll = `
const assert = require('node:assert/strict');
assert.equal(typeof require('hookline').WebhookRegistry, 'function');
assert.equal(typeof require('hookline/http').pretixHandler, 'function');
assert.equal(typeof require('hookline/ui').deliveryLogUi, 'function');
assert.equal(typeof require('hookline/postgres').postgresStore, 'function');
const testing = require('hookline/testing');
for (const name of ['createFakeClock', 'captureTransport', 'waitForDelivery']) {
  assert.equal(typeof testing[name], 'function', name);
}
assert.equal('storeConformance' in testing, false);
assert.throws(() => require.resolve('vitest'), { code: 'MODULE_NOT_FOUND' });
// The conformance suite needs vitest, and says so.
assert.throws(() => require('hookline/testing/conformance'), (error) => /'vitest'/.test(error.message));
`;

const importAll = `
import assert from 'node:assert/strict';
assert.equal(typeof (await import('hookline')).WebhookRegistry, 'function');
assert.equal(typeof (await import('hookline/http')).pretixHandler, 'function');
assert.equal(typeof (await import('hookline/ui')).deliveryLogUi, 'function');
assert.equal(typeof (await import('hookline/postgres')).postgresStore, 'function');
const testing = await import('hookline/testing');
for (const name of ['createFakeClock', 'captureTransport', 'waitForDelivery']) {
  assert.equal(typeof testing[name], 'function', name);
}
assert.equal('storeConformance' in testing, false);
await assert.rejects(import('hookline/testing/conformance'), (error) => /'vitest'/.test(error.message));
`;

try {
  let tarball = '';
  await step('npm pack', async () => {
    const { stdout } = await run(npm, ['pack', '--json', '--pack-destination', work, '--loglevel=error'], {
      cwd: root,
    });
    const [info] = JSON.parse(stdout);
    tarball = join(work, info.filename);
    const shipped = info.files.map((f) => f.path);
    for (const needed of ['LICENSE', 'README.md', 'package.json', 'dist/testing/conformance.d.cts']) {
      if (!shipped.includes(needed)) throw new Error(`${needed} is not in the tarball`);
    }
    const maps = shipped.filter((path) => path.endsWith('.map'));
    if (maps.length > 0) throw new Error(`source maps in the tarball, but src/ is not: ${maps.join(', ')}`);
  });

  await step('npm install <tarball> into a fresh project (no vitest)', async () => {
    mkdirSync(project);
    write('package.json', JSON.stringify({ name: 'hookline-consumer', private: true, type: 'commonjs' }));
    await run(
      npm,
      [
        'install',
        tarball,
        '--no-audit',
        '--no-fund',
        '--no-package-lock',
        '--prefer-offline',
        '--ignore-scripts',
        '--loglevel=error',
      ],
      { cwd: project },
    );
    for (const absent of ['vitest', 'jest', 'pg', '@electric-sql/pglite']) {
      if (existsSync(join(project, 'node_modules', absent))) throw new Error(`${absent} was installed`);
    }
    mkdirSync(join(project, 'node_modules/@types'), { recursive: true });
    for (const linked of ['typescript', '@types/node']) {
      symlinkSync(join(root, 'node_modules', linked), join(project, 'node_modules', linked), 'junction');
    }
  });

  for (const [name, setup] of Object.entries(setups)) {
    await step(`tsc, ${name} (${setup.files.join(', ')})`, async () => {
      for (const file of setup.files) write(file, consumer);
      write(
        `tsconfig.${name}.json`,
        JSON.stringify({ compilerOptions: { ...compilerOptions, ...setup.options }, files: setup.files }),
      );
      await run(
        process.execPath,
        [join(project, 'node_modules/typescript/bin/tsc'), '-p', `tsconfig.${name}.json`],
        {
          cwd: project,
        },
      );
    });
  }

  await step("require() of every entry point; 'hookline/testing' without vitest", async () => {
    write('require-all.cjs', requireAll);
    await run(process.execPath, ['require-all.cjs'], { cwd: project });
  });

  await step('import of every entry point', async () => {
    write('import-all.mjs', importAll);
    await run(process.execPath, ['import-all.mjs'], { cwd: project });
  });

  await step('npx hookline: the bin runs, and names the missing optional driver', async () => {
    const { stdout } = await run(npx, ['--no-install', 'hookline', '--help'], { cwd: project });
    if (!stdout.includes('Usage: hookline <command>')) throw new Error(`unexpected help:\n${stdout}`);
    // pg is not installed in the consumer: the command says what to install (exit 1).
    const failed = await run(
      npx,
      ['--no-install', 'hookline', 'migrate', '--database-url', 'postgres://u@127.0.0.1:1/db'],
      {
        cwd: project,
      },
    ).then(
      () => undefined,
      (error) => error,
    );
    if (failed?.code !== 1 || !/npm install pg/.test(failed.stderr)) {
      throw new Error(`expected exit 1 naming pg, got ${failed?.code}: ${failed?.stderr}`);
    }
  });

  await step('node --test: the docs/testing.md examples (ESM and CJS)', async () => {
    const files = ['retry.test.mjs', 'retry.test.cjs'];
    for (const file of files) copyFileSync(join(root, 'test/testing/node-test', file), join(project, file));
    await run(process.execPath, ['--test', ...files], { cwd: project });
  });

  rmSync(work, { recursive: true, force: true });
  console.log(`check-consumers: all good (${((Date.now() - started) / 1000).toFixed(1)} s)`);
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
}
