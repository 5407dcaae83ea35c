/**
 * Every TypeScript block in README.md and docs/*.md is a test: it must type-check (strict, with
 * `node16` and with `bundler` module resolution, `hookline` imports resolved to `src/`), and a
 * block that is not marked as a fragment must run: with tsx, network limited to loopback, and
 * exit 0 on its own (`service` blocks after a SIGTERM). The convention (markers, preludes) is
 * in CONTRIBUTING.md, "Code blocks in the documentation".
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeServer } from '../postgres/helpers.js';
import {
  allSnippets,
  ENTRY_POINTS,
  extractSnippets,
  limiter,
  RESOLUTIONS,
  type Resolution,
  ROOT,
  runSnippet,
  type ScratchProject,
  type Snippet,
  typeCheck,
  writeScratchProject,
} from './snippets.js';

const snippets = await allSnippets();
const runnable = snippets.filter((s) => s.mode !== 'fragment');
/** Each run starts a Node process with tsx (and some of them PGlite): two at a time. */
const limit = limiter(2);
/** A snippet that has not exited by then is killed (something keeps its process alive). */
const RUN_TIMEOUT_MS = 90_000;
/** A test's time includes waiting for its turn behind the other runs. */
const TEST_TIMEOUT_MS = 600_000;

let project: ScratchProject | undefined;
beforeAll(async () => {
  project = await writeScratchProject(snippets);
});
afterAll(async () => {
  await project?.remove();
});

function scratch(): ScratchProject {
  if (!project) throw new Error('the scratch project was not written');
  return project;
}

describe('the snippet convention', () => {
  it('finds blocks, markers and preludes', () => {
    const md = [
      'text',
      '```ts',
      "console.log('runs');",
      '```',
      '<!-- snippet: fragment -->',
      '```ts',
      'registry;',
      '```',
      '<!-- snippet: service postgres',
      "import type { WebhookRegistry } from 'hookline';",
      'declare const registry: WebhookRegistry; -->',
      '',
      '```typescript',
      'registry.worker().start();',
      '```',
      '```sh',
      '```ts inside a shell block is not a block',
      '```',
    ].join('\n');
    const found = extractSnippets('x.md', md);
    expect(found.map((s) => [s.where, s.id, s.mode, s.postgres, s.prelude.length, s.code])).toEqual([
      ['x.md:3', 'x-1', 'run', false, 0, ["console.log('runs');"]],
      ['x.md:7', 'x-2', 'fragment', false, 0, ['registry;']],
      ['x.md:14', 'x-3', 'service', true, 2, ['registry.worker().start();']],
    ]);
    expect(found[2]?.prelude).toEqual([
      "import type { WebhookRegistry } from 'hookline';",
      'declare const registry: WebhookRegistry; ',
    ]);
    expect(() => extractSnippets('y.md', '<!-- snippet: fragmnet -->\n```ts\nx;\n```\n')).toThrow(
      /y\.md:2: bad snippet marker/,
    );
  });

  it('maps every entry point of package.json to its source', async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
      exports: Record<string, unknown>;
    };
    const subpaths = Object.keys(pkg.exports)
      .filter((k) => k !== './package.json')
      .map((k) => (k === '.' ? 'hookline' : `hookline/${k.slice(2)}`));
    expect(Object.keys(ENTRY_POINTS).sort()).toEqual(subpaths.sort());
  });

  it(
    'runs a block with loopback only, and a service until SIGTERM',
    async () => {
      const md = [
        '```ts',
        "import assert from 'node:assert/strict';",
        "import { once } from 'node:events';",
        "import { createServer } from 'node:http';",
        "import { lookup } from 'node:dns/promises';",
        "import type { AddressInfo } from 'node:net';",
        "import { deliver } from 'hookline';",
        'const refused = /may only reach loopback/;',
        "await assert.rejects(fetch('http://192.0.2.1/'), (e: Error) => refused.test(String(e.cause)));",
        "await assert.rejects(lookup('example.com'), refused);",
        "const result = await deliver({ id: 'd1', url: 'https://example.com/', method: 'POST', headers: {}, body: '' });",
        'assert.match(result.error?.message ?? String(result.status), refused);',
        "const server = createServer((_req, res) => res.end('ok')).listen(0, '127.0.0.1');",
        "await once(server, 'listening');",
        'const { port } = server.address() as AddressInfo;',
        "assert.equal(await (await fetch('http://127.0.0.1:' + port + '/')).text(), 'ok');",
        "assert.equal(await (await fetch('http://localhost:' + port + '/')).text(), 'ok');",
        'server.close();',
        '```',
        '<!-- snippet: service -->',
        '```ts',
        "console.log('no SIGTERM handler');",
        '```',
      ].join('\n');
      const [guarded, service] = extractSnippets('guard.md', md);
      if (!guarded || !service) throw new Error('two blocks expected');
      const scratchProject = await writeScratchProject([guarded, service]);
      try {
        const runs = await Promise.all(
          [guarded, service].map((s) =>
            limit(() => runSnippet(scratchProject, s, { timeoutMs: RUN_TIMEOUT_MS })),
          ),
        );
        expect(runs[0], runs[0]?.output).toMatchObject({ code: 0, signal: null });
        expect(runs[1], runs[1]?.output).toMatchObject({ code: null, signal: 'SIGTERM' });
      } finally {
        await scratchProject.remove();
      }
    },
    TEST_TIMEOUT_MS,
  );

  it('the documentation has blocks to test', () => {
    expect(snippets.length).toBeGreaterThan(20);
    expect(runnable.length).toBeGreaterThan(5);
    // Those marked `postgres` run in their own block below, against the real server.
    expect(runnable.filter((s) => s.postgres).length).toBeGreaterThan(0);
  });
});

