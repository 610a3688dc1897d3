import type {
  KubeObject,
  ListResult,
  Watchable,
  WatchCallbacks,
  WatchEventType,
  WatchHandle,
  WatchOptions,
} from '../../src/kube/port.js';

/** One watch the informer opened. */
export interface OpenedWatch<T> {
  options: WatchOptions;
  callbacks: WatchCallbacks<T>;
  stopped: boolean;
}

/** A Watchable whose lists and watches the test scripts: what lists return, events, closes. */
export class ScriptedWatchable<T extends KubeObject> implements Watchable<T> {
  items: T[] = [];
  resourceVersion = '1';
  /** Lists answered so far. */
  lists = 0;
  /** The next list calls that reject. */
  listFailures = 0;
  readonly watches: Array<OpenedWatch<T>> = [];
  /** When set, watch() waits for it before resolving (a slow connect). */
  openGate: Promise<void> | undefined;

  async listWithVersion(): Promise<ListResult<T>> {
    this.lists++;
    if (this.listFailures > 0) {
      this.listFailures--;
      throw new Error('list failed');
    }
    return { items: structuredClone(this.items), resourceVersion: this.resourceVersion };
  }

  async watch(
    _namespace: string | undefined,
    options: WatchOptions,
    callbacks: WatchCallbacks<T>,
  ): Promise<WatchHandle> {
    const opened: OpenedWatch<T> = { options, callbacks, stopped: false };
    this.watches.push(opened);
    if (this.openGate) await this.openGate;
    return {
      stop() {
        opened.stopped = true;
      },
    };
  }

  /** Watches neither stopped by the informer nor closed by the test. */
  get openWatches(): number {
    return this.watches.filter((watch) => !watch.stopped).length;
  }

  /** The most recent watch. */
  get latest(): OpenedWatch<T> {
    const watch = this.watches.at(-1);
    if (!watch) throw new Error('no watch opened');
    return watch;
  }

  /** Sends an event on the latest watch. */
  send(type: WatchEventType, object: T): void {
    this.latest.callbacks.onEvent(type, object);
  }

  /** Ends the latest watch from the server side. */
  end(error?: Error): void {
    const watch = this.latest;
    watch.stopped = true;
    watch.callbacks.onClose(error);
  }
}
