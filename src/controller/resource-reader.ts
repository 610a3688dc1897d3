import type { FleetFreeze, ImagePolicy, ImageRollout } from '../api/types.js';
import type { KubePort } from '../kube/port.js';
import type { Controller } from './runtime.js';

/** Where reconcilers read rollouts and policies: informer caches, or the API itself. */
export interface ResourceReader {
  rollout(namespace: string, name: string): Promise<ImageRollout | undefined>;
  policy(namespace: string, name: string): Promise<ImagePolicy | undefined>;
  /** Every ImageRollout of the namespace whose `spec.policyRef.name` is `policy`. */
  rolloutsOf(namespace: string, policy: string): Promise<ImageRollout[]>;
  /** Every FleetFreeze of the namespace. */
  freezes(namespace: string): Promise<FleetFreeze[]>;
}

/** Informer source names of the fleet controller. */
export const Sources = {
  rollouts: 'imagerollouts',
  policies: 'imagepolicies',
  freezes: 'fleetfreezes',
} as const;

/** Reads from a running controller's informer caches (what the controller uses). */
export function cacheReader(controller: Controller): ResourceReader {
  return {
    rollout: async (namespace, name) =>
      controller.cached<ImageRollout>(Sources.rollouts, `${namespace}/${name}`),
    policy: async (namespace, name) =>
      controller.cached<ImagePolicy>(Sources.policies, `${namespace}/${name}`),
    rolloutsOf: async (namespace, policy) =>
      rolloutsOfPolicy(controller.list<ImageRollout>(Sources.rollouts), namespace, policy),
    freezes: async (namespace) =>
      controller
        .list<FleetFreeze>(Sources.freezes)
        .filter((freeze) => freeze.metadata.namespace === namespace),
  };
}

/** Reads straight from the API: for a script driving one reconcile without informers. */
export function apiReader(kube: KubePort): ResourceReader {
  return {
    rollout: (namespace, name) => kube.imageRollouts.get(namespace, name),
    policy: (namespace, name) => kube.imagePolicies.get(namespace, name),
    rolloutsOf: async (namespace, policy) =>
      rolloutsOfPolicy(await kube.imageRollouts.list(namespace), namespace, policy),
    freezes: (namespace) => kube.fleetFreezes.list(namespace),
  };
}

/** The rollouts of `namespace` whose `spec.policyRef.name` is `policy`. */
export function rolloutsOfPolicy(
  rollouts: readonly ImageRollout[],
  namespace: string,
  policy: string,
): ImageRollout[] {
  return rollouts.filter(
    (rollout) =>
      rollout.metadata.namespace === namespace && rollout.spec.policyRef?.name === policy,
  );
}
