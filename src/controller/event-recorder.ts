import { type EventsV1Event, V1MicroTime, type V1ObjectReference } from '@kubernetes/client-node';
import { type EventClient, isNotFound, type KubeObject } from '../kube/port.js';
import { type Logger, silentLogger } from '../telemetry/logger.js';
import { redactSecrets } from '../telemetry/redact.js';
import { type Clock, systemClock } from './clock.js';

/** One occurrence to record about an object. */
export interface EventInput {
  type: 'Normal' | 'Warning';
  /** CamelCase why (`BatchStarted`, `FailureBudgetExceeded`). */
  reason: string;
  /** CamelCase what was done (`StartBatch`, `Pause`). */
  action: string;
  /** Human-readable; secrets are redacted and it is cut to the API's 1 kB limit. */
  note: string;
}

/** Options of an EventRecorder. */
export interface EventRecorderOptions {
  events: EventClient;
  /** `reportingController`, e.g. `fleet.iotistic.io/controller`. */
  controller: string;
  /** `reportingInstance`: this process's identity. */
  instance: string;
  /** A repeat within this long of the last occurrence joins its series. Default 6 minutes. */
  seriesWindowMs?: number;
  /** Series remembered at most; the oldest are forgotten first. Default 4096. */
  maxSeries?: number;
  clock?: Clock;
  logger?: Logger;
}

interface Series {
  namespace: string;
  name: string;
  count: number;
  firstObserved: number;
  lastObserved: number;
  /** Writes of this series run one after another. */
  chain: Promise<void>;
  /** A write is queued behind `chain` and will carry the latest count. */
  pending: boolean;
}

const NOTE_LIMIT = 1024;

/**
 * Records events.k8s.io/v1 Events. The first occurrence of (regarding, reason, action, type)
 * creates an Event; repeats within the window bump its `series` (count, lastObservedTime) instead
 * of creating objects. Recording never throws: failures are logged.
 */
export class EventRecorder {
  private readonly series = new Map<string, Series>();
  private readonly clock: Clock;
  private readonly logger: Logger;
  private sequence = 0;

  constructor(private readonly options: EventRecorderOptions) {
    this.clock = options.clock ?? systemClock;
    this.logger = (options.logger ?? silentLogger()).child({ component: 'events' });
  }

  /** Records `input` about `regarding`; resolves once written (or failed and logged). */
  record(regarding: KubeObject, input: EventInput): Promise<void> {
    const now = this.clock.now();
    const key = seriesKey(regarding, input);
    const existing = this.series.get(key);
    if (existing && now - existing.lastObserved <= (this.options.seriesWindowMs ?? 360_000)) {
      existing.count++;
      existing.lastObserved = now;
      this.touch(key, existing);
      return this.enqueue(existing, () => this.patchSeries(regarding, input, existing));
    }
    const series: Series = {
      namespace: regarding.metadata.namespace ?? 'default',
      name: this.eventName(regarding, now),
      count: 1,
      firstObserved: now,
      lastObserved: now,
      chain: Promise.resolve(),
      pending: false,
    };
    this.touch(key, series);
    return this.enqueue(series, () => this.create(regarding, input, series));
  }

  /** Resolves once every write started so far has finished. */
  async flush(): Promise<void> {
    await Promise.all([...this.series.values()].map((series) => series.chain));
  }

  private enqueue(series: Series, write: () => Promise<void>): Promise<void> {
    if (series.pending) return series.chain;
    series.pending = true;
    series.chain = series.chain.then(() => {
      series.pending = false;
      return write().catch((error: unknown) =>
        this.logger.warn({ err: error, event: series.name }, 'event not recorded'),
      );
    });
    return series.chain;
  }

  private async create(regarding: KubeObject, input: EventInput, series: Series): Promise<void> {
    await this.options.events.create(this.eventBody(regarding, input, series));
  }

  private async patchSeries(regarding: KubeObject, input: EventInput, series: Series) {
    const patch = {
      series: { count: series.count, lastObservedTime: new V1MicroTime(series.lastObserved) },
    };
    try {
      await this.options.events.mergePatch(series.namespace, series.name, patch);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      await this.options.events.create(this.eventBody(regarding, input, series));
    }
  }

  private eventBody(regarding: KubeObject, input: EventInput, series: Series): EventsV1Event {
    return {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: series.name, namespace: series.namespace },
      eventTime: new V1MicroTime(series.firstObserved),
      reportingController: this.options.controller,
      reportingInstance: this.options.instance,
      regarding: reference(regarding),
      type: input.type,
      reason: input.reason,
      action: input.action,
      note: redactSecrets(input.note).slice(0, NOTE_LIMIT),
      ...(series.count > 1
        ? {
            series: { count: series.count, lastObservedTime: new V1MicroTime(series.lastObserved) },
          }
        : {}),
    };
  }

  /** Marks `key` most recently used and forgets the least recently used beyond the limit. */
  private touch(key: string, series: Series): void {
    this.series.delete(key);
    this.series.set(key, series);
    const limit = this.options.maxSeries ?? 4096;
    for (const oldest of this.series.keys()) {
      if (this.series.size <= limit) break;
      this.series.delete(oldest);
    }
  }

  /** `<object name>.<hex nanoseconds>` like client-go, unique within this recorder. */
  private eventName(regarding: KubeObject, now: number): string {
    const nanos = BigInt(now) * 1_000_000n + BigInt(this.sequence++ % 1_000_000);
    return `${regarding.metadata.name}.${nanos.toString(16)}`;
  }
}

function seriesKey(regarding: KubeObject, input: EventInput): string {
  const { namespace, name, uid } = regarding.metadata;
  return JSON.stringify([
    regarding.apiVersion,
    regarding.kind,
    namespace,
    name,
    uid,
    input.type,
    input.reason,
    input.action,
  ]);
}

function reference(object: KubeObject): V1ObjectReference {
  return {
    apiVersion: object.apiVersion,
    kind: object.kind,
    namespace: object.metadata.namespace,
    name: object.metadata.name,
    uid: object.metadata.uid,
    resourceVersion: object.metadata.resourceVersion,
  };
}
