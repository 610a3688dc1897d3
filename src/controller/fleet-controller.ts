import type { Registry } from 'prom-client';
import type { FleetFreeze, ImagePolicy, ImageRollout, NotificationChannel } from '../api/types.js';
import type { Database } from '../db/client.js';
import { PROGRESS_CHANNEL, parseProgressNotification } from '../db/progress-notifications.js';
import type { KubePort } from '../kube/port.js';
import { type DispatchSettings, NotificationDispatcher } from '../notifications/dispatcher.js';
import { NotificationMetrics } from '../notifications/metrics.js';
import type { Logger } from '../telemetry/logger.js';
import { ChannelReconciler } from './channel-reconciler.js';
import { DeviceApiWatch } from './device-api-watch.js';
import { EngineMetrics, type ReconcileResult } from './engine-metrics.js';
import { EventRecorder } from './event-recorder.js';
import { registerFreezeMetrics } from './freeze-metrics.js';
import { reconcileFreeze } from './freeze-reconciler.js';
import { reconcilePolicy } from './policy-reconciler.js';
import { cacheReader, rolloutsOfPolicy, Sources } from './resource-reader.js';
import { RolloutMetrics } from './rollout-metrics.js';
import { reconcileRollout } from './rollout-reconciler.js';
import { Controller } from './runtime.js';
import type { WorkResult } from './work-queue.js';

/** What the fleet controller is built from. */
export interface FleetControllerOptions {
  database: Database;
  kube: KubePort;
  logger: Logger;
  registry: Registry;
  /** This process, as Events' reportingInstance. */
  identity: string;
  /** Every cached rollout and policy is reconciled again this often (default 60 s). */
  resyncMs?: number;
  /** Device progress of one rollout is picked up at most this often (default 1 s). */
  progressDelayMs?: number;
  /** How often the device API's heartbeat is checked for a change (default 2 s). */
  deviceApiWatchMs?: number;
  /** Keys reconciled at once (default 4). */
  concurrency?: number;
  /** Watch and reconcile only this namespace's rollouts and policies; every namespace when undefined. */
  namespace?: string;
  /** The reconcilers' clock (default the system clock). */
  now?(): Date;
  /** Called at each step boundary of a rollout reconcile (tracing; crash tests). */
  onStep?(step: string): void;
  /** Pacing of notification delivery (poll, backoff, attempts). */
  notifications?: DispatchSettings;
}

/**
 * The ImageRollout and ImagePolicy reconcilers on one work queue: informers over both kinds
 * (every namespace, or the one of `namespace`), device progress from Postgres LISTEN/NOTIFY, a periodic resync. `run` until
 * the signal aborts (leadership lost, shutdown); runnable again when leading again.
 */
export class FleetController {
  private readonly controller: Controller;
  private readonly events: EventRecorder;
  private readonly metrics: EngineMetrics;
  private readonly rolloutMetrics: RolloutMetrics;
  private readonly logger: Logger;
  /** See RolloutReconcilerDeps.written; kept across reconciles, reset with each run. */
  private readonly written = new Map<string, string>();
  /** The phase each rollout's last event showed, to notice phase changes. */
  private readonly phases = new Map<string, string | undefined>();
  private readonly channels: ChannelReconciler;
  private readonly dispatcher: NotificationDispatcher;

