import type { StoreSignal } from './types.js';

/** The `due` signal (new work may be due): one frozen object for every store to send. */
export const DUE_SIGNAL: StoreSignal = Object.freeze({ type: 'due' });

/** Calls every listener with `signal`; a listener that throws stops neither the others nor the caller. */
export function signalAll(listeners: Iterable<(signal: StoreSignal) => void>, signal: StoreSignal): void {
  for (const listener of listeners) {
    try {
      listener(signal);
    } catch {
      // A listener's failure must not stop the others, nor the write that signals.
    }
  }
}
