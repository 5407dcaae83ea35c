import { type Clock, systemClock } from '../clock.js';
import { HooklineError, invalidOption } from '../errors.js';
import { type Delivery, deliveryFields, type WebhookRecord } from '../model.js';
import {
  type AttemptEndMessage,
  type AttemptStartMessage,
  attemptEndChannel,
  attemptStartChannel,
  type DeliveryOutcomeMessage,
  deliveryOutcomeChannel,
  withoutCredentials,
} from '../observability/channels.js';
import { checkLogger, type Logger, log } from '../observability/logger.js';
import type { AttemptEndInput, AttemptStartInput, DeliveryFinishedInput } from '../observability/otel.js';
import { checkOptionalFunction } from '../options.js';
import { type AutoDisableLimits, shouldAutoDisable } from '../stores/rules.js';
import type { ClaimedDelivery, DeliveryTransition, Store, StoreSignal } from '../stores/types.js';
import { claimBatcher } from './claim-batcher.js';
import { decideOutcome } from './decide.js';
import { type DeliverOptions, type DeliveryResult, deliver } from './deliver.js';
import { recordBatcher } from './record-batcher.js';
import type { RetryPolicy } from './retry.js';
import type { Transport } from './transport/contract.js';
import { defaultTransport } from './transport/default.js';
import type { SsrfOptions } from './transport/ssrf.js';

/** When the worker disables a webhook that keeps failing. `false` turns it off. */
export interface AutoDisableOptions {
  /** Disable after this many deliveries in a row ended `failed`. Default 10. `Infinity` turns it off. */
  afterConsecutiveFailures?: number;
  /** Disable when every attempt has failed for this long. Default 5 days. `Infinity` turns it off. */
  afterFailingForMs?: number;
}

/** Options of {@link WebhookWorker} (`registry.worker(options)`). */
export interface WorkerOptions {
  /** Attempts in flight at once. Default 32. */
  concurrency?: number;
  /** Attempts in flight at once for one webhook, so one slow receiver cannot starve the others. Default 4. */
  perWebhookConcurrency?: number;
  /** How often to look for due deliveries when the store has no wake-up. Default 1000 ms. */
  pollIntervalMs?: number;
  /**
   * How long a claimed delivery stays this worker's before others may take it. Must be more
   * than 3 × `timeoutMs` (a claim may wait for a free slot, then for one attempt of its webhook,
   * then take its own attempt). Default max(120 000, 4 × `timeoutMs`) ms.
   */
  leaseMs?: number;
  /** Deadline of one attempt (connect, headers, body). Default 30 000 ms. */
  timeoutMs?: number;
  /** Response body bytes kept per attempt. Default 65 536. */
  maxResponseBytes?: number;
  /**
   * How to send. Default: `defaultTransport()` with the SSRF guard (`ssrf` options): hookline's
   * undici transport, or on runtimes whose undici has no working dispatcher (Bun) the
   * `node:http` transport that connects only to the address it checked.
   */
  transport?: Transport;
  /** SSRF guard options for the default transport. Default: block every non-public address. */
  ssrf?: SsrfOptions;
  /** Auto-disable thresholds, or `false` to never disable for failures (410 still disables). */
  autoDisable?: AutoDisableOptions | false;
  /** How long attempts are kept in the log. Default 30 days; purged about once an hour. */
  attemptRetentionMs?: number;
  /** Clock, for tests. Default the system clock. */
  clock?: Clock;
  /** Random numbers in [0, 1) for retry jitter. Default `Math.random`. */
  random?: () => number;
  /**
   * Whether a started worker keeps the Node process alive until `stop()`, as a listening
   * server does (retries may be due hours from now). Default `true`; `false` lets the process
   * exit when nothing else keeps it up.
   */
  keepAlive?: boolean;
  /**
   * Where the worker's lifecycle lines and unheard errors go (see {@link Logger}). Default the
   * registry's `logger`; without one, only errors nobody listens to are written, to
   * `console.error`.
   */
  logger?: Logger;
}

/**
 * The attempt half of the registry's OpenTelemetry support, as the worker sees it (no
 * `@opentelemetry/api` type appears here, so the declarations need no such package).
 */
export interface WorkerTelemetry {
  /** Starts an attempt's span; `undefined` when nothing records it. */
  startAttempt(input: AttemptStartInput): { readonly traceparent: string | undefined } | undefined;
  /** Ends the span `startAttempt` returned and records the attempt's metrics. */
  endAttempt(handle: { readonly traceparent: string | undefined } | undefined, input: AttemptEndInput): void;
  /** Records a delivery's final state. */
  deliveryFinished(input: DeliveryFinishedInput): void;
  /** Whether metrics are recorded (an SDK is registered): without, the worker builds no input. */
  readonly measuring: boolean;
}

/** What the worker needs from the registry (kept narrow so the worker can be tested alone). */
export interface WorkerHost {
  readonly store: Store;
  /** The registry's traces and metrics, when OpenTelemetry is on. */
  readonly telemetry?: WorkerTelemetry;
  retryPolicyFor(webhook: WebhookRecord): RetryPolicy;
  disableForWorker(webhook: WebhookRecord, reason: 'gone' | 'failing'): Promise<void>;
}

