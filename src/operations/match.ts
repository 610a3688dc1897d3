import { InvalidImageReference, parseImageReference } from '../api/image-reference.js';
import type { KubePort } from '../kube/port.js';
import { rolloutFreeze } from '../planner/freeze.js';
import { buildRollout } from '../webhooks/build-rollout.js';
import { policyVerdict } from '../webhooks/match.js';
import { OperationError } from './errors.js';

/** One policy's verdict on a push. */
export interface PolicyMatch {
  namespace: string;
  name: string;
  /** True when the push would create (or has created) a rollout for this policy. */
  matched: boolean;
  /** Why not, when it would not: the webhook receiver's own reason. */
  reason?: string;
  /** The ImageRollout the push creates for a matching policy (its deterministic name). */
  rollout?: string;
  /** That rollout exists already: a repeat of the push creates nothing. */
  exists?: boolean;
  /** The active FleetFreezes that would hold that rollout (it is created, and waits). */
  heldBy?: string[];
}

/** Which policies a push of an image would trigger, and why the others would not. */
export interface MatchReport {
  /** The pushed image, normalized: repository and tag (`latest` when none was given). */
  repository: string;
  tag: string;
  digest?: string;
  /** Every policy looked at, matching ones first, each group by namespace and name. */
  policies: PolicyMatch[];
}

/**
 * Answers "which ImagePolicies would a push of IMAGE[:TAG][@DIGEST] trigger?" with the webhook
 * receiver's own rule (policyVerdict: image glob, tag pattern and semver range, suspend,
 * deletion) over the policies of `namespace` (every namespace when undefined), with the active
 * FleetFreezes that would hold each rollout it creates (the planner's rolloutFreeze at `now`).
 * Writes nothing.
 */
export async function matchImage(
  kube: Pick<KubePort, 'imagePolicies' | 'imageRollouts' | 'fleetFreezes'>,
  reference: string,
  namespace?: string,
  now: Date = new Date(),
): Promise<MatchReport> {
  let parsed: ReturnType<typeof parseImageReference>;
  try {
    parsed = parseImageReference(reference);
  } catch (error) {
    if (!(error instanceof InvalidImageReference)) throw error;
    throw new OperationError('Invalid', `image "${reference}": ${error.message}`, { cause: error });
  }
  const push = {
    repository: parsed.repository,
    tag: parsed.tag ?? 'latest',
    digest: parsed.digest,
  };
  const [policies, rollouts, freezes] = await Promise.all([
    kube.imagePolicies.list(namespace),
    kube.imageRollouts.list(namespace),
    kube.fleetFreezes.list(namespace),
  ]);
  const existing = new Set(
    rollouts.map((rollout) => `${rollout.metadata.namespace}/${rollout.metadata.name}`),
  );
  const verdicts = policies.map((policy): PolicyMatch => {
    const ref = { namespace: policy.metadata.namespace ?? '', name: policy.metadata.name ?? '' };
    const verdict = policyVerdict(policy, push);
    if (!verdict.matched) return { ...ref, matched: false, reason: verdict.reason };
    // The rollout the receiver would create, judged for freezes as the planner judges it.
    const image = { ...push, registry: '', pushedAt: undefined, deliveryId: 'match' };
    const rollout = buildRollout(policy, image, 'generic');
    const name = rollout.metadata.name ?? '';
    const held = rolloutFreeze(rollout, freezes, now).holding;
    return {
      ...ref,
      matched: true,
      rollout: name,
      exists: existing.has(`${ref.namespace}/${name}`),
      ...(held.length > 0 ? { heldBy: held.map((freeze) => freeze.metadata.name ?? '') } : {}),
    };
  });
  verdicts.sort(
    (a, b) =>
      Number(b.matched) - Number(a.matched) ||
      a.namespace.localeCompare(b.namespace) ||
      a.name.localeCompare(b.name),
  );
  return { ...push, policies: verdicts };
}
