import { formatImageReference } from '../api/image-reference.js';
import type { ImagePolicy, ImageRollout } from '../api/types.js';
import type { WebhookStore } from '../db/webhook-store.js';
import { isAlreadyExists, KubeApiError, type ResourceClient } from '../kube/port.js';
import type { Logger } from '../telemetry/logger.js';
import { buildRollout, imageIdentity, type RolloutImage } from './build-rollout.js';
import type { DigestResolver } from './digest-resolver.js';
import { matchingPolicies } from './match.js';
import type { WebhookMetrics } from './metrics.js';
import type { ImagePush, ParsedDelivery, RegistryKind } from './push.js';

/** A claimed delivery whose replica has not finished after this long is taken over. */
const CLAIM_LEASE_MS = 60_000;

/** What the receiver does through the Kubernetes API: list policies, create rollouts. */
export interface WebhookKube {
  imagePolicies: Pick<ResourceClient<ImagePolicy>, 'list'>;
  imageRollouts: Pick<ResourceClient<ImageRollout>, 'create'>;
}

/** What processing a delivery needs; all of it injected. */
export interface ProcessDeps {
  kube: WebhookKube;
  store: WebhookStore;
  resolveDigest: DigestResolver;
  metrics: WebhookMetrics;
  logger: Logger;
  now: () => Date;
  dedupeWindowSeconds: number;
  /** The one namespace whose policies are matched; every namespace when undefined. */
  namespace?: string;
}

/** One policy's rollout of one pushed image. */
export interface RolloutResult {
  namespace: string;
  name: string;
  policy: string;
  image: string;
  tag: string;
  digest?: string;
  /** False when the rollout existed already (a repeat, or the same digest under another tag). */
  created: boolean;
  /** Why the API server refused the rollout as invalid (nothing a retry can fix). */
  error?: string;
}

/** What a delivery did. */
export interface DeliveryOutcome {
  rollouts: RolloutResult[];
  /** Delivery ids another copy of the delivery has claimed. */
  duplicates: string[];
  /** Pushed images that matched no active policy. */
  unmatched: string[];
}

/**
 * Turns the pushes of a parsed delivery into ImageRollouts: claims each delivery id once across
 * replicas, matches every active policy of every namespace (or of `namespace`), resolves digests where a policy asks,
 * and creates each rollout under its deterministic name. A failure marks the claims failed and
 * rethrows, so the registry's retry is processed again.
 */
export async function processDelivery(
  delivery: ParsedDelivery,
  deps: ProcessDeps,
): Promise<DeliveryOutcome> {
  const outcome: DeliveryOutcome = { rollouts: [], duplicates: [], unmatched: [] };
  const claimed = await claimAll(delivery, deps, outcome);
  if (claimed.length === 0) return outcome;
  const finish = (state: 'done' | 'failed', result: Record<string, unknown>) =>
    Promise.all(
      claimed.map(([id]) => deps.store.finishDelivery(delivery.source, id, state, result)),
    );
  try {
    const policies = await deps.kube.imagePolicies.list(deps.namespace);
    for (const push of claimed.flatMap(([, pushes]) => pushes)) {
      await rolloutsFor(push, policies, delivery.source, outcome, deps);
    }
  } catch (error) {
    await finish('failed', { error: (error as Error).message }).catch(() => {});
    throw error;
  }
  const rollouts = outcome.rollouts.map(({ namespace, name, created }) => ({
    namespace,
    name,
    created,
  }));
  await finish('done', { rollouts });
  return outcome;
}

/** Claims each delivery id of the delivery; the ones another copy holds are duplicates. */
async function claimAll(delivery: ParsedDelivery, deps: ProcessDeps, outcome: DeliveryOutcome) {
  const groups = new Map<string, ImagePush[]>();
  for (const push of delivery.pushes) {
    groups.set(push.deliveryId, [...(groups.get(push.deliveryId) ?? []), push]);
  }
  const times = {
    now: deps.now(),
    leaseMs: CLAIM_LEASE_MS,
    windowMs: deps.dedupeWindowSeconds * 1000,
  };
  const claimed: Array<[string, ImagePush[]]> = [];
  for (const [id, pushes] of groups) {
    if (await deps.store.claimDelivery(delivery.source, id, times)) claimed.push([id, pushes]);
    else outcome.duplicates.push(id);
  }
  return claimed;
}

