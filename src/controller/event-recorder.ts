import { type EventsV1Event, V1MicroTime, type V1ObjectReference } from '@kubernetes/client-node';
import { type EventClient, isNotFound, type KubeObject } from '../kube/port.js';
import { type Logger, silentLogger } from '../telemetry/logger.js';
import { redactSecrets } from '../telemetry/redact.js';
import { type Clock, systemClock, type TimerHandle } from './clock.js';
import { EventCorrelator, type EventCorrelatorOptions, remember } from './event-correlator.js';

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
export interface EventRecorderOptions extends EventCorrelatorOptions {
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
  /** The regarded object, for the spam filter's bucket. */
  objectKey: string;
  note: string;
  count: number;
  firstObserved: number;
  lastObserved: number;
  /** Writes of this series run one after another. */
  chain: Promise<void>;
  /** A write is queued behind `chain` and will carry the latest count. */
  pending: boolean;
  /** A repeat the spam filter held back: written when a token refills, or by `flush`. */
  deferred?: { timer: TimerHandle; write(): void };
}

const NOTE_LIMIT = 1024;

/**
 * Records events.k8s.io/v1 Events, correlated as client-go's recorder does (EventCorrelator):
 * an occurrence identical to an earlier one (object, type, reason, action and note) within the
 * series window bumps that Event's `series` (count, lastObservedTime) instead of creating one; a
 * distinct note gets its own Event, until ten distinct notes of the same object, type, reason and
 * action arrive within ten minutes: from the tenth on they join one Event noted
 * "(combined from similar events): …". Repeats about one object are written at most 25 in a burst
 * and then one per 5 minutes; a held-back count is written later, never dropped. Recording never
 * throws: failures are logged.
 */
export class EventRecorder {
  private readonly series = new Map<string, Series>();
  private readonly deferred = new Set<Series>();
  private readonly correlator: EventCorrelator;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private sequence = 0;

  constructor(private readonly options: EventRecorderOptions) {
    this.clock = options.clock ?? systemClock;
    this.logger = (options.logger ?? silentLogger()).child({ component: 'events' });
    this.correlator = new EventCorrelator(options);
  }

  /** Records `input` about `regarding`; resolves once written (or failed, or held back). */
  record(regarding: KubeObject, input: EventInput): Promise<void> {
    const now = this.clock.now();
    const objectKey = objectKeyOf(regarding);
    const similarKey = JSON.stringify([objectKey, input.type, input.reason, input.action]);
    const note = redactSecrets(input.note).slice(0, NOTE_LIMIT);
    const { key, note: shown } = this.correlator.correlate(similarKey, note, now);
    const existing = this.series.get(key);
    if (existing && now - existing.lastObserved <= (this.options.seriesWindowMs ?? 360_000)) {
      existing.count++;
      existing.lastObserved = now;
      this.remember(key, existing);
      return this.repeat(regarding, input, existing);
    }
    const series: Series = {
      namespace: regarding.metadata.namespace ?? 'default',
      name: this.eventName(regarding, now),
      objectKey,
      note: shown.slice(0, NOTE_LIMIT),
      count: 1,
      firstObserved: now,
      lastObserved: now,
      chain: Promise.resolve(),
      pending: false,
    };
    this.remember(key, series);
    this.correlator.takeToken(objectKey, now);
    return this.enqueue(series, () => this.create(regarding, input, series));
  }

  /** Writes every held-back repeat now and resolves once every write started has finished. */
  async flush(): Promise<void> {
    const held = [...this.deferred];
    for (const series of held) {
      if (!series.deferred) continue;
      this.clock.clearTimeout(series.deferred.timer);
      series.deferred.write();
    }
    await Promise.all([...this.series.values(), ...held].map((series) => series.chain));
  }

  /** Writes a repeat's count when the object's spam bucket allows, else once it refills. */
  private repeat(regarding: KubeObject, input: EventInput, series: Series): Promise<void> {
    if (series.deferred || series.pending) return series.chain;
    const waitMs = this.correlator.takeToken(series.objectKey, this.clock.now());
    const write = () => {
      series.deferred = undefined;
      this.deferred.delete(series);
      return this.enqueue(series, () => this.patchSeries(regarding, input, series));
    };
    if (waitMs === 0) return write();
    const timer = this.clock.setTimeout(() => {
      series.deferred = undefined;
      this.deferred.delete(series);
      void this.repeat(regarding, input, series);
    }, waitMs);
    series.deferred = { timer, write };
    this.deferred.add(series);
    return Promise.resolve();
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
      note: series.note,
      ...(series.count > 1
        ? {
            series: { count: series.count, lastObservedTime: new V1MicroTime(series.lastObserved) },
          }
        : {}),
    };
  }

  private remember(key: string, series: Series): void {
    remember(this.series, key, series, this.options.maxSeries ?? 4096);
  }

  /** `<object name>.<hex nanoseconds>` like client-go, unique within this recorder. */
  private eventName(regarding: KubeObject, now: number): string {
    const nanos = BigInt(now) * 1_000_000n + BigInt(this.sequence++ % 1_000_000);
    return `${regarding.metadata.name}.${nanos.toString(16)}`;
  }
}

/** The regarded object's identity: what the correlator groups by. */
function objectKeyOf(regarding: KubeObject): string {
  const { namespace, name, uid } = regarding.metadata;
  return JSON.stringify([regarding.apiVersion, regarding.kind, namespace, name, uid]);
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
