import { Minimatch } from 'minimatch';
import { InvalidImageReference, isValidTag, normalizeRepository } from '../api/image-reference.js';
import type { ImagePolicy, ImageRollout, RolloutPhase } from '../api/types.js';
import type { DbOrTx } from '../db/client.js';
import { rankedSelection } from '../db/membership-store.js';
import type { KubePort } from '../kube/port.js';
import { EMPTY_PROGRESS } from '../planner/batch-view.js';
import { batchEnds, membershipSeed, planBatches } from '../planner/membership.js';
import { planRollout } from '../planner/plan-rollout.js';
import { resolveRolloutSettings } from '../planner/settings.js';
import type { BatchProgress, PlanRolloutInput, RolloutPlan } from '../planner/types.js';
import { windowOpenAt } from '../planner/windows.js';
import { buildRollout } from '../webhooks/build-rollout.js';
import { type MatchResult, policyVerdict } from '../webhooks/match.js';
import { OperationError, type ResourceRef } from './errors.js';

/** What to preview: a push of `repository:tag` (and digest) as `policy` would roll it out. */
export interface PreviewRequest {
  policy: ResourceRef;
  tag: string;
  /** Repository pushed; may be left out when the policy's `image` is one repository (no glob). */
  image?: string;
  /** `sha256:…` when the push names one; it changes the rollout's name. */
  digest?: string;
  /** The name of a rollout created by hand; default the name the webhook would give it. */
  rolloutName?: string;
}

/** One batch of the preview. */
export interface PreviewBatch {
  /** 1-based batch number. */
  batch: number;
  /** Cumulative percentage this batch reaches. */
  percent: number;
  /** Device uuids of this batch, in rank order. */
  devices: string[];
}

/** What a rollout of the image would do, computed without writing anything. */
export interface RolloutPreview {
  policy: ResourceRef;
  /** The ImageRollout the push would create (not created), with the policy's snapshot. */
  rollout: ImageRollout;
  /** Whether the push would create it: the webhook's own verdict (tags, suspend). */
  trigger: MatchResult;
  /** Phase of an ImageRollout of that name that exists already (a repeat push creates nothing). */
  existingPhase?: RolloutPhase | 'Pending';
  strategy: 'Staged' | 'Manual' | 'AllAtOnce';
  /** Every device the selector selects now. */
  devices: number;
  batches: PreviewBatch[];
  /**
   * When a maintenance window is next open (`now` when one is open), with windows configured;
   * `never` when none opens again; undefined without windows.
   */
  nextWindow?: string;
  /** What the controller's first passes would do: phase and message of the planner's status. */
  firstStep: { phase: RolloutPhase | undefined; message: string | undefined };
}

/** What a preview reads: policy, rollouts and freezes through the port, devices from Postgres. */
export interface PreviewDeps {
  kube: Pick<KubePort, 'imagePolicies' | 'imageRollouts' | 'fleetFreezes'>;
  db: DbOrTx;
  now?: Date;
}

/**
 * Previews a push: which devices the policy's rollout of `image:tag` would select, which batch
 * each lands in, when the next maintenance window opens and what the rollout would do first.
 * The same code as the controller: the webhook's buildRollout and verdict, the planner's
 * settings, membership order (rankedSelection over membershipSeed) and batch ends, and two
 * passes of planRollout with no effect applied. Writes nothing.
 */
export async function previewRollout(
  deps: PreviewDeps,
  request: PreviewRequest,
): Promise<RolloutPreview> {
  const now = deps.now ?? new Date();
  const { namespace, name } = request.policy;
  const policy = await deps.kube.imagePolicies.get(namespace, name);
  if (!policy) throw new OperationError('NotFound', `ImagePolicy ${namespace}/${name} not found`);
  const rollout = hypotheticalRollout(policy, request, now);
  const resolved = resolveRolloutSettings(rollout, policy);
  if ('problem' in resolved) throw new OperationError('Invalid', resolved.problem.message);
  const settings = resolved.settings;
  const rolloutName = rollout.metadata.name ?? '';
  const seed = membershipSeed(namespace, rolloutName);
  const ranked = await rankedSelection(deps.db, seed, settings.selector);
  const [siblings, freezes] = await Promise.all([
    deps.kube.imageRollouts.list(namespace),
    deps.kube.fleetFreezes.list(namespace),
  ]);
  const existing = siblings.find((other) => other.metadata.name === rolloutName);
  const windows = settings.maintenanceWindows;
  const opens = windows.length > 0 ? windowOpenAt(windows, now) : undefined;
  return {
    policy: request.policy,
    rollout,
    trigger: policyVerdict(policy, { repository: rollout.spec.image, tag: request.tag }),
    existingPhase: existing ? (existing.status?.phase ?? 'Pending') : undefined,
    strategy: settings.type,
    devices: ranked.length,
    batches: layout(ranked, settings.batches),
    nextWindow:
      windows.length === 0
        ? undefined
        : opens === undefined
          ? 'never'
          : opens.getTime() === now.getTime()
            ? 'now'
            : opens.toISOString(),
    firstStep: firstStep(
      { rollout, policy, siblings, freezes, now },
      ranked.length,
      settings.batches,
    ),
  };
}

