import { ValidationError, type ValidationIssue } from '../errors.js';
import type { Notification } from '../model.js';
import { notificationSchema } from '../model.js';
import { parseOrThrow } from './validation.js';

/** Default limit of a notification's `data`, serialized as JSON (1 MiB). */
export const DEFAULT_MAX_NOTIFICATION_BYTES = 1024 * 1024;

/** A notification after validation: `data` is plain JSON, `event` is a string or null. */
export interface ParsedNotification {
  id: string | undefined;
  scope: string;
  type: string;
  event: string | null;
  data: Record<string, unknown>;
  occurredAt: Date | undefined;
}

/** What the walk over `data` found: issues, and whether any value converts itself with `toJSON`. */
interface Walk {
  issues: ValidationIssue[];
  converts: boolean;
}

function jsonIssues(value: unknown, path: (string | number)[], seen: Set<object>, walk: Walk): void {
  const out = walk.issues;
  if (out.length >= 10) return;
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return;
    case 'number':
      if (!Number.isFinite(value)) out.push({ path, code: 'not_json', message: 'Numbers must be finite.' });
      return;
    case 'bigint':
    case 'function':
    case 'symbol':
      out.push({ path, code: 'not_json', message: `A ${typeof value} cannot be sent as JSON.` });
      return;
  }
  if (value === null) return;
  const object = value as object;
  if (seen.has(object)) {
    out.push({ path, code: 'not_json', message: 'The data contains a cycle.' });
    return;
  }
  if (typeof (object as { toJSON?: unknown }).toJSON === 'function') {
    walk.converts = true;
    return;
  }
  seen.add(object);
  if (Array.isArray(object)) {
    for (const [i, item] of object.entries()) jsonIssues(item, [...path, i], seen, walk);
  } else {
    const proto = Object.getPrototypeOf(object);
    if (proto !== Object.prototype && proto !== null) {
      out.push({
        path,
        code: 'not_json',
        message: 'Only plain objects, arrays and JSON values can be sent.',
      });
    } else {
      for (const [key, item] of Object.entries(object)) jsonIssues(item, [...path, key], seen, walk);
    }
  }
  seen.delete(object);
}

/**
 * Validates a notification for `emit()` and `match()`: scope, type (no wildcards), event, and
 * `data` that is plain JSON (no functions, BigInt, symbols, cycles, class instances or
 * non-finite numbers; objects with `toJSON`, such as `Date`, are converted) within
 * `maxBytes` when serialized. When `data` holds values with `toJSON`, the result's `data` is
 * their JSON form.
 */
export function parseNotification(
  input: Notification,
  maxBytes = DEFAULT_MAX_NOTIFICATION_BYTES,
): ParsedNotification {
  const walk: Walk = { issues: [], converts: false };
  // Check the caller's own object (zod copies the top level, which would hide a cycle's start).
  const rawData =
    typeof input === 'object' && input !== null ? (input as { data?: unknown }).data : undefined;
  if (typeof rawData === 'object' && rawData !== null) jsonIssues(rawData, ['data'], new Set(), walk);
  if (walk.issues.length > 0) throw new ValidationError(walk.issues);
  const parsed = parseOrThrow(notificationSchema, input);
  const text = JSON.stringify(parsed.data);
  if (Buffer.byteLength(text, 'utf8') > maxBytes) {
    throw new ValidationError([
      {
        path: ['data'],
        code: 'too_large',
        message: `The notification data is larger than ${maxBytes} bytes as JSON.`,
      },
    ]);
  }
  return {
    id: parsed.id,
    scope: parsed.scope,
    type: parsed.type,
    event: parsed.event ?? null,
    // Values with toJSON (Dates, ...) are converted the way they will be sent; plain data is used as is.
    data: walk.converts ? (JSON.parse(text) as Record<string, unknown>) : parsed.data,
    occurredAt: parsed.occurredAt,
  };
}
