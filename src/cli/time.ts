/**
 * Instants given on the command line: ISO 8601 (`2026-05-01`, `2026-05-01T12:00:00Z`) or an age
 * before now (`90s`, `30m`, `24h`, `7d`, `2w`).
 *
 * @module
 */
import { UsageError } from './args.js';

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Parses `text` as an instant relative to `now`; throws a {@link UsageError} naming `flag`. */
export function parseInstant(text: string, flag: string, now: Date = new Date()): Date {
  const relative = /^(\d+(?:\.\d+)?)\s*([smhdw])$/i.exec(text.trim());
  if (relative) {
    const [, amount, unit] = relative;
    return new Date(now.getTime() - Number(amount) * (UNITS[(unit ?? 's').toLowerCase()] ?? 1000));
  }
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/i.test(text.trim())) {
    const date = new Date(text.trim());
    if (!Number.isNaN(date.getTime())) return date;
  }
  throw new UsageError(
    `${flag} must be an ISO 8601 date/time (2026-05-01T12:00:00Z) or an age like 90s, 30m, 24h, 7d, 2w; got "${text}".`,
  );
}
