/**
 * The cost of ordered delivery for unordered webhooks: bench/ordering's `unordered` case on
 * this tree and on another checkout (the code before the feature), alternating, in separate
 * processes, and the medians.
 *
 *   git worktree add /tmp/ord-old 5533c93 && ln -s "$PWD/node_modules" /tmp/ord-old/node_modules
 *   npx tsx bench/ordering/compare.ts --old=/tmp/ord-old [--pairs=3] [--quick]
 *
 * bench/ordering/index.ts is copied into the other checkout (it needs nothing there but
 * bench/postgres and src/), so both sides run the same bench against their own src/ and
 * worker processes. Pair i runs this tree first when i is even, the other first when odd.
 * Prints every run, each pair's ratio and their median, and the two medians and their ratio.
 * Each run is `index.ts --cases=unordered --rounds=1 --json` (its own warm-up included).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const option = (name: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? undefined;
const old = option('old');
if (!old) {
  console.error(
    'usage: compare.ts --old=<checkout of the code before ordered delivery> [--pairs=3] [--quick]',
  );
  process.exit(2);
}
const pairs = Number(option('pairs') ?? 3);
const quick = process.argv.includes('--quick');
const here = fileURLToPath(new URL('../../', import.meta.url));
mkdirSync(join(old, 'bench/ordering'), { recursive: true });
copyFileSync(join(here, 'bench/ordering/index.ts'), join(old, 'bench/ordering/index.ts'));

interface Figures {
  perSecond: number;
  serverMs: number;
  workerMs: number;
}

function run(tree: string): Figures {
  const result = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      join(tree, 'bench/ordering/index.ts'),
      '--cases=unordered',
      '--rounds=1',
      '--json',
      ...(quick ? ['--quick'] : []),
    ],
    { cwd: tree, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  if (result.status !== 0) throw new Error(`bench in ${tree} failed (${result.status})`);
  const last = result.stdout.trim().split('\n').at(-1) ?? '';
  const parsed = JSON.parse(last) as { runs: { unordered: Figures[] } };
  return parsed.runs.unordered[0]!;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const fmt = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 0 });

const currentRuns: Figures[] = [];
const beforeRuns: Figures[] = [];
for (let i = 0; i < pairs; i++) {
  const order = i % 2 === 0 ? (['new', 'old'] as const) : (['old', 'new'] as const);
  for (const side of order) {
    const figures = run(side === 'new' ? here : old);
    (side === 'new' ? currentRuns : beforeRuns).push(figures);
    console.log(
      `pair ${i + 1} ${side}: ${fmt(figures.perSecond)} deliveries/s, CPU per delivery: ` +
        `PostgreSQL ${figures.serverMs.toFixed(3)} ms, workers ${figures.workerMs.toFixed(3)} ms`,
    );
  }
}
const current = currentRuns.map((r) => r.perSecond);
const before = beforeRuns.map((r) => r.perSecond);
const a = median(current);
const b = median(before);
const spread = (list: number[]) =>
  `${(((Math.max(...list) - Math.min(...list)) / median(list)) * 100).toFixed(1)} %`;
// Each pair ran back to back, so its ratio is less exposed to the machine's drift than the medians.
const ratios = current.map((rate, i) => rate / before[i]!);
console.log(`pair ratios (this tree / other): ${ratios.map((r) => `${(r * 100).toFixed(1)} %`).join(', ')}`);
console.log(`median pair ratio: ${(median(ratios) * 100).toFixed(1)} %`);
console.log(
  `unordered, median of ${pairs}: this tree ${fmt(a)} /s (${current.map(fmt).join(' / ')}, spread ${spread(current)}); ` +
    `${old} ${fmt(b)} /s (${before.map(fmt).join(' / ')}, spread ${spread(before)}); ` +
    `ratio ${((a / b) * 100).toFixed(1)} % (target >= 97 %)`,
);
for (const [label, key] of [
  ['PostgreSQL', 'serverMs'],
  ['workers', 'workerMs'],
] as const) {
  const x = median(currentRuns.map((r) => r[key]));
  const y = median(beforeRuns.map((r) => r[key]));
  console.log(
    `${label} CPU per delivery, median: this tree ${x.toFixed(3)} ms, ${old} ${y.toFixed(3)} ms: ` +
      `${((x / y) * 100).toFixed(1)} % of before`,
  );
}
