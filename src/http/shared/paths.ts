/** Path handling shared by the dialects. */

/** Normalizes a base path: `''` or `/a/b` (leading slash, no trailing slash). */
export function normalizeBasePath(basePath: string): string {
  const trimmed = basePath.replace(/\/+$/, '');
  if (trimmed === '') return '';
  return trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

/** The path segments below the base path. */
export interface SplitPath {
  /** Decoded segments, e.g. `['organizers', 'bigevents', 'webhooks']`. */
  segments: string[];
  /** Whether the path ended with `/`. */
  trailingSlash: boolean;
}

/**
 * Splits `pathname` below `basePath` into decoded segments. `null` when the path is outside
 * the base path, has empty segments (`//`), or a segment does not decode (bad `%` escapes)
 * or decodes to something containing `/` or control characters.
 */
export function splitPath(pathname: string, basePath: string): SplitPath | null {
  if (basePath !== '') {
    if (!pathname.startsWith(basePath)) return null;
    const next = pathname.charAt(basePath.length);
    if (next !== '' && next !== '/') return null;
  }
  let rest = pathname.slice(basePath.length);
  if (rest === '' || rest === '/') return { segments: [], trailingSlash: rest === '/' };
  rest = rest.slice(1);
  const trailingSlash = rest.endsWith('/');
  if (trailingSlash) rest = rest.slice(0, -1);
  const segments: string[] = [];
  for (const raw of rest.split('/')) {
    if (raw === '') return null;
    let decoded: string;
    try {
      decoded = decodeURIComponent(raw);
    } catch {
      return null;
    }
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we reject
    if (decoded === '' || decoded.includes('/') || /[\u0000-\u001f\u007f]/.test(decoded)) return null;
    segments.push(decoded);
  }
  return { segments, trailingSlash };
}

/** The pathname of a request URL, or `null` when the URL does not parse. */
export function pathnameOf(request: Request): URL | null {
  try {
    return new URL(request.url);
  } catch {
    return null;
  }
}

/**
 * Whether a request belongs to a dialect: its path is below `basePath` and its first segment
 * is one of the dialect's roots (`organizers` for pretix; `private`, `instances` for Taler;
 * `null`: any). Everything else is "unmatched" so that hosts can chain handlers.
 */
export function belongsTo(pathname: string, basePath: string, roots: readonly string[] | null): boolean {
  if (basePath !== '') {
    if (!pathname.startsWith(basePath)) return false;
    const next = pathname.charAt(basePath.length);
    if (next !== '' && next !== '/') return false;
  }
  if (roots === null) return true;
  const first = pathname.slice(basePath.length).split('/')[1] ?? '';
  return roots.includes(first);
}
