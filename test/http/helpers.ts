import { expect } from 'vitest';
import type { Authorize, FetchHandler } from '../../src/http/index.js';

/** Tokens for the tests: token → scopes (and whether it may write). */
export const TOKENS: Record<string, { scopes: string[]; write: boolean }> = {
  'tok-a': { scopes: ['orga'], write: true },
  'tok-b': { scopes: ['orgb'], write: true },
  'tok-ro': { scopes: ['orga'], write: false },
  'tok-default': { scopes: ['default', 'shop'], write: true },
};

export const authorize: Authorize = ({ request, scope, permission }) => {
  const header = request.headers.get('authorization');
  const token = header?.replace(/^(Token|Bearer) /, '');
  const grant = token === undefined ? undefined : TOKENS[token];
  if (grant === undefined) return 'unauthenticated';
  if (!grant.scopes.includes(scope)) return false;
  return permission === 'webhooks-read' || grant.write;
};

export interface CallOptions {
  token?: string | null;
  body?: unknown;
  raw?: string | Uint8Array;
  headers?: Record<string, string>;
}

export interface CallResult {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

export const ORIGIN = 'https://tickets.example';

export async function call(
  handler: FetchHandler,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<CallResult> {
  const headers = new Headers(options.headers);
  const token = options.token === undefined ? 'tok-a' : options.token;
  if (token !== null && !headers.has('authorization')) headers.set('authorization', `Token ${token}`);
  let body: string | Uint8Array | undefined;
  if (method === 'GET' || method === 'HEAD') body = undefined;
  else if (options.raw !== undefined) body = options.raw;
  else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  }
  const response = await handler(
    new Request(`${ORIGIN}${path}`, { method, headers, ...(body === undefined ? {} : { body }) }),
  );
  const text = await response.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** Asserts status and exact body text. */
export function expectBody(result: CallResult, status: number, body: unknown): void {
  expect({ status: result.status, text: result.text }).toEqual({ status, text: JSON.stringify(body) });
}
