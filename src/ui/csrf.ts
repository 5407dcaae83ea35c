/**
 * CSRF protection of the page's forms: a signed double-submit cookie. A GET page makes sure the
 * browser holds a random cookie (HttpOnly, SameSite=Strict, path of the UI); each form carries
 * `HMAC-SHA256(secret, cookie | scope)` in a hidden field. A POST is accepted only when the
 * field matches the cookie it came with (compared in constant time), so a page of another
 * site, which can neither read the cookie nor the token, cannot forge a form; a request the
 * browser marks `Sec-Fetch-Site: cross-site` is refused before that.
 *
 * @module
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** The cookie's name. */
export const CSRF_COOKIE = 'hookline_csrf';
/** The hidden form field's name. */
export const CSRF_FIELD = '_csrf';

/** The value of a cookie in a `Cookie` header, or `null`. */
export function readCookie(request: Request, name: string): string | null {
  const header = request.headers.get('cookie');
  if (header === null) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/** What a page needs to make tokens: the cookie to send (when new) and the token function. */
export interface CsrfState {
  /** `Set-Cookie` value when the browser had no valid cookie yet; `null` otherwise. */
  setCookie: string | null;
  /** The form token of a scope. */
  token: (scope: string) => string;
}

const COOKIE_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/** Signs and checks CSRF tokens with one secret. */
export class Csrf {
  readonly #key: Buffer;
  readonly #path: string;

  constructor(secret: string | Uint8Array | undefined, path: string) {
    this.#key = secret === undefined ? randomBytes(32) : Buffer.from(secret);
    this.#path = path === '' ? '/' : path;
  }

  #sign(cookie: string, scope: string): string {
    return createHmac('sha256', this.#key).update(`${cookie}|${scope}`).digest('base64url');
  }

  /** The state for a GET page: reuses the browser's cookie, or makes one. */
  state(request: Request, secure: boolean): CsrfState {
    let cookie = readCookie(request, CSRF_COOKIE);
    let setCookie: string | null = null;
    if (cookie === null || !COOKIE_SHAPE.test(cookie)) {
      cookie = randomBytes(32).toString('base64url');
      setCookie = `${CSRF_COOKIE}=${cookie}; Path=${this.#path}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
    }
    const value = cookie;
    return { setCookie, token: (scope) => this.#sign(value, scope) };
  }

  /** Whether a POST's form token matches its cookie for `scope`, and it is not cross-site. */
  verify(request: Request, scope: string, token: string | null): boolean {
    const site = request.headers.get('sec-fetch-site');
    if (site !== null && site !== 'same-origin' && site !== 'none') return false;
    const cookie = readCookie(request, CSRF_COOKIE);
    if (cookie === null || !COOKIE_SHAPE.test(cookie) || token === null) return false;
    const expected = Buffer.from(this.#sign(cookie, scope));
    const given = Buffer.from(token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}
