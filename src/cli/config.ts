/**
 * `--config ./hookline.config.(js|mjs|cjs|ts|mts)`: the host's registry options, so the worker
 * process behaves like the host's own (retry policies, catalog, logger, secret keys, transport).
 *
 * The file's default export is an object, or a function returning one (possibly async):
 * {@link WebhookRegistryOptions} without `store` (the command makes the store from
 * `--database-url`), plus `transport` and `worker` (more {@link WorkerOptions}).
 *
 * TypeScript configs: Node 20 cannot import TypeScript by itself. The host's `tsx` is used when
 * installed (`tsx/esm/api`), else Node's own type stripping where it exists (Node >= 22.18);
 * otherwise a {@link UsageError} says to install tsx or write the config in JavaScript.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Transport } from '../delivery/transport/contract.js';
import type { WorkerOptions } from '../delivery/worker.js';
import { HooklineError } from '../errors.js';
import type { WebhookRegistryOptions } from '../registry/registry.js';
import { UsageError } from './args.js';

/** What a config file's default export gives (or its function returns). */
export interface CliConfig extends Omit<WebhookRegistryOptions, 'store'> {
  /** How the worker sends (default: hookline's transport with the SSRF guard). */
  transport?: Transport;
  /** More worker options; the command's flags win over these. */
  worker?: Omit<WorkerOptions, 'clock' | 'logger'>;
}

const JS = new Set(['.js', '.mjs', '.cjs']);
const TS = new Set(['.ts', '.mts', '.cts']);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Makes `import()` of TypeScript work in this process, or throws a UsageError saying how. */
async function enableTypeScript(file: string): Promise<void> {
  // The project's tsx: found from the config's folder, else from the working directory.
  let apiPath: string | undefined;
  let require = createRequire(file);
  for (const from of [file, join(process.cwd(), 'package.json')]) {
    try {
      require = createRequire(from);
      apiPath = require.resolve('tsx/esm/api');
      break;
    } catch {
      apiPath = undefined;
    }
  }
  if (apiPath !== undefined) {
    // Its ES module build: the CommonJS one registers its hooks from a wrong relative path.
    const esm = apiPath.replace(/\.cjs$/, '.mjs');
    const api = (existsSync(esm) ? await import(pathToFileURL(esm).href) : require(apiPath)) as {
      register?: () => unknown;
    };
    if (typeof api.register === 'function') {
      api.register();
      // A .ts file in a CommonJS package (no "type": "module") loads through require(): tsx's
      // CommonJS hook handles that one.
      try {
        const cjs = require(require.resolve('tsx/cjs/api')) as { register?: () => unknown };
        cjs.register?.();
      } catch {
        // An old tsx without it: ES module configs still load.
      }
      return;
    }
  }
  const features = process.features as { typescript?: string | false };
  if (features.typescript) return;
  throw new UsageError(
    `cannot load ${file}: Node ${process.versions.node} cannot import TypeScript by itself. ` +
      'Install tsx in your project (npm install --save-dev tsx), use Node >= 22.18, or write the config in JavaScript (.js / .mjs).',
  );
}

/** Loads and checks the config file at `path` (relative to the working directory). */
export async function loadConfig(path: string): Promise<CliConfig> {
  const file = resolve(process.cwd(), path);
  const ext = extname(file).toLowerCase();
  if (!JS.has(ext) && !TS.has(ext)) {
    throw new UsageError(`--config must be a .js, .mjs, .cjs, .ts or .mts file, got "${path}".`);
  }
  if (!existsSync(file)) throw new UsageError(`--config: no such file: ${file}`);
  if (TS.has(ext)) await enableTypeScript(file);
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
  } catch (error) {
    throw new HooklineError(
      'invalid_option',
      `Could not load the config ${path}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  let config = mod.default;
  // A CommonJS config's module.exports arrives as default; a transpiled one may nest it once more.
  if (isPlainObject(config) && 'default' in config && Object.keys(config).length === 1)
    config = config.default;
  if (typeof config === 'function') config = await (config as () => unknown)();
  if (!isPlainObject(config)) {
    throw new HooklineError(
      'invalid_option',
      `The config ${path} must export default an object of registry options (or a function returning one).`,
    );
  }
  if ('store' in config) {
    throw new HooklineError(
      'invalid_option',
      `The config ${path} sets "store": the command makes the store from --database-url / DATABASE_URL; remove it.`,
    );
  }
  if (config.worker !== undefined && !isPlainObject(config.worker)) {
    throw new HooklineError(
      'invalid_option',
      `The config ${path}: "worker" must be an object of worker options.`,
    );
  }
  return config as CliConfig;
}
