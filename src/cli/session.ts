/**
 * What most commands do first: open the store from the connection options, make a registry on
 * it, and close everything afterwards.
 *
 * @module
 */
import { WebhookRegistry, type WebhookRegistryOptions } from '../registry/registry.js';
import { type Connection, connect, databaseUrl } from './connect.js';
import { secretKeysFromEnv } from './secrets.js';

/** The connection options' values. */
export interface ConnectionValues {
  'database-url'?: string;
  schema: string;
}

/**
 * Runs `fn` with a connection and a registry on its store (secret keys from
 * `HOOKLINE_SECRET_KEYS` unless `options` has them), then closes the connection.
 */
export async function withRegistry<T>(
  values: ConnectionValues,
  fn: (registry: WebhookRegistry, connection: Connection) => Promise<T>,
  options: Omit<WebhookRegistryOptions, 'store'> = {},
): Promise<T> {
  const connection = await connect({ url: databaseUrl(values), schema: values.schema });
  try {
    const registry = new WebhookRegistry(await registryOptions(connection, options));
    return await fn(registry, connection);
  } finally {
    await connection.close();
  }
}

/** The registry options on a connection's store: `options`, plus secret keys from the environment when it has none. */
export async function registryOptions(
  connection: Connection,
  options: Omit<WebhookRegistryOptions, 'store'>,
): Promise<WebhookRegistryOptions> {
  const merged: Record<string, unknown> = { ...options, store: connection.store };
  if (merged.secretKeys === undefined) {
    const keys = await secretKeysFromEnv();
    if (keys !== undefined) merged.secretKeys = keys;
  }
  return merged as WebhookRegistryOptions;
}
