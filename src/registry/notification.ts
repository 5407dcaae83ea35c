import { ValidationError, type ValidationIssue } from '../errors.js';
import {
  CONTROL_CHARS,
  hasNullCharacter,
  MAX_NAME_LENGTH,
  type Notification,
  NULL_CHARACTER_CODE,
  NULL_CHARACTER_MESSAGE,
  notificationSchema,
} from '../model.js';
import { parseOrThrow } from './validation.js';

/** Default limit of a notification's `data`, serialized as JSON (1 MiB). */
export const DEFAULT_MAX_NOTIFICATION_BYTES = 1024 * 1024;

/**
 * Deepest nesting of objects and arrays in a notification's `data` (the `data` object itself
 * is level 1): 256. Deeper data is refused with issue code `too_deep`, so that no walk over it
 * (validation, JSON serialization, rendering) can exhaust the call stack.
 *
 * @example
 * ```ts
 * await registry.emit({ scope: 'acme', type: 'x', data: { a: deeplyNested } }); // ValidationError, code too_deep
 * ```
 */
export const MAX_DATA_DEPTH = 256;

/** A notification after validation: `data` is plain JSON, `event` is a string or null. */
export interface ParsedNotification {
  id: string | undefined;
  scope: string;
  type: string;
  event: string | null;
  data: Record<string, unknown>;
  occurredAt: Date | undefined;
  /** The line key for ordered webhooks (`null` when none was given). */
  orderingKey: string | null;
}

/** What the walk over `data` found: issues, values that convert themselves, a size bound. */
interface Walk {
  issues: ValidationIssue[];
  /** Some value has `toJSON` (a Date, ...): its JSON form is only known after stringifying. */
  converts: boolean;
  /** An upper bound of the UTF-8 JSON size (each UTF-16 unit counted as a 6-byte escape). */
  maxBytes: number;
  /** The path of the value being walked (copied only when an issue is reported). */
  path: (string | number)[];
  seen: Set<object>;
}

function report(walk: Walk, message: string, code = 'not_json'): void {
  walk.issues.push({ path: [...walk.path], code, message });
}

/**
 * Walks `data` depth first, recursing at most {@link MAX_DATA_DEPTH} levels: a deeper container
 * is reported before it is entered, so deep input never overflows the stack.
 */
function walkJson(value: unknown, walk: Walk): void {
  if (walk.issues.length >= 10) return;
  switch (typeof value) {
    case 'string':
      walk.maxBytes += value.length * 6 + 2;
      if (hasNullCharacter(value)) report(walk, NULL_CHARACTER_MESSAGE, NULL_CHARACTER_CODE);
      return;
    case 'boolean':
    case 'undefined':
      walk.maxBytes += 5;
      return;
    case 'number':
      walk.maxBytes += 24;
      if (!Number.isFinite(value)) report(walk, 'Numbers must be finite.');
      return;
    case 'bigint':
    case 'function':
    case 'symbol':
      report(walk, `A ${typeof value} cannot be sent as JSON.`);
      return;
  }
  walk.maxBytes += 5;
  if (value === null) return;
  const object = value as object;
  if (walk.seen.has(object)) {
    report(walk, 'The data contains a cycle.');
    return;
  }
  if (typeof (object as { toJSON?: unknown }).toJSON === 'function') {
    walk.converts = true;
    return;
  }
  // `path` starts as ['data'], so its length is the nesting level of this container.
  if (walk.path.length > MAX_DATA_DEPTH) {
    report(walk, `The data is nested more than ${MAX_DATA_DEPTH} levels deep.`, 'too_deep');
    return;
  }
  walk.seen.add(object);
  if (Array.isArray(object)) {
    for (let i = 0; i < object.length; i++) {
      walk.path.push(i);
      walkJson(object[i], walk);
      walk.path.pop();
    }
  } else {
    const proto = Object.getPrototypeOf(object);
    if (proto !== Object.prototype && proto !== null) {
      report(walk, 'Only plain objects, arrays and JSON values can be sent.');
    } else {
      for (const key in object) {
        if (!Object.hasOwn(object, key)) continue;
        walk.maxBytes += key.length * 6 + 3;
        walk.path.push(key);
        if (hasNullCharacter(key)) report(walk, NULL_CHARACTER_MESSAGE, NULL_CHARACTER_CODE);
        walkJson((object as Record<string, unknown>)[key], walk);
        walk.path.pop();
      }
    }
  }
  walk.seen.delete(object);
}

const NOTIFICATION_KEYS = new Set(['id', 'scope', 'type', 'event', 'data', 'occurredAt', 'orderingKey']);
const WHITESPACE = /\s/;

function isName(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length >= 1 &&
    value.length <= MAX_NAME_LENGTH &&
    !CONTROL_CHARS.test(value)
  );
}

