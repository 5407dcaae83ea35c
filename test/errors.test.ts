import { describe, expect, it, vi } from 'vitest';
import {
  ConflictError,
  HooklineError,
  isHooklineError,
  NotFoundError,
  TemplateError,
  ValidationError,
} from '../src/index.js';

describe('errors', () => {
  it('carry a stable code, a readable message and the cause', () => {
    const cause = new Error('root');
    const error = new ValidationError(
      [{ path: ['url'], code: 'invalid_url', message: 'Enter a valid URL.' }],
      { cause },
    );
    expect(error.code).toBe('validation_failed');
    expect(error.message).toBe('Invalid input: url: Enter a valid URL.');
    expect(error.cause).toBe(cause);
    expect(error.name).toBe('ValidationError');
    expect(error).toBeInstanceOf(Error);
    expect(error.toJSON()).toEqual({
      name: 'ValidationError',
      code: 'validation_failed',
      message: 'Invalid input: url: Enter a valid URL.',
      issues: [{ path: ['url'], code: 'invalid_url', message: 'Enter a valid URL.' }],
    });
  });

  it('counts further issues in the message', () => {
    const error = new ValidationError([
      { path: ['a'], code: 'x', message: 'A.' },
      { path: ['b'], code: 'x', message: 'B.' },
    ]);
    expect(error.message).toBe('Invalid input: a: A. (and 1 more)');
  });

  it('support instanceof along the hierarchy and not across siblings', () => {
    const notFound = new NotFoundError('webhook', { scope: 's', id: 3 });
    expect(notFound).toBeInstanceOf(HooklineError);
    expect(notFound).toBeInstanceOf(NotFoundError);
    expect(notFound).not.toBeInstanceOf(ValidationError);
    expect(notFound).not.toBeInstanceOf(ConflictError);
    expect(isHooklineError(notFound)).toBe(true);
    expect(isHooklineError(new Error('x'))).toBe(false);
    expect(isHooklineError(null)).toBe(false);
    expect(
      new TemplateError('template_invalid', 'bad', { position: { offset: 3, line: 1, column: 4 } }).toJSON(),
    ).toEqual({
      name: 'TemplateError',
      code: 'template_invalid',
      message: 'bad',
      position: { offset: 3, line: 1, column: 4 },
    });
  });

  it('are recognized across duplicate copies of the package', async () => {
    vi.resetModules();
    const copy = await import('../src/errors.js');
    expect(copy.ValidationError).not.toBe(ValidationError);
    const foreign: unknown = new copy.ValidationError([{ path: [], code: 'x', message: 'y' }]);
    expect(foreign).toBeInstanceOf(ValidationError);
    expect(foreign).toBeInstanceOf(HooklineError);
    expect(foreign).not.toBeInstanceOf(NotFoundError);
    expect(isHooklineError(foreign)).toBe(true);
    expect(new NotFoundError('webhook', { scope: 's', id: 1 })).toBeInstanceOf(copy.HooklineError);
  });
});
