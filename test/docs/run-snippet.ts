/**
 * Runs one documentation snippet: `node --import tsx --import ./loopback-only.mjs run-snippet.ts
 * <file> <run|service>`. A `service` snippet (one that runs until it is told to stop) is sent
 * SIGTERM once its top level has finished; it must then exit with code 0 on its own, which
 * tests the shutdown code it shows.
 */
import { pathToFileURL } from 'node:url';

const [file, mode] = process.argv.slice(2);
if (file === undefined || (mode !== 'run' && mode !== 'service')) {
  throw new Error('usage: run-snippet.ts <file> <run|service>');
}
await import(pathToFileURL(file).href);
if (mode === 'service') {
  console.error('[snippet] top level finished: sending SIGTERM');
  process.kill(process.pid, 'SIGTERM');
}
