import { HooklineError } from '../../errors.js';
import { command } from '../args.js';
import { CONNECTION_OPTIONS, connect, databaseUrl } from '../connect.js';
import { err, json, out } from '../output.js';
import { progress } from '../progress.js';
import { loadEncryption, SECRET_KEYS_ENV, secretKeysFromEnv } from '../secrets.js';

/** `hookline rotate-secrets`: re-encrypts every signing secret under the newest key. */
export const rotateSecretsCommand = command({
  name: 'rotate-secrets',
  summary: `Re-encrypt every webhook's signing secrets under the newest key of $${SECRET_KEYS_ENV}.`,
  details:
    `${SECRET_KEYS_ENV} lists the keys as id:base64key, comma-separated, newest first; the newest\n` +
    'encrypts, all decrypt. Plaintext secrets and secrets under older keys are re-encrypted, in\n' +
    'batches; safe while workers run, and resumable: run it again after an interruption.',
  options: {
    ...CONNECTION_OPTIONS,
    'batch-size': { type: 'integer', description: 'Webhooks per batch', default: 200 },
    json: { type: 'boolean', description: 'Print { scanned, rotated } as JSON' },
  },
  examples: [`${SECRET_KEYS_ENV}="k2:…,k1:…" hookline rotate-secrets`],
  async run(values) {
    const keys = await secretKeysFromEnv();
    if (keys === undefined || keys.length === 0) {
      throw new HooklineError(
        'invalid_option',
        `Set ${SECRET_KEYS_ENV} (id:base64key, newest first) to rotate secrets.`,
      );
    }
    const { rotateSecrets } = await loadEncryption();
    const connection = await connect({ url: databaseUrl(values), schema: values.schema });
    const bar = progress('rotating', 0);
    const controller = new AbortController();
    const onSigint = () => {
      if (controller.signal.aborted) process.exit(130);
      err('\nhookline rotate-secrets: stopping (run it again to continue)\n');
      controller.abort();
    };
    process.on('SIGINT', onSigint);
    try {
      const result = await rotateSecrets({
        store: connection.store,
        keys,
        batchSize: values['batch-size'],
        signal: controller.signal,
        onProgress: (p: { scanned: number; rotated: number }) =>
          bar.update(p.scanned, `scanned, ${p.rotated} rotated`),
      });
      bar.finish();
      out(
        values.json
          ? json(result)
          : `rotated ${result.rotated} of ${result.scanned} webhooks${result.skipped > 0 ? `; ${result.skipped} kept changing, run again` : ''}\n`,
      );
      return 0;
    } catch (error) {
      bar.finish();
      if (controller.signal.aborted) {
        out('interrupted: nothing half-written; run it again to continue\n');
        return 130;
      }
      throw error;
    } finally {
      process.off('SIGINT', onSigint);
      await connection.close();
    }
  },
});

/** `hookline generate-secret-key`: prints a new key for `HOOKLINE_SECRET_KEYS`. */
export const generateSecretKeyCommand = command({
  name: 'generate-secret-key',
  summary: `Print a new random encryption key (base64 of 32 bytes) for ${SECRET_KEYS_ENV}.`,
  details: `Put it first in ${SECRET_KEYS_ENV} as <id>:<key>, keep the older keys after it, then run rotate-secrets.`,
  options: {
    id: { type: 'string', value: '<id>', description: 'Print as <id>:<key>, ready for the list' },
  },
  examples: ['hookline generate-secret-key --id k2'],
  async run(values) {
    const { generateSecretKey } = await loadEncryption();
    const key = generateSecretKey();
    out(`${values.id === undefined ? '' : `${values.id}:`}${key}\n`);
    return 0;
  },
});