/** The rollout the webhook would create for the push, as buildRollout builds it. */
function hypotheticalRollout(
  policy: ImagePolicy,
  request: PreviewRequest,
  now: Date,
): ImageRollout {
  if (!isValidTag(request.tag)) throw new OperationError('Invalid', `invalid tag "${request.tag}"`);
  const repository = repositoryOf(policy, request.image);
  const push = {
    registry: repository.split('/')[0] ?? '',
    repository,
    tag: request.tag,
    digest: request.digest,
    pushedAt: undefined,
    deliveryId: 'preview',
  };
  const rollout = buildRollout(policy, push, 'generic');
  if (request.rolloutName) rollout.metadata.name = request.rolloutName;
  rollout.metadata.generation = 1;
  rollout.metadata.creationTimestamp = now.toISOString();
  return rollout;
}

/** The pushed repository: `image` normalized, or the policy's own when it is no glob. */
function repositoryOf(policy: ImagePolicy, image: string | undefined): string {
  const given = image ?? policy.spec.image;
  if (image === undefined && new Minimatch(given).hasMagic()) {
    const message = `ImagePolicy ${policy.metadata.name} matches "${given}": say which repository (--image)`;
    throw new OperationError('Invalid', message);
  }
  try {
    return normalizeRepository(given).repository;
  } catch (error) {
    if (!(error instanceof InvalidImageReference)) throw error;
    throw new OperationError('Invalid', error.message, { cause: error });
  }
}

/** Members laid out as completeSelection lays them out: batch k holds ranks [ends[k-2], ends[k-1]). */
function layout(ranked: readonly string[], percentages: readonly number[]): PreviewBatch[] {
  const ends = batchEnds(ranked.length, percentages);
  const percents = planBatches(ranked.length, percentages).map((batch) => batch.percent);
  return ends.map((end, i) => ({
    batch: i + 1,
    percent: percents[i] ?? 100,
    devices: ranked.slice(i === 0 ? 0 : ends[i - 1], end),
  }));
}

/**
 * The planner's first two passes over the rollout: before membership (queued behind an older
 * rollout, held by a FleetFreeze, or selecting devices), then with the membership created and no
 * batch started (waiting for approval, a window, or starting batch 1). No effect is applied.
 */
function firstStep(
  world: Pick<PlanRolloutInput, 'rollout' | 'policy' | 'freezes' | 'now'> & {
    siblings: ImageRollout[];
  },
  devices: number,
  percentages: readonly number[],
): RolloutPreview['firstStep'] {
  const { rollout, policy } = world;
  const siblings = world.siblings.filter(
    (other) =>
      other.metadata.name !== rollout.metadata.name &&
      other.spec.policyRef?.name === policy?.metadata.name,
  );
  const input = { ...world, siblings };
  let plan: RolloutPlan = planRollout({ ...input, progress: [] });
  if (plan.effect?.type === 'CreateMembership') {
    const progress: BatchProgress[] = batchEnds(devices, percentages).map((end, i, ends) => {
      const size = end - (i === 0 ? 0 : (ends[i - 1] as number));
      return { ...EMPTY_PROGRESS, batch: i + 1, devices: size, pending: size };
    });
    const target = { startedBatches: 0, state: 'active' as const };
    plan = planRollout({
      ...input,
      rollout: { ...rollout, status: plan.status },
      target,
      progress,
    });
  }
  return { phase: plan.status.phase, message: plan.status.message };
}
