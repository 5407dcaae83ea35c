/**
 * What the program writes: aligned tables, text made safe for a terminal, and secrets kept out
 * of every line.
 *
 * @module
 */

/** Strings never to print (a database password, secret keys): replaced by `***` wherever they appear. */
const secrets = new Set<string>();

/** Registers a string that must never be printed. Short strings are ignored (they would mask too much). */
export function addSecret(secret: string | undefined): void {
  if (secret !== undefined && secret.length >= 4) secrets.add(secret);
}

/** `text` with every registered secret replaced by `***`. */
export function redact(text: string): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join('***');
  return out;
}

/** A connection URL without its password, for messages (`postgres://user:***@host/db`). */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    for (const key of [...parsed.searchParams.keys()]) {
      if (/pass|secret|key|token/i.test(key)) parsed.searchParams.set(key, '***');
    }
    return parsed.href;
  } catch {
    return url.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:***@');
  }
}

/**
 * Third-party text (response bodies and headers, error messages from receivers) made safe to
 * print: ANSI escape sequences and control characters removed, except tab and newline when
 * `multiline`.
 */
export function sanitize(text: string, multiline = false): string {
  let out = '';
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x1b || c === 0x9b) {
      // ESC [ … final (CSI), ESC ] … BEL or ESC \ (OSC), ESC + one character, or C1 CSI.
      const next = c === 0x9b ? 0x5b : text.charCodeAt(i + 1);
      if (c === 0x1b) i++;
      if (next === 0x5b) {
        while (i + 1 < n && !isFinalByte(text.charCodeAt(i + 1))) i++;
        i++;
      } else if (next === 0x5d) {
        while (i + 1 < n) {
          const d = text.charCodeAt(i + 1);
          i++;
          if (d === 0x07) break;
          if (d === 0x1b && text.charCodeAt(i + 1) === 0x5c) {
            i++;
            break;
          }
        }
      }
      continue;
    }
    const control = c < 0x20 || (c >= 0x7f && c <= 0x9f);
    if (!control) out += text[i];
    else if (multiline && (c === 0x09 || c === 0x0a)) out += text[i];
    else if (!multiline) out += ' ';
  }
  return out;
}

/** The last byte of a CSI sequence: `@` to `~`. */
function isFinalByte(code: number): boolean {
  return code >= 0x40 && code <= 0x7e;
}

/** One cell as text: dates as ISO 8601, null as `-`. */
function cell(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (value instanceof Date) return value.toISOString();
  return sanitize(String(value));
}

/** Columns of a {@link table}: header and how to read the cell; right-aligned when `numeric`. */
export interface Column<T> {
  header: string;
  get: (row: T) => unknown;
  numeric?: boolean;
  /** Longest cell, in characters (longer ones are cut with `…`). Default 60. */
  max?: number;
}

/** An aligned text table (header, rule, rows), one line per row, ending in a newline. */
export function table<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((row) =>
    columns.map((column) => {
      const text = cell(column.get(row));
      const max = column.max ?? 60;
      return text.length > max ? `${text.slice(0, max - 1)}…` : text;
    }),
  );
  const widths = columns.map((column, i) =>
    Math.max(column.header.length, ...cells.map((r) => r[i]?.length ?? 0)),
  );
  const line = (values: readonly string[]) =>
    values
      .map((value, i) =>
        columns[i]?.numeric ? value.padStart(widths[i] ?? 0) : value.padEnd(widths[i] ?? 0),
      )
      .join('  ')
      .trimEnd();
  const out = [line(columns.map((c) => c.header)), line(widths.map((w) => '-'.repeat(w)))];
  for (const row of cells) out.push(line(row));
  return `${out.join('\n')}\n`;
}

/** JSON with dates as ISO strings, indented, ending in a newline. */
export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** Writes to stdout, secrets redacted. */
export function out(text: string): void {
  process.stdout.write(redact(text));
}

/** Writes to stderr, secrets redacted. */
export function err(text: string): void {
  process.stderr.write(redact(text));
}
