import type { z } from 'zod';
import { ValidationError, type ValidationIssue } from '../errors.js';

/** Turns one zod issue into hookline's issue shape (unknown keys become one issue each). */
function fromZodIssue(issue: z.core.$ZodIssue, prefix: (string | number)[]): ValidationIssue[] {
  const path = [...prefix, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({
      path: [...path, key],
      code: 'unknown_field',
      message: `Unknown field ${JSON.stringify(key)}.`,
    }));
  }
  const custom =
    issue.code === 'custom' ? (issue.params as { hooklineCode?: unknown } | undefined) : undefined;
  const code = typeof custom?.hooklineCode === 'string' ? custom.hooklineCode : issue.code;
  return [{ path, code, message: issue.message }];
}

/**
 * Parses `input` with `schema`; on failure throws a {@link ValidationError} listing every
 * problem with its field path, with the zod error attached as `cause`.
 */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  input: unknown,
  prefix: (string | number)[] = [],
): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new ValidationError(
    result.error.issues.flatMap((issue) => fromZodIssue(issue, prefix)),
    { cause: result.error },
  );
}

/** Throws a {@link ValidationError} when `issues` is not empty. */
export function throwIfIssues(issues: ValidationIssue[]): void {
  if (issues.length > 0) throw new ValidationError(issues);
}

/** Sorts and de-duplicates strings (how `eventTypes` are stored). */
export function sortedUnique(values: readonly string[]): string[] {
  return [...new Set(values)].sort();
}

/** De-duplicates strings, keeping first-seen order. */
export function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
