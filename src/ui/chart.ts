/**
 * Charts drawn on the server as SVG (no script, no inline style: colours come from the
 * stylesheet's classes): attempts per bucket as stacked bars by outcome, and the median
 * duration per bucket as a line on its own scale.
 *
 * @module
 */
import type { ActivityBucket } from '../stores/types.js';
import { html, type SafeHtml } from './html.js';

/** Size of a chart in CSS pixels. */
export interface ChartSize {
  width: number;
  height: number;
}

const fmt = (n: number): string => (Math.round(n * 10) / 10).toString();

/** Milliseconds as a short duration: `850 ms`, `1.2 s`. */
export function formatMs(ms: number | null): string {
  if (ms === null) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/**
 * The activity chart of one webhook: bars (succeeded, failed, errored) and the median duration
 * line, with a `<title>` per bucket for a tooltip and an `aria-label` summing it up.
 *
 * @example
 * ```ts
 * const svg = activityChart(activity.buckets, { width: 240, height: 48 }, 'Attempts per hour');
 * ```
 */
export function activityChart(
  buckets: readonly ActivityBucket[],
  size: ChartSize,
  label: string,
  options: { wide?: boolean } = {},
): SafeHtml {
  const { width, height } = size;
  const top = 4;
  const bottom = height - 2;
  const usable = bottom - top;
  const n = Math.max(buckets.length, 1);
  const slot = width / n;
  const barWidth = Math.max(1, slot * 0.78);
  const maxCount = Math.max(1, ...buckets.map((b) => b.succeeded + b.failed + b.errored));
  const durations = buckets.map((b) => b.p50DurationMs).filter((d): d is number => d !== null);
  const maxDuration = Math.max(1, ...durations);
  let total = 0;
  let failures = 0;
  const bars = buckets.map((b, i) => {
    const x = i * slot + (slot - barWidth) / 2;
    let y = bottom;
    const parts: SafeHtml[] = [];
    for (const [count, cls] of [
      [b.succeeded, 'ok'],
      [b.failed, 'fail'],
      [b.errored, 'err'],
    ] as const) {
      if (count === 0) continue;
      const h = Math.max(1, (count / maxCount) * usable);
      y -= h;
      parts.push(
        html`<rect class="${cls}" x="${fmt(x)}" y="${fmt(y)}" width="${fmt(barWidth)}" height="${fmt(h)}"/>`,
      );
    }
    total += b.succeeded + b.failed + b.errored;
    failures += b.failed + b.errored;
    const title = `${b.start.toISOString().slice(0, 16).replace('T', ' ')} UTC: ${b.succeeded} ok, ${b.failed} failed, ${b.errored} errors, median ${formatMs(b.p50DurationMs)}`;
    return html`<g><title>${title}</title><rect fill="transparent" x="${fmt(i * slot)}" y="0" width="${fmt(slot)}" height="${height}"/>${parts}</g>`;
  });
  const points = buckets
    .map((b, i) =>
      b.p50DurationMs === null
        ? null
        : `${fmt(i * slot + slot / 2)},${fmt(bottom - (b.p50DurationMs / maxDuration) * usable)}`,
    )
    .filter((p): p is string => p !== null);
  const line =
    points.length > 1
      ? html`<polyline class="dur" vector-effect="non-scaling-stroke" points="${points.join(' ')}"/>`
      : null;
  const summary = `${label}: ${total} attempts, ${failures} not successful`;
  // A wide chart stretches to its box (CSS); its line keeps its width (non-scaling-stroke).
  return html`<svg class="chart${options.wide ? ' wide' : ''}" role="img" aria-label="${summary}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"${options.wide ? html` preserveAspectRatio="none"` : ''} xmlns="http://www.w3.org/2000/svg"><line class="axis" vector-effect="non-scaling-stroke" x1="0" y1="${bottom}" x2="${width}" y2="${bottom}"/>${bars}${line}</svg>`;
}

/** The chart's legend. */
export const CHART_LEGEND: SafeHtml = html`<div class="legend"><span><i class="ok"></i>succeeded</span><span><i class="fail"></i>failed (HTTP)</span><span><i class="err"></i>no answer</span><span><i class="dur"></i>median duration</span></div>`;
