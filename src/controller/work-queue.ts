import { Registry } from 'prom-client';
import { type Logger, silentLogger } from '../telemetry/logger.js';
import { type BackoffOptions, backoffDelay } from './backoff.js';
import { type Clock, systemClock, type TimerHandle } from './clock.js';
import { type QueueMetrics, queueMetrics } from './queue-metrics.js';

/** What processing a key asks for next: nothing, or another pass after `requeueAfter` ms. */
export interface WorkResult {
  requeueAfter?: number;
}

/** Processes one key; throwing retries it with backoff unless the error is a TerminalError. */
export type WorkHandler = (key: string, signal: AbortSignal) => Promise<WorkResult | undefined>;

/** An error a retry cannot fix: the handler has recorded it (a condition); the key is dropped. */
export class TerminalError extends Error {}

/** Options of a WorkQueue; everything but `name` and `handler` has a default. */
export interface WorkQueueOptions {
  /** Metric label and log field; one per controller, so the label stays bounded. */
  name: string;
  handler: WorkHandler;
  /** Keys processed at the same time (never the same key twice). Default 2. */
  concurrency?: number;
  /** Per-key retry backoff. Default 100 ms doubling to 5 min, 20 % jitter. */
  backoff?: BackoffOptions;
  registry?: Registry;
  logger?: Logger;
  clock?: Clock;
  random?: () => number;
}

const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 100, maxMs: 5 * 60_000, jitter: 0.2 };

/**
 * A keyed work queue in the manner of client-go's: a key added while queued is queued once; a key
 * added while being processed is processed again afterwards, never concurrently; failures retry
 * with per-key exponential backoff (reset on success); `addAfter` schedules a later pass.
 */
export class WorkQueue {
  private readonly ready: string[] = [];
  private readonly queued = new Map<string, number>();
  private readonly processing = new Set<string>();
  private readonly waiting = new Map<string, { at: number; timer: TimerHandle }>();
  private readonly failures = new Map<string, number>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private readonly clock: Clock;
  private readonly metrics: QueueMetrics;
  private readonly logger: Logger;
  private state: 'new' | 'running' | 'stopped' = 'new';

  constructor(private readonly options: WorkQueueOptions) {
    this.clock = options.clock ?? systemClock;
    this.metrics = queueMetrics(options.registry ?? new Registry());
    this.logger = (options.logger ?? silentLogger()).child({ queue: options.name });
  }

  /** Keys ready to be processed (not counting delayed ones or those being processed). */
  get depth(): number {
    return this.ready.length;
  }

  /** Queues `key` unless it is already queued; ignored after shutdown. */
  add(key: string): void {
    if (this.state === 'stopped' || this.queued.has(key)) return;
    this.queued.set(key, this.clock.now());
    this.metrics.adds.inc({ name: this.options.name });
    if (!this.processing.has(key)) this.ready.push(key);
    this.updateDepth();
    this.dispatch();
  }

  /** Queues `key` after `delayMs`; an earlier pending add of the same key wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.state === 'stopped') return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    // Node runs a longer timer at once (a freeze window weeks ahead would spin): wake up at the
    // limit instead; the pass then finds the time not reached and asks again.
    const delay = Math.min(delayMs, MAX_TIMER_MS);
    const at = this.clock.now() + delay;
    const pending = this.waiting.get(key);
    if (pending && pending.at <= at) return;
    if (pending) this.clock.clearTimeout(pending.timer);
    const timer = this.clock.setTimeout(() => {
      this.waiting.delete(key);
      this.add(key);
    }, delay);
    this.waiting.set(key, { at, timer });
  }

  /** Starts processing queued keys. */
  start(): void {
    if (this.state !== 'new') throw new Error(`work queue ${this.options.name} already started`);
    this.state = 'running';
    this.dispatch();
  }

  /**
   * Stops for good: drops queued and delayed keys, aborts the signal handlers were given, and
   * resolves once every handler in flight has returned.
   */
  async shutdown(): Promise<void> {
    this.state = 'stopped';
    for (const { timer } of this.waiting.values()) this.clock.clearTimeout(timer);
    this.waiting.clear();
    this.ready.length = 0;
    this.queued.clear();
    this.updateDepth();
    this.abort.abort(new Error(`work queue ${this.options.name} shut down`));
    await Promise.all(this.inFlight);
  }

  private dispatch(): void {
    const concurrency = this.options.concurrency ?? 2;
    while (this.state === 'running' && this.processing.size < concurrency && this.ready.length) {
      const key = this.ready.shift()!;
      const queuedAt = this.queued.get(key) ?? this.clock.now();
      this.queued.delete(key);
      this.processing.add(key);
      this.metrics.queueDuration.observe(
        { name: this.options.name },
        (this.clock.now() - queuedAt) / 1000,
      );
      const run = this.process(key).finally(() => {
        this.inFlight.delete(run);
        this.processing.delete(key);
        if (this.queued.has(key)) this.ready.push(key);
        this.updateDepth();
        this.dispatch();
      });
      this.inFlight.add(run);
    }
    this.updateDepth();
  }

  private async process(key: string): Promise<void> {
    const started = this.clock.now();
    try {
      const result = await this.options.handler(key, this.abort.signal);
      this.failures.delete(key);
      if (result?.requeueAfter !== undefined) this.addAfter(key, result.requeueAfter);
    } catch (error) {
      this.onFailure(key, error);
    } finally {
      this.metrics.workDuration.observe(
        { name: this.options.name },
        (this.clock.now() - started) / 1000,
      );
    }
  }

  private onFailure(key: string, error: unknown): void {
    if (this.state === 'stopped') return;
    if (error instanceof TerminalError) {
      this.failures.delete(key);
      this.metrics.errors.inc({ name: this.options.name, kind: 'terminal' });
      this.logger.warn({ key, err: error }, 'processing failed for good');
      return;
    }
    const attempt = this.failures.get(key) ?? 0;
    this.failures.set(key, attempt + 1);
    const delay = backoffDelay(
      attempt,
      this.options.backoff ?? DEFAULT_BACKOFF,
      this.options.random,
    );
    this.metrics.errors.inc({ name: this.options.name, kind: 'retried' });
    this.metrics.retries.inc({ name: this.options.name });
    this.logger.warn(
      { key, attempt: attempt + 1, delayMs: delay, err: error },
      'processing failed',
    );
    this.addAfter(key, delay);
  }

  private updateDepth(): void {
    this.metrics.depth.set({ name: this.options.name }, this.ready.length);
  }
}

/** The longest delay Node's setTimeout keeps (2^31 - 1 ms, about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;
