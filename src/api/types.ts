/**
 * The resources of group fleet.iotistic.io/v1alpha1. The CRDs in crds/ are the source of truth;
 * a test keeps these types and the CRD schemas in step.
 */

/** API group of every fleet-rollout resource. */
export const GROUP = 'fleet.iotistic.io';
/** The one served and stored version. */
export const VERSION = 'v1alpha1';
/** `apiVersion` of every fleet-rollout resource. */
export const API_VERSION = `${GROUP}/${VERSION}`;

/** Standard object metadata, as much of it as this project reads or writes. */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: Array<{
    apiVersion: string;
    kind: string;
    name: string;
    uid: string;
    controller?: boolean;
    blockOwnerDeletion?: boolean;
  }>;
}

/** A Kubernetes condition, following the API conventions. */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  /** CamelCase constant; see ConditionReasons. */
  reason: string;
  message: string;
  /** RFC 3339; changes only when `status` flips. */
  lastTransitionTime: string;
  observedGeneration?: number;
}

/** Which devices a policy targets: the union of `devices` and the devices matching the rest. */
export interface DeviceSelector {
  /** Devices of these fleets (any of them). */
  fleets?: string[];
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
  /** Explicit device uuids, selected whatever their fleet and labels. */
  devices?: string[];
}

/** One requirement of a Kubernetes label selector. */
export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

/** How an image reaches the selected devices. */
export interface RolloutStrategy {
  /** `Staged` waits `interval` between batches; `Manual` also waits for approval; `AllAtOnce` is one batch. */
  type?: 'Staged' | 'Manual' | 'AllAtOnce';
  /** Cumulative percentages of the selected devices, strictly increasing, ending at 100. */
  batches?: number[];
  /** Wait between a batch becoming healthy and the next starting, as a duration (`10m`). */
  interval?: string;
  /** When set, a batch only starts inside one of these windows. */
  maintenanceWindows?: MaintenanceWindow[];
  /** What a newer image does to a running rollout of the same policy. */
  onNewImage?: 'Supersede' | 'Queue';
  /** Whether devices that start matching the selector later join a running rollout. */
  includeNewDevices?: boolean;
}

/** A recurring window in which batches may start. */
export interface MaintenanceWindow {
  /** Five-field cron expression for the window's start. */
  schedule: string;
  /** How long the window stays open, as a duration (`2h`). */
  duration: string;
  /** IANA time zone of `schedule`; UTC when unset. */
  timeZone?: string;
}

/** A check the device agent runs against a service after it starts the new image. */
export interface HealthCheck {
  type: 'HTTP' | 'TCP' | 'ContainerRunning' | 'Script';
  /** The service the check applies to; every updated service when unset. */
  service?: string;
  port?: number;
  path?: string;
  /** Seconds between checks on the device. */
  periodSeconds?: number;
  /** Script: the argv the agent runs (no shell); exit code 0 is healthy. */
  command?: string[];
  /** Script: seconds the command may run before the check fails; 10 (at most the period) when unset. */
  timeoutSeconds?: number;
}

/** When a device counts as healthy, failed or offline. */
export interface HealthPolicy {
  checks?: HealthCheck[];
  /** How long a device must stay healthy on the new image (`5m`). */
  soakTime?: string;
  /** How long a scheduled device has to become healthy before it counts as failed (`30m`). */
  progressDeadline?: string;
  /** A scheduled device not heard from for this long counts as offline (`10m`). */
  offlineAfter?: string;
}

/** The failure budget of each batch and what happens when it is spent. */
export interface FailurePolicy {
  /** Trips when failed / (healthy + failed) in a batch exceeds this percentage. */
  maxFailurePercent?: number;
  /** Devices that must have reported (healthy + failed) before the budget can trip. */
  minSample?: number;
  action?: 'Pause' | 'Rollback';
}