describe.each(Object.keys(RESOLUTIONS) as Resolution[])(
  'documentation snippets, %s resolution',
  (resolution) => {
    it(
      'every block type-checks under strict',
      () => {
        const errors = typeCheck(scratch(), snippets, resolution);
        expect(errors, errors.join('\n')).toEqual([]);
      },
      TEST_TIMEOUT_MS,
    );
  },
);

async function expectRuns(snippet: Snippet, env: Record<string, string> = {}): Promise<void> {
  const result = await limit(() => runSnippet(scratch(), snippet, { env, timeoutMs: RUN_TIMEOUT_MS }));
  const what =
    snippet.mode === 'service'
      ? `${snippet.where} should exit 0 on its own after SIGTERM`
      : `${snippet.where} should exit 0 on its own`;
  const how = result.timedOut
    ? `still running after ${RUN_TIMEOUT_MS} ms (something keeps the process alive)`
    : `exit code ${result.code}, signal ${result.signal}`;
  expect({ code: result.code, signal: result.signal }, `${what}; ${how}. Output:\n${result.output}`).toEqual({
    code: 0,
    signal: null,
  });
}

const local = runnable.filter((s) => !s.postgres);
describe.concurrent('documentation snippets run', () => {
  it.each(local.map((s) => [s.where, s] as const))(
    '%s',
    (_where, snippet) => expectRuns(snippet),
    TEST_TIMEOUT_MS,
  );
});

const needsServer = runnable.filter((s) => s.postgres);
describeServer('documentation snippets run on PostgreSQL', () => {
  const database = `hookline_snippets_${process.pid}_${randomBytes(3).toString('hex')}`;
  const server = () => new URL(process.env.HOOKLINE_TEST_DATABASE_URL ?? '');
  const admin = () => new pg.Pool({ connectionString: server().href, max: 1 });
  beforeAll(async () => {
    const pool = admin();
    await pool.query(`CREATE DATABASE "${database}"`);
    await pool.end();
  });
  afterAll(async () => {
    const pool = admin();
    await pool.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await pool.end();
  });
  it.each(needsServer.map((s) => [s.where, s] as const))(
    '%s',
    async (_where, snippet) => {
      const target = server();
      target.pathname = `/${database}`;
      await expectRuns(snippet, { DATABASE_URL: target.href });
    },
    TEST_TIMEOUT_MS,
  );
});
