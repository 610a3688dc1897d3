import {
  isGone,
  isResourceVersionTooLarge,
  type KubeObject,
  type ListOptions,
  type Watchable,
} from '../kube/port.js';
import { type Logger, silentLogger } from '../telemetry/logger.js';
import { type BackoffOptions, backoffDelay } from './backoff.js';
import { type Clock, sleep, systemClock, type TimerHandle } from './clock.js';
import { objectKey } from './keys.js';
import { WatchSession } from './watch-session.js';

/** What happened to an object, for logs and metrics only: reconcilers never branch on it. */
export type ChangeType = 'added' | 'updated' | 'deleted' | 'resync';

/** Receives the key of every object that changed, with the object (the last known one if deleted). */
export type ChangeHandler<T> = (key: string, object: T, type: ChangeType) => void;

/** Options of an Informer; only `resource` and `name` are required. */
export interface InformerOptions<T extends KubeObject> extends ListOptions {
  resource: Watchable<T>;
  /** For logs. */
  name: string;
  /** One namespace, or every namespace when undefined. */
  namespace?: string;
  /** Backoff between failed lists/watches. Default 800 ms doubling to 30 s, 50 % jitter. */
  backoff?: BackoffOptions;
  /** Server-side watch timeout; each watch asks for a random value between this and twice it. */
  watchTimeoutSeconds?: number;
  /** Every this many ms, hand every cached object to the handlers again (0 = never). */
  resyncMs?: number;
  clock?: Clock;
  random?: () => number;
  logger?: Logger;
}

const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 800, maxMs: 30_000, jitter: 0.5 };

/**
 * List+watch cache of one resource. Lists, then watches from the list's resourceVersion;
 * reconnects when a watch ends, relists at once on 410 Gone, relists after the backoff when
 * the server has not reached the version it watches from, backs off on errors. `stop()` is
 * final: once it resolves no watch, request or timer of this informer is left and no handler runs.
 */
export class Informer<T extends KubeObject> {
  private readonly cache = new Map<string, T>();
  private readonly handlers = new Set<ChangeHandler<T>>();
  private readonly stopping = new AbortController();
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly logger: Logger;
  private session: WatchSession<T> | undefined;
  private loop: Promise<void> | undefined;
  private resyncTimer: TimerHandle | undefined;
  private synced = false;
  private readonly syncWaiters = new Set<(synced: boolean) => void>();

  constructor(private readonly options: InformerOptions<T>) {
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.logger = (options.logger ?? silentLogger()).child({ informer: options.name });
  }

  /** Adds a handler; returns a function that removes it. */
  onChange(handler: ChangeHandler<T>): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /** The cached object of `key` (`namespace/name`). */
  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  /** Every cached object. */
  list(): T[] {
    return [...this.cache.values()];
  }

  /** True once the first list has filled the cache. */
  get hasSynced(): boolean {
    return this.synced;
  }

  /** Starts listing and watching in the background. */
  start(): void {
    if (this.loop || this.stopping.signal.aborted) throw new Error('informer already started');
    this.loop = this.run();
    this.scheduleResync();
  }

  /** Resolves true once synced, or false if the informer stops first. */
  waitForSync(): Promise<boolean> {
    if (this.synced || this.stopping.signal.aborted) return Promise.resolve(this.synced);
    return new Promise((resolve) => this.syncWaiters.add(resolve));
  }

  /** Stops for good and resolves once nothing of this informer is left running. */
  async stop(): Promise<void> {
    this.stopping.abort();
    if (this.resyncTimer !== undefined) this.clock.clearTimeout(this.resyncTimer);
    this.session?.close();
    for (const resolve of this.syncWaiters) resolve(this.synced);
    this.syncWaiters.clear();
    await this.session?.closed;
    await this.loop;
  }

  private async run(): Promise<void> {
    let resourceVersion: string | undefined;
    let attempt = 0;
    while (!this.stopping.signal.aborted) {
      try {
        resourceVersion ??= await this.relist();
        if (resourceVersion === undefined) break;
        const end = await this.watch(resourceVersion);
        resourceVersion = end.resourceVersion;
        if (end.healthy) attempt = 0;
        if (!end.error) continue;
        if (isGone(end.error)) {
          this.logger.info({ resourceVersion }, 'watch expired, relisting');
          resourceVersion = undefined;
          continue;
        }
        // The server never reached our version (its store was reset): relist after the backoff.
        if (isResourceVersionTooLarge(end.error)) resourceVersion = undefined;
        throw end.error;
      } catch (error) {
        if (this.stopping.signal.aborted) break;
        const delayMs = backoffDelay(
          attempt++,
          this.options.backoff ?? DEFAULT_BACKOFF,
          this.random,
        );
        this.logger.warn({ err: error, delayMs }, 'list or watch failed, retrying');
        await sleep(this.clock, delayMs, this.stopping.signal);
      }
    }
  }

  /** Lists everything, replaces the cache and emits the differences; undefined when stopped. */
  private async relist(): Promise<string | undefined> {
    const { namespace, labelSelector, fieldSelector } = this.options;
    const list = await this.options.resource.listWithVersion(namespace, {
      labelSelector,
      fieldSelector,
    });
    if (this.stopping.signal.aborted) return undefined;
    const next = new Map(list.items.map((item) => [objectKey(item), item]));
    for (const [key, old] of this.cache) {
      if (!next.has(key)) this.apply('deleted', key, old);
    }
    for (const [key, item] of next) {
      const old = this.cache.get(key);
      if (!old) this.apply('added', key, item);
      else if (old.metadata.resourceVersion !== item.metadata.resourceVersion) {
        this.apply('updated', key, item);
      }
    }
    this.markSynced();
    return list.resourceVersion;
  }

  private async watch(resourceVersion: string) {
    const base = this.options.watchTimeoutSeconds ?? 300;
    this.session = new WatchSession<T>({
      resource: this.options.resource,
      namespace: this.options.namespace,
      options: {
        resourceVersion,
        labelSelector: this.options.labelSelector,
        fieldSelector: this.options.fieldSelector,
        timeoutSeconds: Math.round(base * (1 + this.random())),
      },
      clock: this.clock,
      healthyAfterMs: (this.options.backoff ?? DEFAULT_BACKOFF).maxMs,
      onChange: (type, object) => this.apply(type, objectKey(object), object),
    });
    return this.session.closed;
  }

  private apply(type: Exclude<ChangeType, 'resync'>, key: string, object: T): void {
    if (this.stopping.signal.aborted) return;
    if (type === 'deleted') this.cache.delete(key);
    else this.cache.set(key, object);
    this.emit(key, object, type);
  }

  private emit(key: string, object: T, type: ChangeType): void {
    for (const handler of this.handlers) {
      try {
        handler(key, object, type);
      } catch (error) {
        this.logger.error({ err: error, key }, 'change handler failed');
      }
    }
  }

  private markSynced(): void {
    if (this.synced) return;
    this.synced = true;
    for (const resolve of this.syncWaiters) resolve(true);
    this.syncWaiters.clear();
  }

  private scheduleResync(): void {
    const every = this.options.resyncMs ?? 0;
    if (every <= 0 || this.stopping.signal.aborted) return;
    this.resyncTimer = this.clock.setTimeout(() => {
      for (const [key, object] of this.cache) this.emit(key, object, 'resync');
      this.scheduleResync();
    }, every);
  }
}