/** Standing rule: which pushed images roll out to which devices, and how. */
export interface ImagePolicySpec {
  /** minimatch glob over the normalized repository, e.g. `ghcr.io/acme/*`. */
  image: string;
  tags?: {
    /** minimatch glob over the tag. */
    pattern?: string;
    /** semver range the tag must satisfy. */
    semver?: string;
    /** Whether pre-release versions may satisfy `semver`. */
    includePrerelease?: boolean;
  };
  selector: DeviceSelector;
  strategy?: RolloutStrategy;
  health?: HealthPolicy;
  failurePolicy?: FailurePolicy;
  /** Resolve tag → digest from the registry before creating a rollout, and pin it. */
  resolveDigest?: boolean;
  /** A suspended policy creates no rollouts; running ones continue. */
  suspend?: boolean;
}

/** What the controller last observed of a policy. */
export interface ImagePolicyStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  /** How many devices the selector matches now. */
  selectedDevices?: number;
  /** The newest image of the policy's rollouts that did not roll back or fail, and its rollout. */
  latestImage?: string;
  latestRollout?: string;
  /** The newest rollout's image when it rolled back (or is rolling back), and that rollout. */
  rolledBackImage?: string;
  rolledBackRollout?: string;
}

/** ImagePolicy resource. */
export interface ImagePolicy {
  apiVersion: typeof API_VERSION;
  kind: 'ImagePolicy';
  metadata: ObjectMeta;
  spec: ImagePolicySpec;
  status?: ImagePolicyStatus;
}

/** One image going out. Unset snapshot fields are taken from the policy when the rollout starts. */
export interface ImageRolloutSpec {
  /** The ImagePolicy (same namespace) this rollout belongs to. */
  policyRef: { name: string };
  /** Normalized repository, e.g. `docker.io/library/nginx`. */
  image: string;
  tag: string;
  /** `sha256:…`; when set devices get `image:tag@digest`. */
  digest?: string;
  selector?: DeviceSelector;
  strategy?: RolloutStrategy;
  health?: HealthPolicy;
  failurePolicy?: FailurePolicy;
  /** Stop starting batches; running devices continue. */
  paused?: boolean;
  /** With the Manual strategy: batches 1..approvedBatches may start. */
  approvedBatches?: number;
  /**
   * Batches 1..acceptedFailureBatches no longer trip the failure budget: an operator accepted
   * their failures (retry after a failure-budget pause). It may only grow.
   */
  acceptedFailureBatches?: number;
  /** Stop and roll every updated device back to its own previous image. */
  abort?: boolean;
}

/** Lifecycle phase shown to humans and printer columns. */
export type RolloutPhase =
  | 'Pending'
  | 'Progressing'
  | 'WaitingForApproval'
  | 'WaitingForWindow'
  | 'Paused'
  | 'Frozen'
  | 'RollingBack'
  | 'RolledBack'
  | 'Succeeded'
  | 'Superseded'
  | 'Failed';

/** Every phase of `RolloutPhase`, keyed so that a new phase fails to compile until it is listed. */
const PHASE_SET: Record<RolloutPhase, true> = {
  Pending: true,
  Progressing: true,
  WaitingForApproval: true,
  WaitingForWindow: true,
  Paused: true,
  Frozen: true,
  RollingBack: true,
  RolledBack: true,
  Succeeded: true,
  Superseded: true,
  Failed: true,
};

/** The phases a rollout can be in, as `status.phase` names them, in lifecycle order. */
export const ROLLOUT_PHASES = Object.keys(PHASE_SET) as readonly RolloutPhase[];

/** Device counts of one batch. */
export interface BatchStatus {
  /** 1-based batch number. */
  batch: number;
  /** Cumulative percentage this batch reaches. */
  percent: number;
  devices: number;
  /** Devices running the new image (healthy, soaking or not yet checked). */
  updated: number;
  healthy: number;
  failed: number;
  offline: number;
  pending: number;
  startedAt?: string;
  completedAt?: string;
}