/** Lifecycle events a worker emits, with their payloads. */
export interface WorkerEvents {
  /** A delivery got a 2xx answer. */
  'delivery.succeeded': { delivery: Delivery; result: DeliveryResult };
  /** An attempt failed and another is scheduled. */
  'delivery.retrying': { delivery: Delivery; result: DeliveryResult; nextAttemptAt: Date };
  /** A delivery failed for good (attempts exhausted, permanent status, or 410). */
  'delivery.failed': {
    delivery: Delivery;
    result: DeliveryResult;
    reason: 'exhausted' | 'permanent' | 'gone';
  };
  /** A delivery was canceled because its webhook was disabled or removed. */
  'delivery.canceled': { delivery: Delivery; reason: string };
  /** The worker disabled a webhook: `gone` (410) or `failing` (auto-disable thresholds). */
  'webhook.disabled': { scope: string; webhookId: number; reason: 'gone' | 'failing' };
  /**
   * Something went wrong in the worker itself (store unreachable, the store's wake-ups lost,
   * ...). It backs off and goes on; `watch` errors mean wake-ups are late (the worker polls and
   * checks each claimed delivery's webhook before sending) until the store's watch is back.
   */
  error: { error: HooklineError; during: 'claim' | 'record' | 'purge' | 'disable' | 'watch' };
}

/** Options of {@link WebhookWorker.stop}. */
export interface StopOptions {
  /**
   * Wait for in-flight attempts to finish. Default `true`. `false` gives them back at once,
   * after the attempt records already being written (within `timeoutMs`).
   */
  graceful?: boolean;
  /** How long to wait for them before giving their deliveries back. Default 30 000 ms. */
  timeoutMs?: number;
}

type Listener<K extends keyof WorkerEvents> = (payload: WorkerEvents[K]) => void;

const DAY_MS = 24 * 60 * 60 * 1000;

function positiveInt(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < 1) throw invalidOption(WHERE, name, 'a positive integer', value);
  return v;
}

/** A positive number (milliseconds or a count), or `Infinity` where that turns a limit off. */
function positiveOrInfinity(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || Number.isNaN(v) || v <= 0) {
    throw invalidOption(WHERE, name, 'a positive number (or Infinity to turn it off)', value);
  }
  return v;
}

const WHERE = 'registry.worker()';

/** The key of a webhook in the worker's maps: its scope and id. */
const webhookKey = (scope: string, webhookId: number): string => `${scope}\u0000${webhookId}`;

/** Watch retry delays: 100 ms doubling up to 30 s. */
const WATCH_RETRY_MIN_MS = 100;
const WATCH_RETRY_MAX_MS = 30_000;
/** Longest delay `setInterval` takes; the keep-alive handle never fires in practice. */
const KEEP_ALIVE_MS = 2 ** 31 - 1;
const noop = () => undefined;
/** The event that tells of each transition, looked up once per attempt. */
const EVENT_OF = {
  succeeded: 'delivery.succeeded',
  pending: 'delivery.retrying',
  failed: 'delivery.failed',
} as const satisfies Record<DeliveryTransition['state'], keyof WorkerEvents>;

function asHooklineError(error: unknown, message: string): HooklineError {
  return error instanceof HooklineError
    ? error
    : new HooklineError('store_failed', message, { cause: error });
}

/**
 * The delivery worker: claims due deliveries from the store, sends them, records every attempt,
 * applies the retry policy, disables webhooks that answer 410 or keep failing, and cancels
 * deliveries whose webhook was disabled or removed. Get one from `registry.worker(options)`.
 *
 * Many workers, in one process or many, can share one store: claims are leased, so a delivery
 * is never sent by two workers at once while its lease lives. Workers of the same store object
 * in one process also pool their store calls: claims asked for together go out as one
 * `claimDue`, and attempts that finish together are written by one `recordAttempts`.
 *
 * @example
 * ```ts
 * const worker = registry.worker({ concurrency: 32 });
 * worker.on('delivery.failed', ({ delivery, reason }) => log.warn({ id: delivery.id, reason }));
 * worker.start();
 * process.on('SIGTERM', () => worker.stop());
 * ```
 */
export class WebhookWorker {
  readonly #host: WorkerHost;
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #concurrency: number;
  readonly #perWebhook: number;
  readonly #pollIntervalMs: number;
  readonly #leaseMs: number;
  readonly #timeoutMs: number;
  readonly #maxResponseBytes: number;
  readonly #transport: Transport;
  readonly #ownTransport: boolean;
  readonly #autoDisable: AutoDisableLimits | false;
  readonly #retentionMs: number;
  readonly #random: () => number;
  readonly #keepAliveOption: boolean;
  readonly #logger: Logger | undefined;
  readonly #listeners = new Map<keyof WorkerEvents, Set<(payload: never) => void>>();

