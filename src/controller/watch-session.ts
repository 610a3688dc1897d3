import type {
  KubeObject,
  Watchable,
  WatchEventType,
  WatchHandle,
  WatchOptions,
} from '../kube/port.js';
import type { Clock, TimerHandle } from './clock.js';

/** How a watch ended: the last resourceVersion seen, and the error if it was not a normal end. */
export interface WatchEnd {
  resourceVersion: string;
  error?: Error;
  /** It lived long enough or delivered changes, so the caller's backoff may reset. */
  healthy: boolean;
}

/** Options of one WatchSession. */
export interface WatchSessionOptions<T extends KubeObject> {
  resource: Watchable<T>;
  namespace: string | undefined;
  options: WatchOptions & { timeoutSeconds: number };
  clock: Clock;
  healthyAfterMs: number;
  onChange(type: 'added' | 'updated' | 'deleted', object: T): void;
}

const CHANGE: Record<Exclude<WatchEventType, 'BOOKMARK'>, 'added' | 'updated' | 'deleted'> = {
  ADDED: 'added',
  MODIFIED: 'updated',
  DELETED: 'deleted',
};

/** Slack past the server-side timeout before a silent watch is presumed dead. */
const IDLE_GRACE_MS = 30_000;

/**
 * One watch from open to end. Tracks the resourceVersion, ends itself when the connection goes
 * silent past the server timeout (a half-open connection), and `close()` ends it for good: the
 * watch is stopped even when it was still being opened.
 */
export class WatchSession<T extends KubeObject> {
  /** Resolves when the watch ended, for whatever reason. */
  readonly closed: Promise<WatchEnd>;
  private resolveClosed!: (end: WatchEnd) => void;
  private done = false;
  private handle: WatchHandle | undefined;
  private watchdog: TimerHandle | undefined;
  private resourceVersion: string;
  private changes = 0;
  private lastActivity: number;
  private readonly startedAt: number;

  constructor(private readonly options: WatchSessionOptions<T>) {
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    this.resourceVersion = options.options.resourceVersion;
    this.startedAt = this.lastActivity = options.clock.now();
    this.armWatchdog();
    const opening = options.resource.watch(options.namespace, options.options, {
      onEvent: (type, object) => this.onEvent(type, object),
      onClose: (error) => this.finish(error),
    });
    opening.then(
      (handle) => {
        if (this.done) handle.stop();
        else this.handle = handle;
      },
      (error: unknown) => this.finish(error instanceof Error ? error : new Error(String(error))),
    );
    // close() waits for an opening watch so that it can stop it
    this.closed = Promise.all([this.closed, opening.catch(() => undefined)]).then(([end]) => end);
  }

  /** Ends the watch now; `closed` resolves once the watch is stopped. */
  close(): void {
    this.finish();
  }

  private onEvent(type: WatchEventType, object: T): void {
    if (this.done) return;
    this.lastActivity = this.options.clock.now();
    this.resourceVersion = object.metadata.resourceVersion ?? this.resourceVersion;
    if (type === 'BOOKMARK') return;
    this.changes++;
    this.options.onChange(CHANGE[type], object);
  }

  private finish(error?: Error): void {
    if (this.done) return;
    this.done = true;
    this.handle?.stop();
    if (this.watchdog !== undefined) this.options.clock.clearTimeout(this.watchdog);
    const lived = this.options.clock.now() - this.startedAt;
    const healthy = this.changes > 0 || lived >= this.options.healthyAfterMs;
    this.resolveClosed({ resourceVersion: this.resourceVersion, error, healthy });
  }

  private armWatchdog(): void {
    const limit = this.options.options.timeoutSeconds * 1000 + IDLE_GRACE_MS;
    const wait = this.lastActivity + limit - this.options.clock.now();
    this.watchdog = this.options.clock.setTimeout(() => {
      if (this.done) return;
      if (this.options.clock.now() - this.lastActivity >= limit) {
        this.finish(new Error(`watch silent for ${limit} ms`));
      } else this.armWatchdog();
    }, wait);
  }
}
