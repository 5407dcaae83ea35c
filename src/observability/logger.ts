/**
 * The `logger` option: where hookline writes its lifecycle lines and the errors nobody listens
 * to. The shape is pino's and the console's.
 *
 * @module
 */
import { invalidOption } from '../errors.js';

/**
 * A logger in pino's shape (and the console's): four levels, each called with a structured
 * object first and a message second. A pino logger, `console`, or four functions of your own.
 *
 * What hookline writes:
 * - `error`: worker errors that no `error` listener hears (without a logger, these go to
 *   `console.error`, as before), and the HTTP handlers' unexpected errors when the handler has
 *   no `onError` of its own;
 * - `warn`: the store became unreachable (claims failing), the store's wake-ups were lost, a
 *   webhook was disabled;
 * - `info`: a worker started or stopped, the store is reachable again, wake-ups restored;
 * - `debug`: worker errors that an `error` listener also heard.
 *
 * Without a logger hookline writes nothing except the unheard errors, as it always did.
 *
 * @example
 * ```ts
 * import pino from 'pino';
 * const registry = new WebhookRegistry({ logger: pino() });
 * // or: new WebhookRegistry({ logger: console })
 * ```
 */
export interface Logger {
  /** Worker errors that an `error` listener also heard. */
  debug(fields: Record<string, unknown>, message: string): void;
  /** Worker started or stopped, store reachable again, wake-ups restored, a manual disable. */
  info(fields: Record<string, unknown>, message: string): void;
  /** Store unreachable, wake-ups lost, a webhook disabled for a 410 or for failing. */
  warn(fields: Record<string, unknown>, message: string): void;
  /** Errors nobody listens to: the worker's, and the HTTP handlers' unexpected ones. */
  error(fields: Record<string, unknown>, message: string): void;
}

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/**
 * Throws `invalid_option` unless `logger` is undefined or has the four level functions.
 * Checked when the option is given, so a typo fails at startup rather than at the first error.
 */
export function checkLogger(where: string, logger: unknown): asserts logger is Logger | undefined {
  if (logger === undefined) return;
  const ok =
    typeof logger === 'object' &&
    logger !== null &&
    LEVELS.every((level) => typeof (logger as Record<string, unknown>)[level] === 'function');
  if (!ok) {
    throw invalidOption(
      where,
      'logger',
      'an object with debug, info, warn and error functions (pino, console, or your own)',
      logger,
    );
  }
}

/**
 * Calls `logger[level]` and swallows what it throws: a failing logger must not break a
 * delivery or a worker loop.
 */
export function log(
  logger: Logger | undefined,
  level: (typeof LEVELS)[number],
  fields: Record<string, unknown>,
  message: string,
): void {
  if (logger === undefined) return;
  try {
    logger[level](fields, message);
  } catch {
    // A logger that throws is the host's to fix; hookline carries on.
  }
}
