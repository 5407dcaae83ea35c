/**
 * The types and input checks of `registry.emitMany()`: several notifications emitted in one
 * transaction with one wake-up.
 *
 * @module
 */
import { ValidationError, type ValidationIssue } from '../errors.js';
import type { Notification } from '../model.js';
import { type ParsedNotification, parseNotification } from './notification.js';

/**
 * Options of `registry.emitMany()`.
 *
 * @example
 * ```ts
 * const options: EmitManyOptions = { tx: client }; // a pg client inside BEGIN
 * ```
 */
export interface EmitManyOptions {
  /**
   * The host's open database transaction, as for `emit()`: every notification is stored if and
   * only if the host's change commits, and the PostgreSQL store's wake-up goes out with that
   * commit. Default: none; the store runs the batch in a transaction of its own.
   */
  tx?: unknown;
}

/**
 * Parses every notification of an `emitMany()` batch as `emit()` would; one `ValidationError`
 * with the issues of all of them, each path starting with the notification's index (e.g.
 * `[2, 'data', 'items', 0, 'name']`), or `[]` with code `not_array` when `notifications` is not an
 * array. Nothing is stored when any is invalid.
 *
 * @example
 * ```ts
 * parseNotifications([{ scope: 'acme', type: 'order.paid', data: {} }], 1024 * 1024); // [parsed]
 * ```
 */
export function parseNotifications(notifications: unknown, maxBytes: number): ParsedNotification[] {
  if (!Array.isArray(notifications)) {
    throw new ValidationError([
      { path: [], code: 'not_array', message: 'emitMany() takes an array of notifications.' },
    ]);
  }
  const parsed: ParsedNotification[] = [];
  const issues: ValidationIssue[] = [];
  notifications.forEach((notification: unknown, i) => {
    try {
      parsed.push(parseNotification(notification as Notification, maxBytes));
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      for (const issue of error.issues) issues.push({ ...issue, path: [i, ...issue.path] });
    }
  });
  if (issues.length > 0) throw new ValidationError(issues);
  return parsed;
}