/** What the controller last observed and did for a rollout. */
export interface ImageRolloutStatus {
  observedGeneration?: number;
  phase?: RolloutPhase;
  /** 1-based number of the latest started batch; 0 before the first. */
  currentBatch?: number;
  totalBatches?: number;
  /** Totals over all batches, for printer columns. */
  devices?: number;
  updated?: number;
  healthy?: number;
  failed?: number;
  batches?: BatchStatus[];
  rollback?: {
    reason: string;
    devices: number;
    restored: number;
    startedAt?: string;
    completedAt?: string;
  };
  /** The rollout that replaced this one. */
  supersededBy?: string;
  startedAt?: string;
  completedAt?: string;
  /** When the next batch may start (interval or window), RFC 3339. */
  nextBatchAt?: string;
  message?: string;
  conditions?: Condition[];
}

/** ImageRollout resource. */
export interface ImageRollout {
  apiVersion: typeof API_VERSION;
  kind: 'ImageRollout';
  metadata: ObjectMeta;
  spec: ImageRolloutSpec;
  status?: ImageRolloutStatus;
}

/** Condition types used on both resources. */
export const ConditionTypes = {
  Ready: 'Ready',
  Progressing: 'Progressing',
  Degraded: 'Degraded',
} as const;

/** A rollout transition a NotificationChannel can subscribe to. */
export type NotificationEvent =
  | 'Started'
  | 'BatchStarted'
  | 'WaitingForApproval'
  | 'Paused'
  | 'FailureBudgetExceeded'
  | 'RollingBack'
  | 'RolledBack'
  | 'Succeeded'
  | 'Failed';

/** A key of a Secret in the channel's namespace. */
export interface SecretKeyRef {
  name: string;
  key?: string;
}

/** What a NotificationChannel sends, where, and how often at most. */
export interface NotificationChannelSpec {
  type: 'Slack' | 'Webhook' | 'Email';
  suspend?: boolean;
  /** Unset or empty: every transition. */
  events?: NotificationEvent[];
  /** Rollouts matching every field that is set; unset: every rollout of the namespace. */
  rollouts?: {
    policies?: string[];
    names?: string[];
    selector?: {
      matchLabels?: Record<string, string>;
      matchExpressions?: LabelSelectorRequirement[];
    };
  };
  rateLimit?: { perMinute?: number };
  slack?: { webhookURLSecretRef: SecretKeyRef };
  webhook?: { url: string; signingSecretRef?: SecretKeyRef };
  email?: {
    host: string;
    port?: number;
    tls?: 'Implicit' | 'StartTLS' | 'None';
    caSecretRef?: SecretKeyRef;
    /** A Secret with `username` and `password` keys. */
    authSecretRef?: { name: string };
    from: string;
    to: string[];
  };
}

/** How delivery to a NotificationChannel goes. */
export interface NotificationChannelStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  consecutiveFailures?: number;
  lastSuccessTime?: string;
  lastFailureTime?: string;
  lastError?: string;
}

/** NotificationChannel resource. */
export interface NotificationChannel {
  apiVersion: typeof API_VERSION;
  kind: 'NotificationChannel';
  metadata: ObjectMeta;
  spec: NotificationChannelSpec;
  status?: NotificationChannelStatus;
}

/** Which rollouts of its namespace a FleetFreeze holds: those matching every field that is set. */
export interface FreezeScope {
  /** Rollouts of any of these ImagePolicies. */
  policies?: string[];
  /** Labels of the ImageRollout. */
  selector?: {
    matchLabels?: Record<string, string>;
    matchExpressions?: LabelSelectorRequirement[];
  };
}

/** Why the line is stopped, which rollouts, and when. */
export interface FleetFreezeSpec {
  reason: string;
  /** Unset: from creation until deleted. RFC 3339 times; at least one is set. */
  window?: { start?: string; end?: string };
  /** Unset or empty: every rollout of the namespace. */
  scope?: FreezeScope;
}

/** Whether a FleetFreeze holds now, and what it holds. */
export interface FleetFreezeStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  heldCount?: number;
  /** The first 100 held rollouts, by name. */
  heldRollouts?: string[];
}

/** FleetFreeze resource: "stop the line" for the rollouts of its namespace in its scope. */
export interface FleetFreeze {
  apiVersion: typeof API_VERSION;
  kind: 'FleetFreeze';
  metadata: ObjectMeta;
  spec: FleetFreezeSpec;
  status?: FleetFreezeStatus;
}
