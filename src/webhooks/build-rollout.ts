import { createHash } from 'node:crypto';
import { Annotations, Labels } from '../api/labels.js';
import { API_VERSION, type ImagePolicy, type ImageRollout } from '../api/types.js';
import type { ImagePush, RegistryKind } from './push.js';

/** Longest Kubernetes name this receiver creates (a DNS-1123 label). */
export const MAX_NAME_LENGTH = 63;
const HASH_LENGTH = 12;

/** A push as it becomes a rollout: the digest may have been resolved from the registry. */
export interface RolloutImage extends ImagePush {
  /** `event` when the registry's notification carried the digest, `registry` when resolved. */
  digestSource?: 'event' | 'registry';
  /** Why resolving the digest failed, when it did and the rollout falls back to the tag. */
  digestResolutionError?: string;
}

/**
 * What makes two pushes the same rollout for a policy: the repository and the digest when
 * known (so one digest under three tags is one rollout), else the repository and the tag.
 */
export function imageIdentity(image: Pick<ImagePush, 'repository' | 'tag' | 'digest'>): string {
  return image.digest ? `${image.repository}@${image.digest}` : `${image.repository}:${image.tag}`;
}

/**
 * The deterministic name of a policy's rollout of an image: `<policy>-<hash>`, the policy name
 * (dots as dashes) cut so the whole is at most 63 characters, and 12 hex digits of SHA-256 over
 * namespace, policy and image identity. The same push always yields the same name.
 */
export function rolloutName(
  policy: ImagePolicy,
  image: Pick<ImagePush, 'repository' | 'tag' | 'digest'>,
) {
  const { namespace = 'default', name = '' } = policy.metadata;
  const hash = createHash('sha256')
    .update(`${namespace}\n${name}\n${imageIdentity(image)}`)
    .digest('hex')
    .slice(0, HASH_LENGTH);
  const prefix = name
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, MAX_NAME_LENGTH - HASH_LENGTH - 1)
    .replace(/-+$/, '');
  return prefix ? `${prefix}-${hash}` : `r-${hash}`;
}

/** The ImageRollout a policy gets for an image: spec snapshot, owner, labels, annotations. */
export function buildRollout(
  policy: ImagePolicy,
  image: RolloutImage,
  source: RegistryKind,
): ImageRollout {
  const { spec, metadata } = policy;
  const policyName = metadata.name ?? '';
  return {
    apiVersion: API_VERSION,
    kind: 'ImageRollout',
    metadata: {
      name: rolloutName(policy, image),
      namespace: metadata.namespace,
      labels: {
        [Labels.managedBy]: 'fleet-rollout',
        [Labels.source]: source,
        ...(policyName.length <= MAX_NAME_LENGTH ? { [Labels.policy]: policyName } : {}),
      },
      annotations: annotationsOf(image),
      ...(metadata.uid
        ? {
            ownerReferences: [
              {
                apiVersion: API_VERSION,
                kind: 'ImagePolicy',
                name: policyName,
                uid: metadata.uid,
                controller: true,
              },
            ],
          }
        : {}),
    },
    spec: structuredClone({
      policyRef: { name: policyName },
      image: image.repository,
      tag: image.tag,
      ...(image.digest ? { digest: image.digest } : {}),
      selector: spec.selector,
      ...(spec.strategy ? { strategy: spec.strategy } : {}),
      ...(spec.health ? { health: spec.health } : {}),
      ...(spec.failurePolicy ? { failurePolicy: spec.failurePolicy } : {}),
    }),
  };
}

function annotationsOf(image: RolloutImage): Record<string, string> {
  const annotations: Record<string, string> = { [Annotations.deliveryId]: image.deliveryId };
  if (image.pushedAt) annotations[Annotations.pushedAt] = image.pushedAt;
  if (image.digest && image.digestSource)
    annotations[Annotations.digestSource] = image.digestSource;
  if (image.digestResolutionError) {
    annotations[Annotations.digestResolutionError] = image.digestResolutionError;
  }
  return annotations;
}