/**
 * The notification's fields when every one is plainly valid (the rules of `notificationSchema`,
 * checked by hand); `undefined` otherwise, and the schema then gives the full report. `emit()`
 * runs once per notification, and the schema costs more than the rest of matching.
 */
function quickParse(input: unknown):
  | (Omit<ParsedNotification, 'event' | 'orderingKey'> & {
      event: string | null | undefined;
      orderingKey: string | null | undefined;
    })
  | undefined {
  if (typeof input !== 'object' || input === null || Object.getPrototypeOf(input) !== Object.prototype) {
    return undefined;
  }
  for (const key in input) if (!NOTIFICATION_KEYS.has(key)) return undefined;
  const { id, scope, type, event, data, occurredAt, orderingKey } = input as Record<string, unknown>;
  if (id !== undefined && !isName(id)) return undefined;
  if (!isName(scope) || typeof type !== 'string' || type.length === 0) return undefined;
  if (type.length > MAX_NAME_LENGTH || type.includes('*')) return undefined;
  if (WHITESPACE.test(type) || CONTROL_CHARS.test(type)) return undefined;
  if (event !== undefined && event !== null && !isName(event)) return undefined;
  if (orderingKey !== undefined && orderingKey !== null && !isName(orderingKey)) return undefined;
  if (data !== undefined) {
    if (typeof data !== 'object' || data === null || Object.getPrototypeOf(data) !== Object.prototype) {
      return undefined;
    }
  }
  if (occurredAt !== undefined && !(occurredAt instanceof Date && !Number.isNaN(occurredAt.getTime()))) {
    return undefined;
  }
  return {
    id,
    scope,
    type,
    event,
    data: (data ?? {}) as Record<string, unknown>,
    occurredAt: occurredAt as Date | undefined,
    orderingKey,
  };
}

/** A new walk over a notification's `data`. */
function newWalk(): Walk {
  return { issues: [], converts: false, maxBytes: 0, path: ['data'], seen: new Set() };
}

/**
 * Validates a notification for `emit()` and `match()`: scope, type (no wildcards), event, and
 * `data` that is plain JSON (no functions, BigInt, symbols, cycles, class instances or
 * non-finite numbers; objects with `toJSON`, such as `Date`, are converted) within
 * `maxBytes` when serialized and {@link MAX_DATA_DEPTH} levels deep. No string in the
 * notification may contain U+0000 (NUL): not its fields, not a `data` value, not a `data` key
 * at any depth (issue code `null_character`, with the path, e.g. `['data', 'items', 0, 'name']`),
 * because PostgreSQL cannot store it and every store must give the same answer. When `data`
 * holds values with `toJSON`, the result's `data` is their JSON form, checked the same way.
 */
export function parseNotification(
  input: Notification,
  maxBytes = DEFAULT_MAX_NOTIFICATION_BYTES,
): ParsedNotification {
  const walk = newWalk();
  // Check the caller's own object (zod copies the top level, which would hide a cycle's start).
  const rawData =
    typeof input === 'object' && input !== null ? (input as { data?: unknown }).data : undefined;
  if (typeof rawData === 'object' && rawData !== null) walkJson(rawData, walk);
  if (walk.issues.length > 0) throw new ValidationError(walk.issues);
  const parsed = quickParse(input) ?? parseOrThrow(notificationSchema, input);
  // Exact size only when the cheap bound cannot rule out the limit (or toJSON values need it).
  const exact = walk.converts || walk.maxBytes > maxBytes;
  let text = '';
  if (exact) {
    try {
      text = JSON.stringify(parsed.data);
    } catch (error) {
      // A toJSON that throws, or returns something JSON cannot hold.
      throw new ValidationError(
        [{ path: ['data'], code: 'not_json', message: 'The data cannot be written as JSON.' }],
        { cause: error },
      );
    }
  }
  if (exact && Buffer.byteLength(text, 'utf8') > maxBytes) {
    throw new ValidationError([
      {
        path: ['data'],
        code: 'too_large',
        message: `The notification data is larger than ${maxBytes} bytes as JSON.`,
      },
    ]);
  }
  let data = parsed.data;
  if (walk.converts) {
    // Values with toJSON (Dates, ...) are converted the way they will be sent, and what they
    // turned into is checked like the rest (a NUL, or deep nesting, may come from toJSON).
    data = JSON.parse(text) as Record<string, unknown>;
    const converted = newWalk();
    walkJson(data, converted);
    if (converted.issues.length > 0) throw new ValidationError(converted.issues);
  }
  return {
    id: parsed.id,
    scope: parsed.scope,
    type: parsed.type,
    event: parsed.event ?? null,
    data,
    occurredAt: parsed.occurredAt,
    orderingKey: parsed.orderingKey ?? null,
  };
}
