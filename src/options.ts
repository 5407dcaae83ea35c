/**
 * Option checks shared by every hookline function and constructor that takes options. Each
 * throws the `invalid_option` error built by {@link invalidOption}, naming `where` (the
 * function) and the option; `undefined` (an option left out) always passes. Internal.
 *
 * @module
 */
import { invalidOption } from './errors.js';

/**
 * Throws `invalid_option` unless `value` is a non-null object (an options bag).
 *
 * @example
 * ```ts
 * checkOptionsObject('toNodeHandler()', options); // option "options" must be an object
 * ```
 */
export function checkOptionsObject(
  where: string,
  value: unknown,
  expected = 'an object',
): asserts value is object {
  if (typeof value !== 'object' || value === null) throw invalidOption(where, 'options', expected, value);
}

/** Throws `invalid_option` unless `value` is `undefined` or a function. */
export function checkOptionalFunction(
  where: string,
  name: string,
  value: unknown,
  expected = 'a function',
): void {
  if (value !== undefined && typeof value !== 'function') throw invalidOption(where, name, expected, value);
}

/** Throws `invalid_option` unless `value` is `undefined` or a string. */
export function checkOptionalString(where: string, name: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'string') throw invalidOption(where, name, 'a string', value);
}

/** Throws `invalid_option` unless `value` is `undefined` or a boolean. */
export function checkOptionalBoolean(where: string, name: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'boolean') {
    throw invalidOption(where, name, '`true` or `false`', value);
  }
}

/**
 * Throws `invalid_option` unless `value` is `undefined` or a safe integer of at least `minimum`
 * bytes: 0 (`a non-negative integer (bytes)`, the default) or 1 (`a positive integer (bytes)`).
 */
export function checkOptionalByteCount(
  where: string,
  name: string,
  value: unknown,
  minimum: 0 | 1 = 0,
): void {
  if (value !== undefined && !(Number.isSafeInteger(value) && (value as number) >= minimum)) {
    const expected = minimum === 0 ? 'a non-negative integer (bytes)' : 'a positive integer (bytes)';
    throw invalidOption(where, name, expected, value);
  }
}

/**
 * Throws `invalid_option` unless `value` is `undefined` or one of `allowed` (compared with
 * `===`); the message lists them quoted, e.g. `'html' or 'json'`.
 */
export function checkOptionalOneOf(
  where: string,
  name: string,
  value: unknown,
  allowed: readonly string[],
): void {
  if (value !== undefined && !allowed.includes(value as string)) {
    throw invalidOption(where, name, expectedOneOf(allowed), value);
  }
}

/** What {@link checkOptionalOneOf} says is expected: `'a' or 'b'`, `'a', 'b' or 'c'`. */
export function expectedOneOf(allowed: readonly string[]): string {
  const quoted = allowed.map((value) => `'${value}'`);
  const last = quoted.pop() ?? '';
  return quoted.length === 0 ? last : `${quoted.join(', ')} or ${last}`;
}
