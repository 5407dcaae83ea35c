/**
 * The machinery of `snippets.test.ts`: find the TypeScript blocks of README.md and docs/*.md,
 * write each as a module into a scratch project whose `hookline` imports resolve to `src/`,
 * type-check them in one TypeScript program per module resolution, and run the runnable ones
 * in child processes that may reach loopback only. The convention is described in
 * CONTRIBUTING.md ("Code blocks in the documentation").
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';

export const ROOT = resolve(import.meta.dirname, '../..');

/** How a snippet is tested. */
export type SnippetMode = 'run' | 'service' | 'fragment';
export const MODES: readonly SnippetMode[] = ['run', 'service', 'fragment'];

export interface Snippet {
  /** `README.md`, `docs/http.md`, ... */
  file: string;
  /** 1-based line of the first code line in `file`. */
  line: number;
  /** `README.md:123`. */
  where: string;
  /** A file name for the scratch project: `README-3`, `docs-http-2`. */
  id: string;
  mode: SnippetMode;
  /** Needs a PostgreSQL server: run with `DATABASE_URL` set to a fresh database. */
  postgres: boolean;
  /** Hidden lines from the marker comment, put before the code (declarations, imports). */
  prelude: string[];
  code: string[];
}

/** The documentation files whose blocks are tested: README.md and docs/*.md. */
export async function documentationFiles(): Promise<string[]> {
  const docs = (await readdir(join(ROOT, 'docs'))).filter((name) => name.endsWith('.md')).sort();
  return ['README.md', ...docs.map((name) => `docs/${name}`)];
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([\w+-]*)/;
const TS_LANGUAGES = new Set(['ts', 'typescript', 'mts']);
const MARKER = /^\s*<!--\s*snippet:\s*([^\n]*?)\s*(?:-->\s*)?$/;

/** Every TypeScript block of one Markdown text, with its marker. Throws on a malformed marker. */
export function extractSnippets(file: string, text: string): Snippet[] {
  const lines = text.split('\n');
  const snippets: Snippet[] = [];
  let count = 0;
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i] ?? '');
    if (!open) continue;
    const [, indent = '', fence = '```', language = ''] = open;
    let end = i + 1;
    while (end < lines.length && !(lines[end] ?? '').trimStart().startsWith(fence)) end++;
    if (TS_LANGUAGES.has(language.toLowerCase())) {
      count++;
      const code = lines.slice(i + 1, end).map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l));
      const marker = markerBefore(lines, i, `${file}:${i + 1}`);
      snippets.push({
        file,
        line: i + 2,
        where: `${file}:${i + 2}`,
        id: `${file.replace(/\.md$/, '').replace(/[^\w]+/g, '-')}-${count}`,
        ...marker,
        code,
      });
    }
    i = end;
  }
  return snippets;
}

/** The `<!-- snippet: ... -->` comment right before the fence at `fenceIndex` (blank lines allowed). */
function markerBefore(
  lines: string[],
  fenceIndex: number,
  where: string,
): Pick<Snippet, 'mode' | 'postgres' | 'prelude'> {
  let last = fenceIndex - 1;
  while (last >= 0 && (lines[last] ?? '').trim() === '') last--;
  if (last < 0 || !(lines[last] ?? '').trimEnd().endsWith('-->'))
    return { mode: 'run', postgres: false, prelude: [] };
  let first = last;
  while (first >= 0 && !(lines[first] ?? '').includes('<!--')) first--;
  const head = MARKER.exec(lines[first] ?? '');
  if (!head) return { mode: 'run', postgres: false, prelude: [] };
  const words = (head[1] ?? '').split(/\s+/).filter(Boolean);
  const mode = words.find((w): w is SnippetMode => (MODES as readonly string[]).includes(w)) ?? 'run';
  const unknown = words.filter((w) => w !== 'postgres' && !(MODES as readonly string[]).includes(w));
  if (unknown.length > 0 || words.filter((w) => w !== 'postgres').length > 1) {
    throw new Error(
      `${where}: bad snippet marker "${lines[first]?.trim()}": say one of ${MODES.join(', ')}, optionally with "postgres"`,
    );
  }
  const prelude = first === last ? [] : lines.slice(first + 1, last);
  const closing = (lines[last] ?? '').replace(/-->\s*$/, '');
  if (first !== last && closing.trim() !== '') prelude.push(closing);
  return { mode, postgres: words.includes('postgres'), prelude };
}

/** Every snippet of every documentation file. */
export async function allSnippets(): Promise<Snippet[]> {
  const all: Snippet[] = [];
  for (const file of await documentationFiles()) {
    all.push(...extractSnippets(file, await readFile(join(ROOT, file), 'utf8')));
  }
  return all;
}

/** The package's entry points, mapped to their sources (checked against package.json). */
export const ENTRY_POINTS: Readonly<Record<string, string>> = {
  hookline: 'src/index.ts',
  'hookline/http': 'src/http/index.ts',
  'hookline/postgres': 'src/stores/postgres/index.ts',
  'hookline/testing': 'src/testing/index.ts',
  'hookline/testing/conformance': 'src/testing/conformance-index.ts',
  'hookline/ui': 'src/ui/index.ts',
};