  #running = false;
  #stopping: Promise<void> | undefined;
  #timer: unknown;
  /** When #timer fires (clock ms), or +Infinity without one. */
  #timerAt = Number.POSITIVE_INFINITY;
  /**
   * Whether the last tick stopped with more possibly due: its last claim came back full, or it
   * held more than a batch. Only then does a finished delivery wake the worker to claim again;
   * otherwise what becomes due wakes it (a watch signal, its own retry's timer, the poll).
   */
  #moreDue = true;
  /** When this worker last read the store's `outboxSummary` (clock ms). */
  #summaryAt = Number.NEGATIVE_INFINITY;
  /** The earliest future attempt this worker knows of (clock ms), or +Infinity: see #nextLook. */
  #knownNextAt = Number.POSITIVE_INFINITY;
  #ticking = false;
  /** The tick in progress (or the last one), so stop() can wait for it. */
  #tickDone: Promise<void> = Promise.resolve();
  #tickAgain = false;
  #failures = 0;
  #lastPurge = 0;
  #unwatch: (() => Promise<void>) | undefined;
  /** Keeps the process alive while started (see `keepAlive`). */
  #keepAlive: ReturnType<typeof setInterval> | undefined;
  /** The store's watch is set up and has not been lost since: parked claims can trust their snapshot. */
  #watchLive = false;
  /** Bumped whenever #watchLive changes: a claim made across a change cannot trust its snapshot. */
  #watchEpoch = 0;
  #watchFailures = 0;
  #watchTimer: unknown;
  /**
   * Parked claims whose webhook snapshot may be stale (parked while no watch promised to tell
   * of webhook changes): their webhook is read again just before sending.
   */
  readonly #unverified = new Set<ClaimedDelivery>();
  /** Webhook key → why, for each revocation heard while the claim call is in flight (see #tick). */
  readonly #revokedWhileClaiming = new Map<string, string>();
  /** A claim call is in flight (#tick makes one at a time). */
  #claiming = false;
  /** Cancellations of parked claims whose webhook was disabled or removed. */
  readonly #chores = new Set<Promise<void>>();
  /** True while the tick starts the claims it just got (their snapshot is as fresh as any read). */
  #freshPass = false;
  readonly #inFlight = new Map<string, { claim: ClaimedDelivery; done: Promise<void> }>();
  readonly #perWebhookInFlight = new Map<string, number>();
  /** Claimed deliveries waiting for a free slot of their webhook (at most perWebhookConcurrency each). */
  readonly #waiting = new Map<string, ClaimedDelivery[]>();
  /** Claimed deliveries waiting for a free slot (at most `concurrency`): the next batch, claimed ahead. */
  readonly #ready: ClaimedDelivery[] = [];
  #waitingCount = 0;
  #idleWaiters: (() => void)[] = [];
  /** `deliver()` options by retry policy (see #deliverOptions). */
  readonly #optionsByPolicy = new WeakMap<RetryPolicy, DeliverOptions>();
  /** Writes attempts in batches, shared with the other workers of this store. */
  readonly #batcher: ReturnType<typeof recordBatcher>;
  /** Claims due deliveries, merged with the other workers' claims of this store. */
  readonly #claimer: ReturnType<typeof claimBatcher>;

  /** Use `registry.worker(options)`. */
  constructor(host: WorkerHost, options: WorkerOptions = {}) {
    this.#host = host;
    this.#store = host.store;
    this.#batcher = recordBatcher(host.store);
    this.#claimer = claimBatcher(host.store);
    this.#clock = options.clock ?? systemClock;
    this.#concurrency = positiveInt(options.concurrency, 32, 'concurrency');
    this.#perWebhook = positiveInt(options.perWebhookConcurrency, 4, 'perWebhookConcurrency');
    this.#pollIntervalMs = positiveInt(options.pollIntervalMs, 1000, 'pollIntervalMs');
    this.#timeoutMs = positiveInt(options.timeoutMs, 30_000, 'timeoutMs');
    this.#leaseMs = positiveInt(options.leaseMs, Math.max(120_000, this.#timeoutMs * 4), 'leaseMs');
    if (this.#leaseMs <= this.#timeoutMs * 3) {
      throw invalidOption(
        WHERE,
        'leaseMs',
        `more than three times timeoutMs (${this.#timeoutMs}): a claimed delivery may wait for a free slot and for one attempt of its webhook before its own, and a shorter lease would let two workers send one delivery`,
        this.#leaseMs,
      );
    }
    this.#maxResponseBytes = positiveInt(options.maxResponseBytes, 65_536, 'maxResponseBytes');
    if (options.transport !== undefined && typeof options.transport?.send !== 'function') {
      throw invalidOption(
        WHERE,
        'transport',
        'a Transport ({ name, send(request) }), e.g. defaultTransport()',
        options.transport,
      );
    }
    this.#autoDisable =
      options.autoDisable === false
        ? false
        : {
            afterConsecutiveFailures: positiveOrInfinity(
              options.autoDisable?.afterConsecutiveFailures,
              10,
              'autoDisable.afterConsecutiveFailures',
            ),
            afterFailingForMs: positiveOrInfinity(
              options.autoDisable?.afterFailingForMs,
              5 * DAY_MS,
              'autoDisable.afterFailingForMs',
            ),
          };
    this.#retentionMs = positiveOrInfinity(options.attemptRetentionMs, 30 * DAY_MS, 'attemptRetentionMs');
    checkOptionalFunction(WHERE, 'random', options.random, 'a function returning numbers in [0, 1)');
    this.#random = options.random ?? Math.random;
    this.#keepAliveOption = options.keepAlive ?? true;
    checkLogger(WHERE, options.logger);
    this.#logger = options.logger;
    // Last, once every option is accepted: a refused one leaves no transport of ours open.
    this.#ownTransport = options.transport === undefined;
    this.#transport = options.transport ?? defaultTransport(options.ssrf ? { ssrf: options.ssrf } : {});
  }

  /** Whether the worker is started and not stopping. */
  get running(): boolean {
    return this.#running;
  }

