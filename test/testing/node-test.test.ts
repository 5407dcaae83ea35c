import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The node:test examples of docs/testing.md, run by Node's own test runner against the source:
// `hookline` and `hookline/testing` resolve to src/ through tsx's tsconfig paths, from a copy of
// each example outside the package (so the package's own dist/ cannot answer instead).
// scripts/check-consumers.mjs runs the same files against the packed tarball.

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const examples = join(root, 'test/testing/node-test');

let dir: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hookline-node-test-'));
  const tsconfig = join(dir, 'tsconfig.json');
  await writeFile(
    tsconfig,
    JSON.stringify({
      compilerOptions: {
        paths: {
          hookline: [resolve(root, 'src/index.ts')],
          'hookline/testing': [resolve(root, 'src/testing/index.ts')],
        },
      },
    }),
  );
  // Refuses to resolve vitest for ES modules: hookline/testing must load without it.
  await writeFile(
    join(dir, 'no-vitest.mjs'),
    [
      "import { register } from 'node:module';",
      'register(',
      '  `data:text/javascript,export async function resolve(specifier, context, next) {',
      "    if (specifier === 'vitest' || specifier.startsWith('vitest/')) throw new Error('vitest was loaded');",
      '    return next(specifier, context);',
      '  }`,',
      ');',
      '',
    ].join('\n'),
  );
  env = { ...process.env, TSX_TSCONFIG_PATH: tsconfig, NODE_OPTIONS: '' };
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function nodeTest(file: string): Promise<string> {
  const copy = join(dir, file);
  await copyFile(join(examples, file), copy);
  const { stdout } = await run(
    process.execPath,
    ['--import', join(dir, 'no-vitest.mjs'), '--import', 'tsx', '--test', '--test-reporter=tap', copy],
    { cwd: root, env },
  );
  return stdout;
}

describe('hookline/testing under node:test (docs/testing.md)', () => {
  it.each(['retry.test.mjs', 'retry.test.cjs'])('%s passes', async (file) => {
    const out = await nodeTest(file);
    expect(out).toMatch(/^# pass 1$/m);
    expect(out).toMatch(/^# fail 0$/m);
  });

  it('is what docs/testing.md shows', async () => {
    const doc = await readFile(join(root, 'docs/testing.md'), 'utf8');
    const shown = doc.split('## Under `node:test`')[1]?.split('```js\n')[1]?.split('```')[0];
    const file = await readFile(join(examples, 'retry.test.mjs'), 'utf8');
    // The file's leading comment is not shown.
    expect(shown).toBe(file.slice(file.indexOf('import ')));
  });
});
