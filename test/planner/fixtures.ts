import type {
  FleetFreeze,
  ImagePolicy,
  ImagePolicySpec,
  ImageRollout,
  ImageRolloutSpec,
  ImageRolloutStatus,
} from '../../src/api/types.js';
import { API_VERSION } from '../../src/api/types.js';
import { batchSizes, endsToSizes } from '../../src/planner/membership.js';
import type { DeviceApiAvailability } from '../../src/planner/outages.js';
import { planRollout } from '../../src/planner/plan-rollout.js';
import type {
  BatchProgress,
  RollbackProgress,
  RolloutPlan,
  RolloutTarget,
} from '../../src/planner/types.js';

/** A fixed instant the tables count from. */
export const T0 = new Date('2025-06-02T12:00:00Z');

/** `T0` plus a number of minutes. */
export const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

/** An ImagePolicy with a fleet selector, no batch interval, and the given spec fields. */
export function policy(spec: Partial<ImagePolicySpec> = {}): ImagePolicy {
  return {
    apiVersion: API_VERSION,
    kind: 'ImagePolicy',
    metadata: { name: 'web', namespace: 'prod', generation: 1, uid: 'policy-uid' },
    spec: {
      image: 'docker.io/library/nginx',
      selector: { fleets: ['f1'] },
      strategy: { interval: '0s' },
      ...spec,
    },
  };
}

/** An ImageRollout of nginx:1.27 for policy `web`. */
export function rollout(
  spec: Partial<ImageRolloutSpec> = {},
  status?: ImageRolloutStatus,
  name = 'web-nginx-1-27',
  creationTimestamp = '2025-06-02T11:00:00Z',
): ImageRollout {
  return {
    apiVersion: API_VERSION,
    kind: 'ImageRollout',
    metadata: { name, namespace: 'prod', generation: 1, uid: `${name}-uid`, creationTimestamp },
    spec: { policyRef: { name: 'web' }, image: 'docker.io/library/nginx', tag: '1.27', ...spec },
    status,
  };
}

/** Counts of one batch: those given, the rest of `devices` scheduled (or pending if unstarted). */
export function batch(
  number: number,
  devices: number,
  started: boolean,
  counts: Partial<BatchProgress> = {},
): BatchProgress {
  const zero = { pending: 0, scheduled: 0, updating: 0, soaking: 0, healthy: 0, failed: 0 };
  const known = { ...zero, offline: 0, offlineOnNewImage: 0, ...counts };
  const rest =
    devices -
    (known.updating + known.soaking + known.healthy + known.failed + known.offline + known.pending);
  return started
    ? { batch: number, devices, ...known, scheduled: counts.scheduled ?? rest }
    : { batch: number, devices, ...zero, offline: 0, offlineOnNewImage: 0, pending: devices };
}

/** How simulated devices of a started batch are doing at `now`. */
export type Behaviour = (batch: number, devices: number, now: Date) => Partial<BatchProgress>;

/** Every device is healthy right away. */
export const allHealthy: Behaviour = (_batch, devices) => ({ healthy: devices });

/** The plan of one pass at `now`, without applying it. */
export function planAt(w: World, now: Date): RolloutPlan {
  return planRollout({
    rollout: w.rollout,
    policy: w.policy,
    target: w.target,
    progress: progressOf(w, now),
    rollback: w.rollback,
    siblings: w.siblings,
    deviceApi: w.deviceApi,
    freezes: w.freezes,
    now,
  });
}

/** A rollout with its database state, advanced plan by plan the way the reconciler does. */
export interface World {
  rollout: ImageRollout;
  policy: ImagePolicy | undefined;
  members: number;
  target?: RolloutTarget;
  sizes: number[];
  behaviour: Behaviour;
  rollback?: RollbackProgress;
  siblings?: ImageRollout[];
  /** What the controller read about the device API; assumed available when unset. */
  deviceApi?: DeviceApiAvailability;
  /** The FleetFreezes of the namespace the controller read. */
  freezes?: FleetFreeze[];
}

/** A world of `members` selected devices that behave as told. */
export function world(
  members: number,
  spec: Partial<ImageRolloutSpec> = {},
  behaviour: Behaviour = allHealthy,
  policySpec: Partial<ImagePolicySpec> = {},
): World {
  return { rollout: rollout(spec), policy: policy(policySpec), members, sizes: [], behaviour };
}

/** The progress rows the reconciler would read for the world. */
export function progressOf(w: World, now: Date): BatchProgress[] {
  const started = w.target?.startedBatches ?? 0;
  return w.sizes.map((size, i) =>
    batch(i + 1, size, i < started, i < started ? w.behaviour(i + 1, size, now) : {}),
  );
}

/** Plans once at `now`, applies the effect and writes the status; returns the plan. */
export function step(w: World, now: Date): RolloutPlan {
  const plan = planAt(w, now);
  const effect = plan.effect;
  if (effect?.type === 'CreateMembership') {
    w.target = { startedBatches: 0, state: 'active' };
    w.sizes = batchSizes(w.members, effect.percentages);
  } else if (effect?.type === 'Rebatch') {
    w.sizes = endsToSizes(effect.batchEnds);
  } else if (effect?.type === 'StartBatch' && w.target) {
    w.target = { ...w.target, startedBatches: effect.batch };
  } else if (effect?.type === 'Fold' && w.target) {
    w.target = { ...w.target, state: 'folded' };
  } else if (effect?.type === 'RollBack' && w.target) {
    w.target = { ...w.target, state: 'rolledBack' };
  }
  w.rollout = { ...w.rollout, status: plan.status };
  return plan;
}

/** Steps while the plan asks to look again at `now` (an effect was applied); the last plan. */
export function settle(w: World, now: Date, limit = 20): RolloutPlan {
  let plan = step(w, now);
  for (let i = 0; i < limit && plan.requeueAt?.getTime() === now.getTime(); i++) {
    plan = step(w, now);
  }
  return plan;
}

/** Replaces spec fields of the world's rollout, bumping its generation like the API server. */
export function editSpec(w: World, spec: Partial<ImageRolloutSpec>): void {
  const generation = (w.rollout.metadata.generation ?? 1) + 1;
  w.rollout = {
    ...w.rollout,
    metadata: { ...w.rollout.metadata, generation },
    spec: { ...w.rollout.spec, ...spec },
  };
}
