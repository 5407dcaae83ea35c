/** Catching the error a call throws, for tests that look at more than its class. */
import { HooklineError, ValidationError, type ValidationIssue } from '../../src/errors.js';
import { NULL_CHARACTER_CODE, NULL_CHARACTER_MESSAGE } from '../../src/model.js';

type ErrorClass<E> = abstract new (...args: never[]) => E;

/**
 * The error `run` throws, which must be a `type` (default {@link HooklineError}); anything else
 * thrown, or nothing, fails the test.
 */
export function thrownBy<E = HooklineError>(
  run: () => unknown,
  type: ErrorClass<E> = HooklineError as unknown as ErrorClass<E>,
): E {
  try {
    run();
  } catch (error) {
    if (error instanceof type) return error;
    throw new Error(`expected a ${type.name}, got ${String(error)}`);
  }
  throw new Error(`expected a ${type.name}, nothing was thrown`);
}

/** The issues of the ValidationError `action` rejects with; anything else fails the test. */
export async function validationIssues(action: () => Promise<unknown>): Promise<ValidationIssue[]> {
  try {
    await action();
  } catch (error) {
    if (error instanceof ValidationError) return error.issues;
    throw error;
  }
  throw new Error('expected a ValidationError');
}

/** The one issue a NUL (U+0000) at `path` is reported as. */
export const nulIssue = (path: (string | number)[]): ValidationIssue => ({
  path,
  code: NULL_CHARACTER_CODE,
  message: NULL_CHARACTER_MESSAGE,
});
