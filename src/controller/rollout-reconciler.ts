import type { ImageRollout } from '../api/types.js';
import type { Db } from '../db/client.js';
import type { KubePort, ResourceClient } from '../kube/port.js';
import { planRollout } from '../planner/plan-rollout.js';
import { isTerminal } from '../planner/siblings.js';
import type { RolloutPlan } from '../planner/types.js';
import { type Logger, silentLogger } from '../telemetry/logger.js';
import type { EngineMetrics } from './engine-metrics.js';
import { EventRecorder } from './event-recorder.js';
import { splitKey } from './keys.js';
import { apiReader, type ResourceReader } from './resource-reader.js';
import { applyPlan } from './rollout-effects.js';
import { ensureFinalizer, finalizeRollout } from './rollout-finalizer.js';
import { readRolloutInputs } from './rollout-state.js';
import { writeStatus } from './status-writer.js';
import type { WorkResult } from './work-queue.js';

/** Everything one rollout reconcile uses; build it with the controller or by hand in a script. */
export interface RolloutReconcilerDeps {
  db: Db;
  /** Reads rollouts and policies (informer caches in the controller; the API in a script). */
  read: ResourceReader;
  /** Writes status, finalizers. */
  rollouts: Pick<ResourceClient<ImageRollout>, 'replaceStatus' | 'mergePatch'>;
  events: EventRecorder;
  logger: Logger;
  now(): Date;
  metrics?: EngineMetrics;
  /** Aborted when this process stops leading: no write starts after that. */
  signal?: AbortSignal;
  /** Called at each step boundary (tracing; crash tests). */
  onStep?(step: string): void;
  /**
   * Per key, the resourceVersion the last status write replaced: a cache still showing it has
   * not seen that write yet, and planning from it would repeat the transition.
   */
  written?: Map<string, string>;
}

/** How long to wait before reading again after a 409 on the status write. */
const CONFLICT_RETRY_MS = 200;
/** How long to wait for the cache to show the status this controller wrote. */
const STALE_RETRY_MS = 50;

/**
 * One level-triggered pass over the rollout `namespace/name`: read (rollout, policy, siblings,
 * overlay, counts) → plan → apply the effect with its event-log entries → record Events →
 * write the status if it changed (409: requeue, nothing else) → requeue at the plan's time.
 */
export async function reconcileRollout(
  deps: RolloutReconcilerDeps,
  key: string,
): Promise<WorkResult> {
  const { namespace, name } = splitKey(key);
  // Read the rollout; a deleted one with our finalizer gets its overlay settled first.
  const read = await deps.read.rollout(namespace, name);
  if (!read) return {};
  if (deps.written?.get(key) === read.metadata.resourceVersion) {
    return { requeueAfter: STALE_RETRY_MS };
  }
  deps.written?.delete(key);
  if (read.metadata.deletionTimestamp) return finalizeRollout(deps, read);
  const rollout = await ensureFinalizer(deps, read);
  if (!rollout) return { requeueAfter: CONFLICT_RETRY_MS };
  // Read the policy, the other rollouts of the policy, and what Postgres holds.
  const now = deps.now();
  const { policy, siblings, freezes, state, deviceApi } = await readInputs(deps, rollout, now);
  deps.onStep?.('read');
  // Plan, then apply the effect with the plan's event-log entries.
  const plan = planRollout({ rollout, policy, siblings, freezes, now, deviceApi, ...state });
  deps.signal?.throwIfAborted();
  await applyPlan(deps, rollout, plan, state.soakMs, now);
  if (plan.effect) deps.onStep?.(`effect-${plan.effect.type}`);
  // Record the transition's Events.
  for (const event of plan.events) void deps.events.record(rollout, event);
  // Write the status only when it changed.
  deps.signal?.throwIfAborted();
  const write = await writeStatus(deps.rollouts, rollout, plan.status);
  if (write.outcome === 'conflict') return { requeueAfter: CONFLICT_RETRY_MS };
  if (write.outcome === 'written') {
    deps.written?.set(key, rollout.metadata.resourceVersion ?? '');
    deps.onStep?.('status');
  }
  if (deviceApi.available) observe(deps, key, rollout, plan, state.progress);
  return requeue(plan, now);
}

async function readInputs(deps: RolloutReconcilerDeps, rollout: ImageRollout, now: Date) {
  const { namespace = '', name } = rollout.metadata;
  const policyName = rollout.spec.policyRef?.name ?? '';
  const policy = await deps.read.policy(namespace, policyName);
  const siblings = (await deps.read.rolloutsOf(namespace, policyName)).filter(
    (other) => other.metadata.name !== name,
  );
  const freezes = await deps.read.freezes(namespace);
  const inputs = await readRolloutInputs(deps.db, rollout, policy, now, deps.signal);
  return { policy, siblings, freezes, ...inputs };
}

/** Device counts for the metrics, and a log line when the phase changes. */
function observe(
  deps: RolloutReconcilerDeps,
  key: string,
  rollout: ImageRollout,
  plan: RolloutPlan,
  progress: Parameters<EngineMetrics['setDevices']>[1],
) {
  const { namespace = '', name = '' } = rollout.metadata;
  const phase = plan.status.phase;
  deps.metrics?.setDevices(key, isTerminal(phase) ? undefined : progress);
  if (rollout.status?.phase === phase) return;
  deps.logger.info(
    {
      namespace,
      name,
      generation: rollout.metadata.generation,
      from: rollout.status?.phase,
      phase,
    },
    'rollout phase changed',
  );
}

function requeue(plan: RolloutPlan, now: Date): WorkResult {
  if (!plan.requeueAt) return {};
  return { requeueAfter: Math.max(0, plan.requeueAt.getTime() - now.getTime()) };
}

/**
 * Deps to drive reconcileRollout from a script (a benchmark, a one-off): reads go straight to the
 * API, there is no informer, queue or leader election. Call `reconcileRollout(deps, 'ns/name')`
 * again after the returned `requeueAfter` to follow a rollout.
 */
export function directRolloutDeps(options: {
  db: Db;
  kube: KubePort;
  logger?: Logger;
  now?(): Date;
}): RolloutReconcilerDeps {
  const logger = options.logger ?? silentLogger();
  return {
    db: options.db,
    read: apiReader(options.kube),
    rollouts: options.kube.imageRollouts,
    events: new EventRecorder({
      events: options.kube.events,
      controller: 'fleet.iotistic.io/controller',
      instance: 'script',
      logger,
    }),
    logger,
    now: options.now ?? (() => new Date()),
  };
}
