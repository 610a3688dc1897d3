import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import type { KubeObject, ListOptions, Watchable } from '../kube/port.js';
import { type Logger, silentLogger } from '../telemetry/logger.js';
import type { BackoffOptions } from './backoff.js';
import type { Clock } from './clock.js';
import { Informer } from './informer.js';
import { type WorkHandler, WorkQueue } from './work-queue.js';

/** A resource the controller watches, and which keys a change of one of its objects queues. */
export interface ControllerSource<T extends KubeObject = KubeObject> extends ListOptions {
  /** Names the informer in logs and in `cached()`. */
  name: string;
  resource: Watchable<T>;
  /** One namespace, or every namespace when undefined. */
  namespace?: string;
  /** Keys to reconcile when `object` changes; default its own `namespace/name`. */
  keys?(object: T): string[];
}

/** Options of a Controller; `name`, `sources` and `reconcile` are required. */
export interface ControllerOptions {
  /** Queue name for metrics and logs (bounded: one per controller). */
  name: string;
  // biome-ignore lint/suspicious/noExplicitAny: sources of different kinds share one list
  sources: ControllerSource<any>[];
  /** Level-triggered: re-read by key, act, return `{ requeueAfter }` or throw to retry. */
  reconcile: WorkHandler;
  concurrency?: number;
  /** Retry backoff of failed reconciles. */
  backoff?: BackoffOptions;
  /** Backoff of failed lists and watches. */
  informerBackoff?: BackoffOptions;
  /** Every this many ms every cached object is reconciled again (0 = never). */
  resyncMs?: number;
  watchTimeoutSeconds?: number;
  registry?: Registry;
  logger?: Logger;
  clock?: Clock;
  random?: () => number;
}

/**
 * Informers → work queue → reconcile. `run(signal)` starts the informers, waits for their caches,
 * then reconciles queued keys until `signal` aborts; at that moment the reconcilers' signal aborts
 * too, and `run` resolves once every reconcile, watch and timer has stopped. Runnable again later
 * (for example each time this process becomes leader).
 */
export class Controller {
  private running:
    | { queue: WorkQueue; informers: Map<string, Informer<KubeObject>>; synced: boolean }
    | undefined;
  private readonly registry: Registry;

  constructor(private readonly options: ControllerOptions) {
    this.registry = options.registry ?? new Registry();
  }

  /** Queues `key` now; ignored while not running. */
  enqueue(key: string): void {
    this.running?.queue.add(key);
  }

  /** Queues `key` after `delayMs`; ignored while not running. */
  enqueueAfter(key: string, delayMs: number): void {
    this.running?.queue.addAfter(key, delayMs);
  }

  /** The cached object of `key` in source `source`, while running. */
  cached<T extends KubeObject>(source: string, key: string): T | undefined {
    return this.running?.informers.get(source)?.get(key) as T | undefined;
  }

  /** Every cached object of source `source`, while running (empty otherwise). */
  list<T extends KubeObject>(source: string): T[] {
    return (this.running?.informers.get(source)?.list() ?? []) as T[];
  }

  /** Resolves once a run's caches have synced (polling every 50 ms), or when `signal` aborts. */
  async synced(signal: AbortSignal): Promise<void> {
    while (!signal.aborted && !this.running?.synced) {
      await sleep(50, undefined, { signal }).catch(() => {});
    }
  }

  /** Runs until `signal` aborts; see the class comment. */
  async run(signal: AbortSignal): Promise<void> {
    if (this.running) throw new Error(`controller ${this.options.name} is already running`);
    if (signal.aborted) return;
    const queue = this.createQueue();
    const informers = new Map(
      this.options.sources.map((source) => [source.name, this.inform(source, queue)]),
    );
    this.running = { queue, informers, synced: false };
    let stopping: Promise<void> | undefined;
    const stopped = new Promise<void>((resolve) => {
      signal.addEventListener(
        'abort',
        () => {
          stopping = queue.shutdown();
          resolve();
        },
        { once: true },
      );
    });
    for (const informer of informers.values()) informer.start();
    await Promise.race([Promise.all([...informers.values()].map((i) => i.waitForSync())), stopped]);
    if (!signal.aborted) {
      this.running.synced = true;
      queue.start();
    }
    await stopped;
    this.running = undefined;
    await Promise.all([...informers.values()].map((informer) => informer.stop()));
    await stopping;
  }

  private createQueue(): WorkQueue {
    const { name, reconcile, concurrency, backoff, logger, clock, random } = this.options;
    return new WorkQueue({
      name,
      handler: reconcile,
      concurrency,
      backoff,
      registry: this.registry,
      logger,
      clock,
      random,
    });
  }

  private inform(source: ControllerSource, queue: WorkQueue): Informer<KubeObject> {
    const { clock, random, resyncMs, watchTimeoutSeconds, informerBackoff } = this.options;
    const informer = new Informer({
      resource: source.resource,
      name: source.name,
      namespace: source.namespace,
      labelSelector: source.labelSelector,
      fieldSelector: source.fieldSelector,
      backoff: informerBackoff,
      watchTimeoutSeconds,
      resyncMs,
      clock,
      random,
      logger: (this.options.logger ?? silentLogger()).child({ controller: this.options.name }),
    });
    informer.onChange((key, object) => {
      for (const queued of source.keys?.(object) ?? [key]) queue.add(queued);
    });
    return informer;
  }
}
