/**
 * Secret keys for signing secrets encrypted at rest: from the config's `secretKeys` or the
 * environment variable `HOOKLINE_SECRET_KEYS` (`id:base64key,…`, newest first). The keys are
 * registered as secrets of the output, so no line the program writes can show them.
 *
 * @module
 */
import type { SecretKey } from '../stores/encrypted.js';
import { addSecret } from './output.js';

/**
 * The encryption module, loaded when a command needs it (the commands that never touch secrets
 * do not load it).
 */
export function loadEncryption(): Promise<typeof import('../stores/encrypted.js')> {
  return import('../stores/encrypted.js');
}

/** The environment variable holding the keys. */
export const SECRET_KEYS_ENV = 'HOOKLINE_SECRET_KEYS';

/** Registers every part of `text` that could be key material as a secret of the output. */
function hide(text: string): void {
  for (const part of text.split(/[,\s]+/)) {
    addSecret(part);
    const colon = part.indexOf(':');
    if (colon >= 0) addSecret(part.slice(colon + 1));
  }
}

/** The keys in `HOOKLINE_SECRET_KEYS`, or undefined when it is unset or empty. */
export async function secretKeysFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): Promise<SecretKey[] | undefined> {
  const text = env[SECRET_KEYS_ENV];
  if (text === undefined || text.trim() === '') return undefined;
  hide(text);
  const { parseSecretKeys } = await loadEncryption();
  return parseSecretKeys(text);
}
