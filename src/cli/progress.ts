/**
 * Progress on stderr: a bar redrawn in place on a terminal, plain lines at most once a second
 * otherwise (logs, CI).
 *
 * @module
 */
import { err } from './output.js';

/** Reports progress towards `total` (unknown: 0). */
export interface Progress {
  update(done: number, detail?: string): void;
  /** Ends the bar's line. */
  finish(): void;
}

/** A progress reporter labelled `label`, on stderr. */
export function progress(
  label: string,
  total: number,
  stream: NodeJS.WriteStream = process.stderr,
): Progress {
  const tty = stream.isTTY === true;
  let last = 0;
  let drawn = false;
  const text = (done: number, detail?: string) => {
    const suffix = detail ? ` ${detail}` : '';
    if (total <= 0) return `${label}: ${done}${suffix}`;
    const ratio = Math.min(1, done / total);
    if (!tty) return `${label}: ${done}/${total} (${Math.floor(ratio * 100)} %)${suffix}`;
    const width = 30;
    const filled = Math.round(ratio * width);
    return `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${Math.floor(ratio * 100)}%${suffix}`;
  };
  return {
    update(done, detail) {
      const now = Date.now();
      if (tty) {
        err(`\r\u001b[2K${text(done, detail)}`);
        drawn = true;
      } else if (now - last >= 1000 || (total > 0 && done >= total)) {
        last = now;
        err(`${text(done, detail)}\n`);
      }
    },
    finish() {
      if (tty && drawn) err('\n');
    },
  };
}