async function rolloutsFor(
  push: ImagePush,
  policies: ImagePolicy[],
  source: RegistryKind,
  outcome: DeliveryOutcome,
  deps: ProcessDeps,
): Promise<void> {
  const matched = matchingPolicies(policies, push);
  if (matched.length === 0) {
    outcome.unmatched.push(formatImageReference(push));
    return;
  }
  // Resolve at most once per push, and only when a matching policy asks for it.
  let resolving: Promise<RolloutImage> | undefined;
  const resolved = () => {
    resolving ??= withResolvedDigest(push, deps);
    return resolving;
  };
  const asSent: RolloutImage = push.digest ? { ...push, digestSource: 'event' } : push;
  for (const policy of matched) {
    const image = policy.spec.resolveDigest && !push.digest ? await resolved() : asSent;
    outcome.rollouts.push(await ensureRollout(policy, image, source, deps));
  }
}

/** The push pinned to the digest its tag has now; on failure, the tag alone and why. */
async function withResolvedDigest(push: ImagePush, deps: ProcessDeps): Promise<RolloutImage> {
  try {
    const digest = await deps.resolveDigest(push);
    deps.metrics.digestResolutions.inc({ result: 'resolved' });
    return { ...push, digest, digestSource: 'registry' };
  } catch (error) {
    deps.metrics.digestResolutions.inc({ result: 'failed' });
    const reason = (error as Error).message;
    deps.logger.warn(
      { err: error, repository: push.repository, tag: push.tag },
      'digest resolution failed; rolling out the tag',
    );
    return { ...push, digestResolutionError: reason };
  }
}

/** Creates the policy's rollout of the image unless it has (or had) one already. */
async function ensureRollout(
  policy: ImagePolicy,
  image: RolloutImage,
  source: RegistryKind,
  deps: ProcessDeps,
): Promise<RolloutResult> {
  const { namespace = 'default', name: policyName = '' } = policy.metadata;
  const policyUid = policy.metadata.uid ?? `${namespace}/${policyName}`;
  const identity = imageIdentity(image);
  const result = {
    policy: policyName,
    image: image.repository,
    tag: image.tag,
    digest: image.digest,
  };
  const known = await deps.store.findRollout(policyUid, identity);
  if (known) return { ...result, namespace: known.namespace, name: known.name, created: false };
  const rollout = buildRollout(policy, image, source);
  const name = rollout.metadata.name ?? '';
  const created = await create(rollout, deps);
  const { deliveryId } = image;
  const record = { ...result, source, deliveryId };
  if (typeof created === 'string') {
    await recordInvalid(`${namespace}/${name}`, { ...record, reason: created }, deps);
    return { ...result, namespace, name, created: false, error: created };
  }
  await deps.store.recordRollout({
    policyUid,
    image: identity,
    namespace,
    name,
    source,
    deliveryId,
  });
  if (created) {
    deps.metrics.rolloutsCreated.inc({ registry: source });
    await deps.store.appendEvent('image.rollout_created', `${namespace}/${name}`, record);
    deps.logger.info({ namespace, name, ...record }, 'rollout created');
  }
  return { ...result, namespace, name, created };
}

/** Logs and records a rollout the API server refused as invalid. */
async function recordInvalid(subject: string, record: Record<string, unknown>, deps: ProcessDeps) {
  deps.logger.warn({ rollout: subject, ...record }, 'rollout refused as invalid');
  await deps.store.appendEvent('image.rollout_rejected', subject, record);
}

/** Creates a rollout: true when created, false when it exists, the reason when it is invalid. */
async function create(rollout: ImageRollout, deps: ProcessDeps): Promise<boolean | string> {
  try {
    await deps.kube.imageRollouts.create(rollout);
    return true;
  } catch (error) {
    if (isAlreadyExists(error)) return false;
    if (error instanceof KubeApiError && error.code === 422) return error.message;
    const { namespace, name } = rollout.metadata;
    throw new Error(`create ImageRollout ${namespace}/${name}`, { cause: error });
  }
}
