/** Labels fleet-rollout sets on the resources it creates, for selection (`kubectl get -l`). */
export const Labels = {
  /** Name of the ImagePolicy an ImageRollout belongs to (when it fits a label value). */
  policy: 'fleet.iotistic.io/policy',
  /** Registry kind that announced the image (`dockerhub`, `distribution`, …). */
  source: 'fleet.iotistic.io/source',
  managedBy: 'app.kubernetes.io/managed-by',
} as const;

/** Annotations fleet-rollout sets on the resources it creates, for people and audits. */
export const Annotations = {
  /** Id of the registry delivery (or event) that created the rollout. */
  deliveryId: 'fleet.iotistic.io/delivery-id',
  /** When the registry says the image was pushed, RFC 3339. */
  pushedAt: 'fleet.iotistic.io/pushed-at',
  /** Where `spec.digest` came from: `event` (the registry said) or `registry` (resolved). */
  digestSource: 'fleet.iotistic.io/digest-source',
  /** Why resolving the tag to a digest failed, when the rollout fell back to the tag. */
  digestResolutionError: 'fleet.iotistic.io/digest-resolution-error',
} as const;