  /** How many attempts are in flight now. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /**
   * Listens to a lifecycle event; returns a function that stops listening. Without an `error`
   * listener, worker errors are written to `console.error`.
   *
   * @example
   * ```ts
   * worker.on('webhook.disabled', ({ scope, webhookId, reason }) => notifyOwner(scope, webhookId, reason));
   * ```
   */
  on<K extends keyof WorkerEvents>(event: K, listener: Listener<K>): () => void {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener as (payload: never) => void);
    return () => set.delete(listener as (payload: never) => void);
  }

  /**
   * Starts claiming and sending. Returns at once; safe to call when already started.
   *
   * @example
   * ```ts
   * worker.start();
   * ```
   */
  start(): void {
    if (this.#running) return;
    if (this.#stopping) throw new HooklineError('worker_state', 'This worker was stopped; create a new one.');
    this.#running = true;
    if (this.#keepAliveOption) this.#keepAlive = setInterval(noop, KEEP_ALIVE_MS);
    log(
      this.#logger,
      'info',
      {
        concurrency: this.#concurrency,
        perWebhookConcurrency: this.#perWebhook,
        leaseMs: this.#leaseMs,
        timeoutMs: this.#timeoutMs,
        transport: this.#transport.name,
      },
      'hookline: worker started',
    );
    this.#watchStore();
    this.#wake();
  }

  /** Sets up the store's watch; retries with backoff (and says so) while it cannot. */
  #watchStore(): void {
    const store = this.#store;
    if (!store.watch || !this.#running) return;
    store
      .watch((signal) => this.#onSignal(signal))
      .then(
        (unwatch) => {
          if (!this.#running) {
            void unwatch();
            return;
          }
          this.#unwatch = unwatch;
          this.#watchFailures = 0;
          this.#setWatchLive(true);
          // Anything enqueued before the watch was up woke nobody.
          this.#wake();
        },
        (error: unknown) => {
          this.#watchFailures += 1;
          this.#emitError(
            asHooklineError(error, 'Could not watch the store for wake-ups; polling meanwhile and retrying.'),
            'watch',
          );
          if (!this.#running) return;
          const delay = Math.min(
            WATCH_RETRY_MAX_MS,
            WATCH_RETRY_MIN_MS * 2 ** Math.min(this.#watchFailures - 1, 16),
          );
          this.#watchTimer = this.#clock.setTimeout(() => {
            this.#watchTimer = undefined;
            this.#watchStore();
          }, delay);
        },
      );
  }

  #setWatchLive(live: boolean): void {
    if (!live) {
      // Webhook changes may be missed from now on: what is parked is checked again before sending.
      for (const claim of this.#ready) this.#unverified.add(claim);
      for (const claims of this.#waiting.values()) for (const claim of claims) this.#unverified.add(claim);
    }
    this.#watchLive = live;
    this.#watchEpoch += 1;
  }

  #onSignal(signal: StoreSignal | undefined): void {
    // A store written against the older contract calls its listener without a signal: a wake-up.
    if (signal === undefined || signal.type === 'due') {
      this.#wake();
    } else if (signal.type === 'webhook') {
      if (signal.enabled !== true) {
        this.#revoke(
          signal.scope,
          signal.webhookId,
          signal.enabled === null ? 'webhook removed' : 'webhook disabled',
        );
      }
    } else if (signal.type === 'lost') {
      if (this.#watchLive) this.#setWatchLive(false);
      log(this.#logger, 'warn', {}, 'hookline: the store lost its wake-ups; polling until they are back');
      this.#emitError(asHooklineError(signal.error, 'The store lost its wake-ups.'), 'watch');
    } else if (signal.type === 'restored') {
      if (!this.#watchLive && this.#unwatch) this.#setWatchLive(true);
      log(this.#logger, 'info', {}, "hookline: the store's wake-ups are back");
      this.#wake();
    }
  }

  /**
   * A webhook was disabled or removed: its parked claims are canceled, not sent (those in flight
   * finish and are recorded), and a claim call in flight drops its deliveries when it returns.
   */
  #revoke(scope: string, webhookId: number, reason: string): void {
    const key = webhookKey(scope, webhookId);
    if (this.#claiming) this.#revokedWhileClaiming.set(key, reason);
    const dropped = this.#waiting.get(key) ?? [];
    if (dropped.length > 0) {
      this.#waiting.delete(key);
      this.#waitingCount -= dropped.length;
    }
    let kept = 0;
    for (const claim of this.#ready) {
      if (claim.scope === scope && claim.webhookId === webhookId) dropped.push(claim);
      else this.#ready[kept++] = claim;
    }
    this.#ready.length = kept;
    for (const claim of dropped) this.#cancel(claim, reason);
  }

  /** Cancels a claim this worker holds and will not send. */
  #cancel(claim: ClaimedDelivery, reason: string): void {
    this.#unverified.delete(claim);
    const chore = this.#store
      .cancelClaimed({
        deliveryId: claim.id,
        leaseToken: claim.leaseToken,
        reason,
        now: new Date(this.#clock.now()),
      })
      .then(
        (canceled) => {
          if (canceled) this.#canceled(claim, reason);
        },
        (error: unknown) =>
          // Still leased: after the lease, a worker claims it and cancels it then.
          this.#emitError(asHooklineError(error, `Canceling delivery ${claim.id} failed.`), 'record'),
      )
      .finally(() => {
        this.#chores.delete(chore);
        if (this.#inFlight.size === 0 && this.#chores.size === 0) this.#notifyIdle();
      });
    this.#chores.add(chore);
  }

  /**
   * Stops claiming, waits for in-flight attempts (up to `timeoutMs`), and gives back the
   * deliveries it could not finish so other workers take them at once. Safe to call twice.
   *
   * @example
   * ```ts
   * await worker.stop({ timeoutMs: 10_000 });
   * ```
   */
  stop(options: StopOptions = {}): Promise<void> {
    this.#stopping ??= this.#stop(options);
    return this.#stopping;
  }

  /**
   * Resolves when nothing is due and nothing is in flight (scheduled retries in the future do
   * not count). Starts the worker if it is not running. Deliveries this worker gave back "for a
   * little later" (up to `min(1000, pollIntervalMs)` ms) because their webhook already had
   * `perWebhookConcurrency` attempts in flight are not due during that time either, so with
   * many deliveries to one webhook `drain()` can resolve while some are still pending: to wait
   * for all of them, wait until `registry.stats()` shows `pending` 0.
   *
   * @example
   * ```ts
   * await registry.emit(notification);
   * await worker.drain();
   * ```
   */
  async drain(): Promise<void> {
    if (!this.#running && !this.#stopping) this.start();
    else this.#wake();
    for (;;) {
      if (this.#inFlight.size === 0 && this.#chores.size === 0 && !this.#ticking) {
        const summary = await this.#store.outboxSummary({ now: new Date(this.#clock.now()) });
        if (summary.due === 0 && this.#inFlight.size === 0 && this.#chores.size === 0) return;
      }
      if (!this.#running) return;
      await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    }
  }

  async #stop(options: StopOptions): Promise<void> {
    this.#running = false;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    if (this.#watchTimer !== undefined) this.#clock.clearTimeout(this.#watchTimer);
    this.#watchTimer = undefined;
    const unwatch = this.#unwatch;
    this.#unwatch = undefined;
    this.#watchLive = false;
    await unwatch?.();
    await this.#tickDone;
    const graceful = options.graceful ?? true;
    const timeoutMs = options.timeoutMs ?? 30_000;
    const waiting = [...this.#waiting.values()].flat().concat(this.#ready.splice(0));
    this.#waiting.clear();
    this.#waitingCount = 0;
    await Promise.all(waiting.map((claim) => this.#release(claim)));
    // Attempts waiting out the store's recordDelayMs are written now; those still running are
    // recorded at once when they finish (urgent once #running is false).
    const recorded = this.#batcher.flush();
    if (this.#inFlight.size > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        // Not graceful: only the records already under way, so that no claim below is given
        // back while its attempt's record is being written (that attempt would be sent again).
        graceful ? Promise.all([...this.#inFlight.values()].map((f) => f.done)) : recorded,
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, timeoutMs);
        }),
      ]);
      clearTimeout(timer);
    }
    // Attempts still running now are past the stop timeout (or not waited for): give their
    // claims back, and do not let them hold stop() up any longer.
    const abandoned = this.#inFlight.size > 0;
    await Promise.all([...this.#inFlight.values()].map((f) => this.#release(f.claim)));
    await Promise.all(this.#chores);
    this.#unverified.clear();
    if (this.#ownTransport) {
      const closing = this.#transport.close?.();
      // Closing our transport waits for its open requests, which end within the attempt's
      // `timeoutMs`; awaiting that would make stop() overrun its own timeout, so with
      // abandoned attempts the close finishes in the background.
      if (abandoned) void closing?.catch(noop);
      else await closing;
    }
    clearInterval(this.#keepAlive);
    this.#keepAlive = undefined;
    log(this.#logger, 'info', { graceful }, 'hookline: worker stopped');
    this.#notifyIdle();
  }

  async #release(claim: ClaimedDelivery): Promise<void> {
    const now = new Date(this.#clock.now());
    await this.#store
      .releaseClaim({ deliveryId: claim.id, leaseToken: claim.leaseToken, now })
      .catch(() => false);
  }

  #wake(): void {
    if (!this.#running) return;
    if (this.#ticking) {
      this.#tickAgain = true;
      return;
    }
    // A tick would claim nothing while more than a batch is held (see #tick); the delivery that
    // frees the room wakes us again. Saves a tick and a timer per finished delivery.
    if (this.#inFlight.size + this.#waitingCount + this.#ready.length > this.#concurrency) return;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    this.#tickDone = this.#tick();
  }

  #schedule(ms: number): void {
    if (!this.#running) return;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timerAt = this.#clock.now() + ms;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Number.POSITIVE_INFINITY;
      this.#wake();
    }, ms);
  }

  /** A delivery this worker made due at `at` (a retry, a release for later): a tick by then. */
  #dueAt(at: Date): void {
    const now = this.#clock.now();
    const due = Math.max(now + 1, at.getTime());
    if (due < this.#knownNextAt) this.#knownNextAt = due;
    if (due < this.#timerAt) this.#schedule(due - now);
  }

  /**
   * After a claim that left nothing due: how long until the next tick. With a live watch and
   * the store's `outboxSummary` younger than `pollIntervalMs`, from what the worker knows
   * (that summary's next attempt, its own retries and releases): anything due now would have
   * woken it, and other processes' retries are theirs to attempt (and the next summary's, at
   * the latest a poll interval on, should one of them die). Otherwise from a new summary.
   * With four worker processes woken by every emit's wake-up, a summary after each claim was
   * a statement per process per emit (bench/postgres, enqueue included).
   */
  async #nextLook(): Promise<number> {
    const now = this.#clock.now();
    if (this.#watchLive && now >= this.#summaryAt && now - this.#summaryAt < this.#pollIntervalMs) {
      // What was known to fall due by now was there for this claim (or is in flight elsewhere).
      if (this.#knownNextAt <= now) this.#knownNextAt = Number.POSITIVE_INFINITY;
      return Math.max(1, Math.min(this.#summaryAt + this.#pollIntervalMs, this.#knownNextAt) - now);
    }
    const summary = await this.#store.outboxSummary({ now: new Date(now) });
    this.#summaryAt = now;
    this.#knownNextAt = Number.POSITIVE_INFINITY;
    if (!summary.nextAttemptAt) return this.#pollIntervalMs;
    const untilNextMs = summary.nextAttemptAt.getTime() - this.#clock.now();
    if (untilNextMs > 0) this.#knownNextAt = summary.nextAttemptAt.getTime();
    // Nothing due and the earliest next attempt already past: every delivery due is under a
    // live lease (in flight elsewhere, e.g. the head of an ordered line). Its record wakes this
    // worker when it frees anything (a watch signal); polling every millisecond until then
    // would only load the store.
    return summary.due === 0 && untilNextMs <= 0
      ? this.#pollIntervalMs
      : Math.max(1, Math.min(this.#pollIntervalMs, untilNextMs));
  }

  async #tick(): Promise<void> {
    this.#ticking = true;
    let delayMs = this.#pollIntervalMs;
    try {
      do {
        this.#tickAgain = false;
        // Claim whole batches ahead of time: up to `concurrency` claimed deliveries wait in
        // #ready while `concurrency` are in flight, and the next batch is claimed when #ready
        // has drained, so each claim (and each recorded batch) covers `concurrency` deliveries.
        const held = this.#inFlight.size + this.#waitingCount + this.#ready.length;
        const limit = this.#concurrency;
        if (2 * this.#concurrency - held < limit) {
          this.#moreDue = true;
          break;
        }
        const now = new Date(this.#clock.now());
        const epoch = this.#watchEpoch;
        let claims: ClaimedDelivery[];
        this.#revokedWhileClaiming.clear(); // left over if the last claim call failed
        this.#claiming = true;
        try {
          claims = await this.#claimer.claim({ limit, leaseMs: this.#leaseMs, now, group: this.#clock });
        } finally {
          this.#claiming = false;
        }
        if (this.#failures > 0) {
          log(
            this.#logger,
            'info',
            { failedClaims: this.#failures },
            'hookline: the store is reachable again; claiming resumed',
          );
          this.#failures = 0;
        }
        if (!this.#running) {
          // stop() was called while claiming: give these back at once.
          await Promise.all(claims.map((claim) => this.#release(claim)));
          break;
        }
        if (this.#revokedWhileClaiming.size > 0) {
          claims = this.#dropRevoked(claims);
          this.#revokedWhileClaiming.clear();
        }
        // Without a live watch all along, a webhook change since the claim could go unheard:
        // what waits is checked again before sending (what starts now is as fresh as a read).
        if (!this.#watchLive || epoch !== this.#watchEpoch)
          for (const claim of claims) this.#unverified.add(claim);
        this.#ready.push(...claims);
        this.#freshPass = true;
        const pumping = this.#pump();
        this.#freshPass = false;
        await pumping;
        this.#moreDue = claims.length === limit;
        if (claims.length === limit) this.#tickAgain = true;
        else delayMs = await this.#nextLook();
        await this.#maybePurge();
      } while (this.#tickAgain && this.#running);
    } catch (error) {
      this.#failures += 1;
      delayMs = Math.min(30_000, this.#pollIntervalMs * 2 ** Math.min(this.#failures, 5));
      if (this.#failures === 1) {
        log(
          this.#logger,
          'warn',
          { err: error, retryInMs: delayMs },
          'hookline: the store is unreachable; claiming due deliveries failed, retrying with backoff',
        );
      }
      this.#emitError(asHooklineError(error, 'Claiming due deliveries failed.'), 'claim');
    } finally {
      this.#ticking = false;
    }
    if (this.#inFlight.size === 0) this.#notifyIdle();
    this.#schedule(delayMs);
  }

  /** Starts ready claims while fewer than `concurrency` attempts are in flight. */
  async #pump(): Promise<void> {
    while (this.#running && this.#inFlight.size < this.#concurrency) {
      const claim = this.#ready.shift();
      if (!claim) return;
      const releasing = this.#dispatch(claim);
      if (releasing) await releasing;
    }
  }

  /** Starts `claim`, parks it behind its webhook's busy slots, or gives it back (a promise then). */
  #dispatch(claim: ClaimedDelivery): Promise<unknown> | undefined {
    const key = webhookKey(claim.scope, claim.webhookId);
    const busy = this.#perWebhookInFlight.get(key) ?? 0;
    if (busy >= this.#perWebhook) {
      const waiting = this.#waiting.get(key) ?? [];
      if (waiting.length < this.#perWebhook) {
        // Wait for one of this webhook's slots (within the lease: see the leaseMs check).
        waiting.push(claim);
        this.#waiting.set(key, waiting);
        this.#waitingCount += 1;
        if (!this.#watchLive) this.#unverified.add(claim);
        return undefined;
      }
      // This webhook has enough in flight and waiting: give the delivery back for a little
      // later, so the next claims reach other webhooks' deliveries first.
      const later = new Date(this.#clock.now() + Math.min(1000, this.#pollIntervalMs));
      this.#unverified.delete(claim); // no longer this worker's
      this.#dueAt(later);
      return this.#store.releaseClaim({ deliveryId: claim.id, leaseToken: claim.leaseToken, now: later });
    }
    this.#start(key, claim);
    return undefined;
  }

  #start(key: string, claim: ClaimedDelivery): void {
    if (this.#freshPass) this.#unverified.delete(claim);
    this.#perWebhookInFlight.set(key, (this.#perWebhookInFlight.get(key) ?? 0) + 1);
    this.#inFlight.set(claim.id, { claim, done: this.#run(key, claim) });
  }

  /** Processes one claim, then frees its slots and starts what waits for them. Never rejects. */
  async #run(key: string, claim: ClaimedDelivery): Promise<void> {
    try {
      await this.#process(claim);
    } catch (error) {
      this.#emitError(asHooklineError(error, 'Recording an attempt failed.'), 'record');
    } finally {
      this.#inFlight.delete(claim.id);
      const left = (this.#perWebhookInFlight.get(key) ?? 1) - 1;
      if (left > 0) this.#perWebhookInFlight.set(key, left);
      else this.#perWebhookInFlight.delete(key);
      const next = this.#waiting.get(key)?.shift();
      if (next) {
        this.#waitingCount -= 1;
        if (this.#waiting.get(key)?.length === 0) this.#waiting.delete(key);
        if (this.#running) this.#start(key, next);
        else void this.#release(next);
      } else if (this.#running) {
        void this.#pump();
      }
      // With a live watch, a claim now finds something only when the last one left some due
      // (what becomes due later wakes the worker): in a steady trickle of emits, a claim and
      // an outboxSummary per finished delivery otherwise (bench/postgres enqueue included).
      if (!this.#running) this.#notifyIdle();
      else if (this.#moreDue || !this.#watchLive) this.#wake();
      else if (this.#inFlight.size === 0 && !this.#ticking) this.#notifyIdle();
    }
  }

  /** Cancels the claims whose webhook was revoked while the claim call was in flight. */
  #dropRevoked(claims: ClaimedDelivery[]): ClaimedDelivery[] {
    return claims.filter((claim) => {
      const reason = this.#revokedWhileClaiming.get(webhookKey(claim.scope, claim.webhookId));
      if (reason === undefined) return true;
      this.#cancel(claim, reason);
      return false;
    });
  }

  /**
   * One claimed delivery: check its webhook, send, decide (`decideOutcome`), record, notify,
   * and disable its webhook when the decision or its health says so.
   */
  async #process(claim: ClaimedDelivery): Promise<void> {
    // Claimed: send only while its webhook is still enabled.
    const store = this.#store;
    let webhook = claim.webhook;
    if (this.#unverified.size > 0 && this.#unverified.delete(claim) && webhook?.enabled) {
      // Parked while webhook changes could go unheard: read the webhook as it is now.
      try {
        webhook = await store.getWebhook({ scope: claim.scope, id: claim.webhookId });
      } catch (error) {
        // Not sent unchecked: given back, it is claimed again (and checked) later.
        await this.#release(claim);
        throw error;
      }
    }
    if (!webhook?.enabled) {
      const reason = webhook ? 'webhook disabled' : 'webhook removed';
      const now = new Date(this.#clock.now());
      if (await store.cancelClaimed({ deliveryId: claim.id, leaseToken: claim.leaseToken, reason, now })) {
        this.#canceled(claim, reason);
      }
      return;
    }
    // Send.
    const policy = this.#host.retryPolicyFor(webhook);
    const startedAt = new Date(this.#clock.now());
    const attemptNumber = claim.attemptCount + 1;
    // Built only while someone subscribes (one property read otherwise).
    const started = attemptStartChannel.hasSubscribers || attemptEndChannel.hasSubscribers;
    const startMessage = started ? attemptStartMessage(claim, attemptNumber, startedAt) : undefined;
    if (startMessage && attemptStartChannel.hasSubscribers) attemptStartChannel.publish(startMessage);
    const telemetry = this.#host.telemetry;
    let span: ReturnType<WorkerTelemetry['startAttempt']>;
    if (telemetry) {
      span = telemetry.startAttempt({
        deliveryId: claim.id,
        scope: claim.scope,
        webhook,
        method: claim.request.method,
        url: claim.request.url,
        attempt: attemptNumber,
        traceContext: claim.traceContext ?? null,
        startedAt,
      });
    }
    const result = await deliver(
      {
        url: claim.request.url,
        method: claim.request.method,
        headers: span?.traceparent
          ? { ...claim.request.headers, traceparent: span.traceparent }
          : claim.request.headers,
        body: claim.request.body,
        id: claim.id,
        secrets: webhook.secrets,
      },
      this.#deliverOptions(policy),
    );
    // Decide.
    const now = new Date(this.#clock.now());
    const decision = decideOutcome({ result, policy, attempt: attemptNumber, now, random: this.#random });
    const { transition } = decision;
    const ok = transition.state === 'succeeded';
    if (telemetry && (span !== undefined || telemetry.measuring)) {
      telemetry.endAttempt(span, {
        scope: claim.scope,
        status: result.status,
        error: result.error,
        classification: decision.classification,
        nextAttemptAt: transition.state === 'pending' ? transition.nextAttemptAt : null,
        durationMs: result.durationMs,
        dueAt: claim.nextAttemptAt,
        startedAt,
        endedAt: now,
      });
    }
    if (startMessage && attemptEndChannel.hasSubscribers) {
      attemptEndChannel.publish({
        ...startMessage,
        status: result.status,
        durationMs: result.durationMs,
        error: result.error ? { code: result.error.code, message: result.error.message } : null,
        classification: decision.classification,
        state: transition.state,
        nextAttemptAt: transition.state === 'pending' ? transition.nextAttemptAt : null,
      } satisfies AttemptEndMessage);
    }
    // Record.
    const error = describeError(result);
    const recorded = await this.#batcher.record(
      {
        deliveryId: claim.id,
        leaseToken: claim.leaseToken,
        attempt: {
          startedAt,
          durationMs: Math.round(result.durationMs),
          status: result.status,
          ok,
          error,
          responseBody: result.responseBody,
          responseHeaders: result.responseHeaders,
        },
        outcome: transition,
        now,
        pauseLine:
          transition.state === 'failed' && claim.ordered && claim.webhook?.orderingOnFailure === 'pause',
      },
      // The next delivery of its line waits for this record, a stopping worker for all: they
      // do not wait for others (the store's recordDelayMs).
      claim.ordered || !this.#running,
    );
    if (!recorded.applied) return;
    // Notify.
    if (telemetry && transition.state !== 'pending' && telemetry.measuring) {
      telemetry.deliveryFinished({
        scope: claim.scope,
        state: transition.state,
        createdAt: claim.createdAt,
        at: now,
      });
    }
    if (transition.state !== 'pending' && deliveryOutcomeChannel.hasSubscribers) {
      deliveryOutcomeChannel.publish(
        outcomeMessage(claim, transition.state, decision.failure, attemptNumber, now),
      );
    }
    const nextAttemptAt = transition.state === 'pending' ? transition.nextAttemptAt : null;
    if (nextAttemptAt !== null) this.#dueAt(nextAttemptAt);
    const event = EVENT_OF[transition.state];
    if (this.#listeners.get(event)?.size) {
      // Built only when someone listens: this runs once per attempt.
      // One copy; these keys exist on it already, so setting them keeps its fast shape.
      const delivery: Delivery = deliveryFields(claim);
      delivery.state = transition.state;
      delivery.attemptCount = attemptNumber;
      delivery.nextAttemptAt = nextAttemptAt;
      delivery.lastStatus = result.status;
      delivery.lastError = error;
      delivery.updatedAt = now;
      if (decision.failure !== null)
        this.#emit('delivery.failed', { delivery, result, reason: decision.failure });
      else if (nextAttemptAt !== null) this.#emit('delivery.retrying', { delivery, result, nextAttemptAt });
      else this.#emit('delivery.succeeded', { delivery, result });
    }
    // A 410 disables at once; other failures when the webhook's health crosses the limits.
    if (decision.disable !== null) await this.#disable(webhook, decision.disable);
    else if (
      !ok &&
      recorded.health &&
      this.#autoDisable &&
      shouldAutoDisable(recorded.health, this.#autoDisable, now)
    ) {
      await this.#disable(webhook, 'failing');
    }
  }

  /** `deliver()` options for a retry policy, made once per policy object. */
  #deliverOptions(policy: RetryPolicy): DeliverOptions {
    let options = this.#optionsByPolicy.get(policy);
    if (!options) {
      const clock = this.#clock;
      options = {
        timeoutMs: this.#timeoutMs,
        maxResponseBytes: this.#maxResponseBytes,
        now: () => clock.now(),
        transport: this.#transport,
        // Not for the decision (decideOutcome classifies again, a few comparisons): so that the
        // result the events carry is classified under the webhook's policy, as before.
        retryPolicy: policy,
      };
      this.#optionsByPolicy.set(policy, options);
    }
    return options;
  }

  async #disable(webhook: WebhookRecord, reason: 'gone' | 'failing'): Promise<void> {
    try {
      await this.#host.disableForWorker(webhook, reason);
      // A store with a watch may have told us already (PostgreSQL's NOTIFY comes later); this
      // covers stores without one.
      this.#revoke(webhook.scope, webhook.id, 'webhook disabled');
      this.#emit('webhook.disabled', { scope: webhook.scope, webhookId: webhook.id, reason });
    } catch (error) {
      this.#emitError(asHooklineError(error, `Disabling webhook ${webhook.id} failed.`), 'disable');
    }
  }

  async #maybePurge(): Promise<void> {
    const now = this.#clock.now();
    if (now - this.#lastPurge < 60 * 60 * 1000) return;
    this.#lastPurge = now;
    try {
      await this.#store.purgeAttempts({ before: new Date(now - this.#retentionMs) });
    } catch (error) {
      this.#emitError(asHooklineError(error, 'Purging old attempts failed.'), 'purge');
    }
  }

  /** Tells the listeners and the diagnostics channel that a held claim was canceled. */
  #canceled(claim: ClaimedDelivery, reason: string): void {
    if (this.#host.telemetry?.measuring)
      this.#host.telemetry.deliveryFinished({
        scope: claim.scope,
        state: 'canceled',
        createdAt: claim.createdAt,
        at: new Date(this.#clock.now()),
      });
    if (deliveryOutcomeChannel.hasSubscribers) {
      deliveryOutcomeChannel.publish(
        outcomeMessage(claim, 'canceled', reason, claim.attemptCount, new Date(this.#clock.now())),
      );
    }
    this.#emit('delivery.canceled', { delivery: deliveryFields(claim), reason });
  }

  #notifyIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  #emit<K extends keyof WorkerEvents>(event: K, payload: WorkerEvents[K]): void {
    for (const listener of this.#listeners.get(event) ?? []) {
      try {
        (listener as Listener<K>)(payload);
      } catch (error) {
        if (event !== 'error')
          this.#emitError(asHooklineError(error, `A ${event} listener threw.`), 'record');
      }
    }
  }

  #emitError(error: HooklineError, during: WorkerEvents['error']['during']): void {
    if ((this.#listeners.get('error')?.size ?? 0) === 0) {
      if (this.#logger)
        log(this.#logger, 'error', { err: error, during }, `hookline: worker error during ${during}`);
      else console.error(`[hookline] worker error during ${during}:`, error);
      return;
    }
    log(this.#logger, 'debug', { err: error, during }, `hookline: worker error during ${during}`);
    this.#emit('error', { error, during });
  }
}

/** The `hookline:delivery:outcome` message of a claim that reached `state`. */
function outcomeMessage(
  claim: ClaimedDelivery,
  state: DeliveryOutcomeMessage['state'],
  reason: string | null,
  attempts: number,
  at: Date,
): DeliveryOutcomeMessage {
  return {
    deliveryId: claim.id,
    notificationId: claim.notificationId,
    scope: claim.scope,
    webhookId: claim.webhookId,
    type: claim.type,
    state,
    reason,
    attempts,
    createdAt: claim.createdAt,
    at,
  };
}

/** The `hookline:attempt:start` message of an attempt (also the base of its end message). */
function attemptStartMessage(claim: ClaimedDelivery, attempt: number, startedAt: Date): AttemptStartMessage {
  return {
    deliveryId: claim.id,
    notificationId: claim.notificationId,
    scope: claim.scope,
    webhookId: claim.webhookId,
    type: claim.type,
    attempt,
    method: claim.request.method,
    url: withoutCredentials(claim.request.url),
    dueAt: claim.nextAttemptAt,
    startedAt,
  };
}

function describeError(result: DeliveryResult): string | null {
  if (result.error) return `${result.error.code}: ${result.error.message}`;
  if (result.status >= 200 && result.status <= 299) return null;
  return `HTTP ${result.status}`;
}
