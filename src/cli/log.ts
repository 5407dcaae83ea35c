/**
 * The worker command's logger: JSON lines (pino's shape: `level`, `time`, `msg`, fields) or
 * one readable line per entry, on stderr. Errors become `{ name, code, message }`: no stack,
 * no cause chain that could carry a secret.
 *
 * @module
 */
import type { Logger } from '../observability/logger.js';
import { redact, sanitize } from './output.js';

/** The `--log-format` values. */
export const LOG_FORMATS = ['json', 'pretty'] as const;

const LEVEL_NUMBERS = { debug: 20, info: 30, warn: 40, error: 50 } as const;

function plain(value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return { name: value.name, ...(code === undefined ? {} : { code }), message: value.message };
  }
  if (value instanceof Date) return value.toISOString();
  return value;
}

function fieldsOf(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) out[key] = plain(value);
  return out;
}

/** A {@link Logger} writing to `write` (default stderr) in `format`, from `level` up. */
export function cliLogger(
  format: (typeof LOG_FORMATS)[number],
  options: { level?: keyof typeof LEVEL_NUMBERS; write?: (line: string) => void } = {},
): Logger {
  const min = LEVEL_NUMBERS[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const entry =
    (level: keyof typeof LEVEL_NUMBERS) =>
    (fields: Record<string, unknown>, message: string): void => {
      if (LEVEL_NUMBERS[level] < min) return;
      const time = new Date().toISOString();
      const data = fieldsOf(fields ?? {});
      if (format === 'json') {
        let line: string;
        try {
          line = JSON.stringify({ level, time, msg: message, ...data });
        } catch {
          line = JSON.stringify({ level, time, msg: message });
        }
        write(`${redact(line)}\n`);
        return;
      }
      const rest = Object.entries(data)
        .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
        .join(' ');
      write(
        `${redact(sanitize(`${time} ${level.toUpperCase().padEnd(5)} ${message}${rest ? ` ${rest}` : ''}`))}\n`,
      );
    };
  return { debug: entry('debug'), info: entry('info'), warn: entry('warn'), error: entry('error') };
}
