/**
 * `npm run bench [-- --quick] [-- name...]`: runs every benchmark under bench/ (or the named
 * ones) one after another, each in its own process, and prints their reports. Benchmarks are
 * never part of `npm test`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const args = process.argv.slice(2);
const flags = args.filter((a) => a.startsWith('--'));
const wanted = args.filter((a) => !a.startsWith('--'));
const all = readdirSync(here, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(`${here}${d.name}/index.ts`))
  .map((d) => d.name)
  .sort();
const names = wanted.length > 0 ? wanted : all;
let failed = 0;
for (const name of names) {
  if (!all.includes(name)) {
    console.error(`unknown benchmark ${name}; have: ${all.join(', ')}`);
    process.exit(2);
  }
  console.log(`\n### bench/${name}\n`);
  const result = spawnSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', `${here}${name}/index.ts`, ...flags],
    {
      stdio: 'inherit',
    },
  );
  if (result.status !== 0) failed++;
}
process.exit(failed > 0 ? 1 : 0);