  constructor(private readonly options: FleetControllerOptions) {
    this.logger = options.logger.child({ component: 'controller' });
    this.events = new EventRecorder({
      events: options.kube.events,
      controller: 'fleet.iotistic.io/controller',
      instance: options.identity,
      logger: this.logger,
    });
    this.controller = new Controller({
      name: 'fleet',
      sources: [
        {
          name: Sources.rollouts,
          resource: options.kube.imageRollouts,
          namespace: options.namespace,
          keys: (rollout: ImageRollout) => this.rolloutKeys(rollout),
        },
        {
          name: Sources.policies,
          resource: options.kube.imagePolicies,
          namespace: options.namespace,
          keys: (policy: ImagePolicy) => this.policyKeys(policy),
        },
        {
          name: Sources.freezes,
          resource: options.kube.fleetFreezes,
          namespace: options.namespace,
          keys: (freeze: FleetFreeze) => this.freezeKeys(freeze),
        },
        {
          name: CHANNELS,
          resource: options.kube.notificationChannels,
          keys: (channel: NotificationChannel) => [`${CHANNEL}/${identify(channel).join('/')}`],
        },
      ],
      reconcile: (key, signal) => this.reconcile(key, signal),
      concurrency: options.concurrency ?? 4,
      resyncMs: options.resyncMs ?? 60_000,
      registry: options.registry,
      logger: this.logger,
    });
    this.metrics = new EngineMetrics(options.registry, () =>
      this.controller.list<ImageRollout>(Sources.rollouts),
    );
    this.rolloutMetrics = new RolloutMetrics(options.registry, {
      rollouts: () => this.controller.list<ImageRollout>(Sources.rollouts),
      policy: (namespace, name) =>
        this.controller.cached<ImagePolicy>(Sources.policies, `${namespace}/${name}`),
      now: options.now ?? (() => new Date()),
    });
    const notificationMetrics = new NotificationMetrics(options.registry);
    const now = options.now ?? (() => new Date());
    registerFreezeMetrics(options.registry, {
      freezes: () => this.controller.list<FleetFreeze>(Sources.freezes),
      now,
    });
    this.channels = new ChannelReconciler({
      kube: options.kube,
      cached: (key) => this.controller.cached<NotificationChannel>(CHANNELS, key),
      enqueue: (key) => this.controller.enqueue(`${CHANNEL}/${key}`),
      events: this.events,
      metrics: notificationMetrics,
      now,
    });
    this.dispatcher = new NotificationDispatcher({
      ...options.notifications,
      db: options.database.db,
      channels: () => this.controller.list<NotificationChannel>(CHANNELS),
      secret: this.channels.secret,
      metrics: notificationMetrics,
      logger: this.logger,
      now,
      onAttempt: (channel, failure, abandoned) =>
        this.channels.onAttempt(channel, failure, abandoned),
    });
  }

  /** Reconciles until `signal` aborts; resolves once every reconcile in flight has returned. */
  async run(signal: AbortSignal): Promise<void> {
    const unlisten = await this.options.database.listen(PROGRESS_CHANNEL, {
      onNotification: (payload) => {
        for (const key of parseProgressNotification(payload)) {
          this.controller.enqueueAfter(`${ROLLOUT}/${key}`, this.options.progressDelayMs ?? 1000);
        }
      },
      onReconnect: () => this.enqueueRollouts(),
    });
    const watch = new DeviceApiWatch(
      this.options.database,
      this.logger,
      (available) => {
        this.metrics.setDeviceApiAvailable(available);
        this.enqueueRollouts();
      },
      this.options.deviceApiWatchMs,
    );
    this.written.clear();
    this.phases.clear();
    this.rolloutMetrics.reset();
    this.metrics.setDeviceApiAvailable(true);
    this.logger.info('controller started');
    watch.start();
    try {
      // Delivery starts once the caches hold the channels; it stops with the controller.
      const dispatching = this.dispatchWhenSynced(signal);
      await this.controller.run(signal);
      await dispatching;
    } finally {
      watch.stop();
      await unlisten();
      await this.events.flush();
      this.metrics.clearDevices();
      this.logger.info('controller stopped');
    }
  }

  private enqueueRollouts(): void {
    for (const rollout of this.controller.list<ImageRollout>(Sources.rollouts)) {
      this.controller.enqueue(rolloutKey(...identify(rollout)));
    }
  }

  private async dispatchWhenSynced(signal: AbortSignal): Promise<void> {
    await this.controller.synced(signal);
    if (!signal.aborted) await this.dispatcher.run(signal);
  }

  /**
   * A rollout change concerns the rollout; a new phase (or its deletion) also its policy and
   * the other rollouts of the policy: they queue behind it or are superseded by it (the cache
   * already holds the new state when this runs, so their reconciles see it).
   */
  private rolloutKeys(rollout: ImageRollout): string[] {
    const [namespace, name] = identify(rollout);
    const key = rolloutKey(namespace, name);
    const gone = !this.controller.cached(Sources.rollouts, `${namespace}/${name}`);
    const phase = rollout.status?.phase;
    this.rolloutMetrics.observe(rollout, gone);
    if (!gone && this.phases.has(key) && this.phases.get(key) === phase) return [key];
    if (gone) this.phases.delete(key);
    else this.phases.set(key, phase);
    const policy = rollout.spec.policyRef?.name ?? '';
    const siblings = rolloutsOfPolicy(
      this.controller.list<ImageRollout>(Sources.rollouts),
      namespace,
      policy,
    );
    return [
      key,
      policyKey(namespace, policy),
      ...siblings.map((r) => rolloutKey(...identify(r))),
      ...this.freezesOf(namespace).map((f) => freezeKey(...identify(f))),
    ];
  }

