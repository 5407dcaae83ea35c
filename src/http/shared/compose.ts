import { invalidOption } from '../../errors.js';
import { isUnmatched } from './respond.js';
import type { FetchHandler } from './types.js';

/**
 * Combines handlers: each is tried in order and the first answer that is not "outside my
 * paths" ({@link isUnmatched}) wins; when none claims the request, the last one's 404 is
 * returned (still marked unmatched). Throws a `HooklineError` with code `invalid_option` when
 * given no handler or something that is not a function.
 *
 * @example
 * ```ts
 * const handler = combineHandlers(pretixHandler(pretixRegistry, { authorize }), talerHandler(talerRegistry, { authorize, basePath: '/taler' }));
 * ```
 */
export function combineHandlers(...handlers: FetchHandler[]): FetchHandler {
  if (handlers.length === 0) {
    throw invalidOption('combineHandlers()', 'handlers', 'at least one Fetch handler', undefined);
  }
  handlers.forEach((handler, index) => {
    if (typeof handler !== 'function') {
      throw invalidOption('combineHandlers()', `handlers[${index}]`, 'a Fetch handler (a function)', handler);
    }
  });
  return async (request: Request): Promise<Response> => {
    let last: Response | undefined;
    for (const handler of handlers) {
      last = await handler(request);
      if (!isUnmatched(last)) return last;
    }
    return last as Response;
  };
}