/** The module resolutions every snippet must type-check under. */
export const RESOLUTIONS = {
  node16: { module: 'node16', moduleResolution: 'node16' },
  bundler: { module: 'esnext', moduleResolution: 'bundler' },
} as const;
export type Resolution = keyof typeof RESOLUTIONS;

export interface ScratchProject {
  dir: string;
  /** The snippet's module file. */
  fileOf(snippet: Snippet): string;
  tsconfig(resolution: Resolution): string;
  remove(): Promise<void>;
}

/** The text of a snippet's module: prelude, code, and `export {}` so that it is a module. */
export function moduleText(snippet: Snippet): string {
  return [...snippet.prelude, ...snippet.code, 'export {};', ''].join('\n');
}

/**
 * A scratch project in the OS temp directory: `node_modules` links to the repository's, `paths`
 * map the `hookline` entry points to `src/`, and one module per snippet.
 */
export async function writeScratchProject(snippets: readonly Snippet[]): Promise<ScratchProject> {
  const dir = await mkdtemp(join(tmpdir(), 'hookline-snippets-'));
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  await writeFile(
    join(dir, 'package.json'),
    `${JSON.stringify({ name: 'hookline-doc-snippets', private: true, type: 'module' }, null, 2)}\n`,
  );
  const paths = Object.fromEntries(
    Object.entries(ENTRY_POINTS).map(([name, src]) => [name, [join(ROOT, src)]]),
  );
  const base = {
    compilerOptions: {
      target: 'ES2022',
      lib: ['ES2023'],
      types: ['node'],
      strict: true,
      noUncheckedIndexedAccess: true,
      exactOptionalPropertyTypes: true,
      verbatimModuleSyntax: true,
      esModuleInterop: true,
      skipLibCheck: true,
      noEmit: true,
      ...RESOLUTIONS.bundler,
      paths,
    },
    include: ['snippets'],
  };
  await writeFile(join(dir, 'tsconfig.json'), `${JSON.stringify(base, null, 2)}\n`);
  for (const [resolution, options] of Object.entries(RESOLUTIONS)) {
    await writeFile(
      join(dir, `tsconfig.${resolution}.json`),
      `${JSON.stringify({ extends: './tsconfig.json', compilerOptions: options }, null, 2)}\n`,
    );
  }
  await mkdir(join(dir, 'snippets'));
  const fileOf = (snippet: Snippet) => join(dir, 'snippets', `${snippet.id}.ts`);
  for (const snippet of snippets) await writeFile(fileOf(snippet), moduleText(snippet));
  return {
    dir,
    fileOf,
    tsconfig: (resolution) => join(dir, `tsconfig.${resolution}.json`),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/**
 * Type-checks every snippet in one program and returns the errors, each located in its
 * Markdown file (`README.md:123: TS2304 Cannot find name 'x'.`). Errors in `src/` (the program
 * includes it through `paths`) are reported by their source location.
 */
export function typeCheck(
  project: ScratchProject,
  snippets: readonly Snippet[],
  resolution: Resolution,
): string[] {
  const parsed = ts.getParsedCommandLineOfConfigFile(project.tsconfig(resolution), undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  });
  if (!parsed) throw new Error(`cannot read ${project.tsconfig(resolution)}`);
  const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options });
  const byFile = new Map(snippets.map((s) => [resolve(project.fileOf(s)), s]));
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const message = `TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    if (!d.file || d.start === undefined) return message;
    const { line } = d.file.getLineAndCharacterOfPosition(d.start);
    const snippet = byFile.get(resolve(d.file.fileName));
    if (!snippet) return `${relative(ROOT, d.file.fileName)}:${line + 1}: ${message}`;
    const where =
      line < snippet.prelude.length
        ? `${snippet.where} (prelude line ${line + 1})`
        : `${snippet.file}:${snippet.line + line - snippet.prelude.length}`;
    return `${where}: ${message}`;
  });
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  timedOut: boolean;
}

/**
 * Runs a snippet with tsx in a child process (cwd: a directory of its own in the scratch
 * project), network limited to loopback by `loopback-only.mjs`. `env` is added to the
 * environment. Kills it after `timeoutMs`.
 */
export async function runSnippet(
  project: ScratchProject,
  snippet: Snippet,
  options: { env?: Record<string, string>; timeoutMs: number },
): Promise<RunResult> {
  if (snippet.mode === 'fragment') throw new Error(`${snippet.where} is a fragment`);
  const cwd = join(project.dir, 'work', snippet.id);
  await mkdir(cwd, { recursive: true });
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--import',
      join(import.meta.dirname, 'loopback-only.mjs'),
      join(import.meta.dirname, 'run-snippet.ts'),
      project.fileOf(snippet),
      snippet.mode,
    ],
    {
      cwd,
      env: {
        ...process.env,
        TSX_TSCONFIG_PATH: join(project.dir, 'tsconfig.json'),
        // A snippet that listens on `process.env.PORT ?? 3000` gets a free port instead.
        PORT: '0',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, options.timeoutMs);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((done, fail) => {
    child.on('error', fail);
    child.on('close', (c, s) => done([c, s]));
  });
  clearTimeout(timer);
  return { code, signal, output, timedOut };
}

/** Runs `tasks` with at most `limit` at a time. */
export function limiter(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    while (active >= limit) await new Promise<void>((go) => waiting.push(go));
    active++;
    try {
      return await task();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}
