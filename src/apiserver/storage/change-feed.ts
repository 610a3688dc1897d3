import type { Database } from '../../db/client.js';
import type { Logger } from '../../telemetry/logger.js';
import { type ApiError, expired } from '../status.js';
import { CHANGES_CHANNEL, type Change, type ObjectStore } from './store.js';

/** Receives the changes of one subscription, in resourceVersion order. */
export interface ChangeSink {
  deliver(change: Change): void;
  /** The log was compacted past this subscription's position; it is closed. */
  expire(error: ApiError): void;
}

/** A live subscription to one resource's changes. */
export interface Subscription {
  /** Every change up to this resourceVersion has been delivered (for bookmarks). */
  progress(): number;
  close(): void;
}

interface Subscriber {
  resource: string;
  last: number;
  /** Changes that arrived while catching up; undefined once live. */
  buffer: Change[] | undefined;
  sink: ChangeSink;
}

const PAGE = 1000;

/**
 * One reader of the change log per process, fanning changes out to watches. It reads when a
 * write commits here, when Postgres NOTIFY says another process wrote, and on a timer as a
 * safety net. ResourceVersions are contiguous, so a gap means compaction overtook it.
 */
export class ChangeFeed {
  private position = 0;
  private readonly subscribers = new Set<Subscriber>();
  private polling: Promise<void> | undefined;
  private pollAgain = false;
  private timer: NodeJS.Timeout | undefined;
  private unlisten: (() => Promise<void>) | undefined;

  constructor(
    private readonly store: ObjectStore,
    private readonly database: Database,
    private readonly logger: Logger,
    private readonly pollIntervalMs = 2000,
  ) {}

  /** Starts at the current resourceVersion and begins listening. */
  async start(): Promise<void> {
    this.position = (await this.store.state()).resourceVersion;
    this.unlisten = await this.database.listen(CHANGES_CHANNEL, {
      onNotification: () => this.poke(),
      onReconnect: () => this.poke(),
    });
    this.timer = setInterval(() => this.poke(), this.pollIntervalMs);
    this.timer.unref();
  }

  /** Stops listening and polling; open subscriptions receive nothing more. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.unlisten?.();
    await this.polling;
    this.subscribers.clear();
  }

  /** Number of open subscriptions. */
  get size(): number {
    return this.subscribers.size;
  }

  /** Reads new changes soon; coalesces concurrent calls. */
  poke(): void {
    if (this.polling) {
      this.pollAgain = true;
      return;
    }
    this.polling = this.poll().finally(() => {
      this.polling = undefined;
      if (this.pollAgain) {
        this.pollAgain = false;
        this.poke();
      }
    });
  }

  /**
   * Delivers the changes of `resource` after `from`, then live ones. Rejects with 410 Expired
   * when `from` is older than the compacted log.
   */
  async subscribe(resource: string, from: number, sink: ChangeSink): Promise<Subscription> {
    const subscriber: Subscriber = { resource, last: from, buffer: [], sink };
    this.subscribers.add(subscriber);
    try {
      await this.catchUp(subscriber, from);
    } catch (error) {
      this.subscribers.delete(subscriber);
      throw error;
    }
    const buffered = subscriber.buffer ?? [];
    subscriber.buffer = undefined;
    for (const change of buffered) this.deliver(subscriber, change);
    return {
      progress: () =>
        subscriber.buffer ? subscriber.last : Math.max(subscriber.last, this.position),
      close: () => {
        this.subscribers.delete(subscriber);
      },
    };
  }

  private async catchUp(subscriber: Subscriber, from: number): Promise<void> {
    for (;;) {
      const changes = await this.store.changesSince(subscriber.last, subscriber.resource, PAGE);
      const { compacted } = await this.store.state();
      if (subscriber.last < compacted) {
        throw expired(`too old resource version: ${from} (${compacted})`);
      }
      for (const change of changes) {
        subscriber.sink.deliver(change);
        subscriber.last = change.resourceVersion;
      }
      if (changes.length < PAGE) return;
    }
  }

  private deliver(subscriber: Subscriber, change: Change): void {
    if (change.resourceVersion <= subscriber.last) return;
    subscriber.last = change.resourceVersion;
    subscriber.sink.deliver(change);
  }

  private async poll(): Promise<void> {
    try {
      for (;;) {
        const changes = await this.store.changesSince(this.position, undefined, PAGE);
        const first = changes[0];
        if (first && first.resourceVersion !== this.position + 1) this.expireAll();
        for (const change of changes) this.dispatch(change);
        const last = changes.at(-1);
        if (last) this.position = last.resourceVersion;
        if (changes.length < PAGE) return;
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'change feed read failed');
    }
  }

  private dispatch(change: Change): void {
    for (const subscriber of this.subscribers) {
      if (subscriber.resource !== change.resource) continue;
      if (subscriber.buffer) subscriber.buffer.push(change);
      else this.deliver(subscriber, change);
    }
  }

  /** Compaction removed changes this process had not read yet: every watch must restart. */
  private expireAll(): void {
    this.logger.warn({ position: this.position }, 'change log compacted past the change feed');
    for (const subscriber of this.subscribers) {
      if (subscriber.buffer) continue;
      subscriber.sink.expire(
        expired(`too old resource version: ${subscriber.last} (compacted while watching)`),
      );
      this.subscribers.delete(subscriber);
    }
  }
}