  /**
   * A freeze change (created, window edited, deleted) concerns the freeze and every rollout of
   * its namespace: their planners see the new set of freezes on their next pass.
   */
  private freezeKeys(freeze: FleetFreeze): string[] {
    const [namespace, name] = identify(freeze);
    const rollouts = this.controller
      .list<ImageRollout>(Sources.rollouts)
      .filter((rollout) => rollout.metadata.namespace === namespace);
    return [freezeKey(namespace, name), ...rollouts.map((r) => rolloutKey(...identify(r)))];
  }

  private freezesOf(namespace: string): FleetFreeze[] {
    return this.controller
      .list<FleetFreeze>(Sources.freezes)
      .filter((freeze) => freeze.metadata.namespace === namespace);
  }

  /** A policy change concerns the policy and every rollout of it. */
  private policyKeys(policy: ImagePolicy): string[] {
    const [namespace, name] = identify(policy);
    const rollouts = rolloutsOfPolicy(
      this.controller.list<ImageRollout>(Sources.rollouts),
      namespace,
      name,
    );
    return [policyKey(namespace, name), ...rollouts.map((r) => rolloutKey(...identify(r)))];
  }

  private async reconcile(key: string, signal: AbortSignal): Promise<WorkResult> {
    const slash = key.indexOf('/');
    const kind = key.slice(0, slash) as
      | 'ImageRollout'
      | 'ImagePolicy'
      | 'NotificationChannel'
      | 'FleetFreeze';
    const objectKey = key.slice(slash + 1);
    if (kind === CHANNEL) return this.channels.reconcile(objectKey);
    if (kind === FREEZE) return reconcileFreeze(this.freezeDeps(), objectKey);
    const started = performance.now();
    let result: ReconcileResult = 'error';
    try {
      const outcome = await (kind === 'ImageRollout'
        ? reconcileRollout(this.rolloutDeps(signal), objectKey)
        : reconcilePolicy(this.policyDeps(signal), objectKey));
      result = 'success';
      return outcome;
    } finally {
      this.metrics.observe(kind, result, (performance.now() - started) / 1000);
    }
  }

  private rolloutDeps(signal: AbortSignal) {
    const { database, kube, now, onStep } = this.options;
    return {
      db: database.db,
      read: cacheReader(this.controller),
      rollouts: kube.imageRollouts,
      events: this.events,
      logger: this.logger,
      now: now ?? (() => new Date()),
      metrics: this.metrics,
      signal,
      onStep,
      written: this.written,
    };
  }

  private freezeDeps() {
    const { kube, now } = this.options;
    return {
      freezes: kube.fleetFreezes,
      cached: (key: string) => this.controller.cached<FleetFreeze>(Sources.freezes, key),
      rollouts: (namespace: string) =>
        this.controller
          .list<ImageRollout>(Sources.rollouts)
          .filter((rollout) => rollout.metadata.namespace === namespace),
      events: this.events,
      now: now ?? (() => new Date()),
    };
  }

  private policyDeps(signal: AbortSignal) {
    const { database, kube, now } = this.options;
    return {
      db: database.db,
      read: cacheReader(this.controller),
      policies: kube.imagePolicies,
      events: this.events,
      now: now ?? (() => new Date()),
      signal,
    };
  }
}

/** Queue keys of the fleet controller's one queue: the kind, then `namespace/name`. */
const ROLLOUT = 'ImageRollout';
const POLICY = 'ImagePolicy';
const CHANNEL = 'NotificationChannel';
const FREEZE = 'FleetFreeze';
/** The informer source of NotificationChannels. */
const CHANNELS = 'notificationchannels';
const rolloutKey = (namespace: string, name: string) => `${ROLLOUT}/${namespace}/${name}`;
const policyKey = (namespace: string, name: string) => `${POLICY}/${namespace}/${name}`;
const freezeKey = (namespace: string, name: string) => `${FREEZE}/${namespace}/${name}`;

function identify(object: { metadata: { namespace?: string; name?: string } }): [string, string] {
  return [object.metadata.namespace ?? '', object.metadata.name ?? ''];
}
