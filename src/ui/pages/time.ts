/**
 * Instants typed into the page's forms: ISO 8601 read as UTC when it has no zone (a
 * `datetime-local` value too), or an age before now (`90s`, `30m`, `24h`, `7d`, `2w`).
 *
 * @module
 */
const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `text` as an instant relative to `now`, or `null` when it is neither form. */
export function parseInstant(text: string, now: Date): Date | null {
  const value = text.trim();
  const relative = /^(\d{1,6}(?:\.\d{1,3})?)\s*([smhdw])$/i.exec(value);
  if (relative) {
    const ms = Number(relative[1]) * (UNITS[(relative[2] ?? 's').toLowerCase()] ?? 1000);
    return new Date(now.getTime() - ms);
  }
  const iso =
    /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?)(Z|[+-]\d{2}:?\d{2})?)?$/i.exec(value);
  if (!iso) return null;
  const zone = iso[3] ?? 'Z';
  const date = new Date(
    iso[2] === undefined ? `${iso[1]}T00:00:00Z` : `${iso[1]}T${iso[2]}${zone.toUpperCase()}`,
  );
  return Number.isNaN(date.getTime()) ? null : date;
}
