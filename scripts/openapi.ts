/**
 * Writes the OpenAPI 3.1 documents of both dialects to docs/openapi/.
 * Run: `npx tsx scripts/openapi.ts` (the test suite checks the files are current).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pretixOpenApi, talerOpenApi } from '../src/http/index.js';

/** The committed documents: file name → content. */
export function openApiFiles(): Record<string, string> {
  return {
    'pretix.json': `${JSON.stringify(pretixOpenApi(), null, 2)}\n`,
    'taler.json': `${JSON.stringify(talerOpenApi(), null, 2)}\n`,
  };
}

export const OPENAPI_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'openapi');

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  mkdirSync(OPENAPI_DIR, { recursive: true });
  for (const [name, text] of Object.entries(openApiFiles())) {
    writeFileSync(join(OPENAPI_DIR, name), text);
    console.log(`wrote docs/openapi/${name}`);
  }
}
