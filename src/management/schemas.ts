import type { FreezeScope, RolloutPhase } from '../api/types.js';

/*
 * JSON schemas of the management API, checked at the edge by fastify and the source of its part
 * of the OpenAPI document. Resource specs are not repeated here: the Kubernetes API server
 * validates them against the CRDs (the one source of truth) and its field errors come back as
 * 400 problems.
 */

/** A namespace: a DNS label. */
export const NAMESPACE = {
  type: 'string',
  minLength: 1,
  maxLength: 63,
  pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
} as const;

/** A resource name: a DNS subdomain. */
export const NAME = {
  type: 'string',
  minLength: 1,
  maxLength: 253,
  pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
} as const;

/** `:namespace/:name` of one resource. */
export const objectParamsSchema = {
  type: 'object',
  required: ['namespace', 'name'],
  additionalProperties: false,
  properties: { namespace: NAMESPACE, name: NAME },
} as const;

/** Path parameters of a resource. */
export type ObjectParams = { namespace: string; name: string };

/** Page size bounds of every list. */
export const PAGE = { default: 100, max: 500 } as const;

const pagingProperties = {
  limit: {
    type: 'string',
    pattern: '^[1-9][0-9]{0,3}$',
    description: `page size, 1 to ${PAGE.max} (default ${PAGE.default})`,
  },
  continue: {
    type: 'string',
    maxLength: 1024,
    description: 'the `continue` of the previous page',
  },
} as const;

/** Every phase of `RolloutPhase`: a new phase there fails to compile here until it is added. */
const PHASES: Record<RolloutPhase, true> = {
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

/** The phases a rollout can be in, as `status.phase` names them. */
export const ROLLOUT_PHASES = Object.keys(PHASES) as RolloutPhase[];

/** `GET /api/v1/rollouts` filters. */
export const rolloutListQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    namespace: NAMESPACE,
    policy: NAME,
    phase: { type: 'string', enum: ROLLOUT_PHASES },
    image: {
      type: 'string',
      minLength: 1,
      maxLength: 512,
      description: 'a repository (`nginx`, `ghcr.io/acme/app`) or repository:tag',
    },
    ...pagingProperties,
  },
} as const;

/** The query of `GET /api/v1/rollouts`. */
export type RolloutListQuery = {
  namespace?: string;
  policy?: string;
  phase?: string;
  image?: string;
  limit?: string;
  continue?: string;
};

/** `GET /api/v1/policies` filters. */
export const policyListQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: { namespace: NAMESPACE, ...pagingProperties },
} as const;

/** The query of `GET /api/v1/policies`. */
export type PolicyListQuery = { namespace?: string; limit?: string; continue?: string };

/** The RFC 9457 problem every error answer carries. */
export const problemSchema = {
  type: 'object',
  required: ['title', 'status'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        required: ['path', 'message'],
        properties: { path: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
} as const;

/** Problem answers for the given error status codes, keyed as fastify's `response` wants. */
export function problems(...codes: number[]): Record<string, typeof problemSchema> {
  return Object.fromEntries(codes.map((code) => [String(code), problemSchema]));
}

const counts = {
  devices: { type: 'integer' },
  updated: { type: 'integer', description: 'devices running the new image' },
  healthy: { type: 'integer' },
  failed: { type: 'integer' },
  offline: { type: 'integer' },
  pending: { type: 'integer' },
} as const;

const countsSchema = {
  type: 'object',
  required: Object.keys(counts),
  properties: counts,
} as const;

const conditionSchema = {
  type: 'object',
  properties: {
    type: { type: 'string' },
    status: { type: 'string' },
    reason: { type: 'string' },
    message: { type: 'string' },
    lastTransitionTime: { type: 'string' },
    observedGeneration: { type: 'integer' },
  },
} as const;

/** One batch of a rollout, its counts as `status.batches[]` has them. */
const batchSchema = {
  type: 'object',
  required: ['batch', 'percent', 'state', ...Object.keys(counts)],
  properties: {
    batch: { type: 'integer' },
    percent: { type: 'integer' },
    state: { type: 'string', enum: ['Pending', 'Started', 'Completed'] },
    ...counts,
    startedAt: { type: 'string' },
    completedAt: { type: 'string' },
  },
} as const;

const rolloutProperties = {
  namespace: { type: 'string' },
  name: { type: 'string' },
  uid: { type: 'string' },
  resourceVersion: { type: 'string' },
  generation: { type: 'integer' },
  createdAt: { type: 'string' },
  policy: { type: 'string' },
  image: { type: 'string' },
  tag: { type: 'string' },
  digest: { type: 'string' },
  reference: { type: 'string', description: 'image:tag[@digest] as devices get it' },
  strategy: { type: 'string' },
  paused: { type: 'boolean' },
  abort: { type: 'boolean' },
  approvedBatches: { type: 'integer' },
  phase: { type: 'string', description: 'status.phase; absent until the controller saw it' },
  message: { type: 'string' },
  currentBatch: { type: 'integer' },
  totalBatches: { type: 'integer' },
  observedGeneration: { type: 'integer' },
  nextBatchAt: { type: 'string' },
  startedAt: { type: 'string' },
  completedAt: { type: 'string' },
  supersededBy: { type: 'string' },
  counts: countsSchema,
  summary: { type: 'string', description: 'the counts in the words the status uses' },
} as const;

/** A rollout in a list: identity, spec switches, phase and total counts. */
export const rolloutSummarySchema = {
  type: 'object',
  required: ['namespace', 'name', 'policy', 'image', 'tag', 'reference', 'counts', 'summary'],
  properties: rolloutProperties,
} as const;

/** One rollout with its per-batch progress, rollback and conditions. */
export const rolloutDetailSchema = {
  type: 'object',
  required: [...rolloutSummarySchema.required, 'batches', 'conditions'],
  properties: {
    ...rolloutProperties,
    batches: { type: 'array', items: batchSchema },
    rollback: {
      type: 'object',
      properties: {
        reason: { type: 'string' },
        devices: { type: 'integer' },
        restored: { type: 'integer' },
        startedAt: { type: 'string' },
        completedAt: { type: 'string' },
      },
    },
    conditions: { type: 'array', items: conditionSchema },
  },
} as const;

/** A page of a list. */
export function pageSchema(item: object) {
  return {
    type: 'object',
    required: ['items', 'total'],
    properties: {
      items: { type: 'array', items: item },
      total: { type: 'integer', description: 'items matching the filters, on every page' },
      continue: { type: 'string', description: 'pass as `continue` for the next page' },
    },
  } as const;
}

const openObject = { type: 'object', additionalProperties: true } as const;

/** An ImagePolicy exactly as the Kubernetes API has it (what `kubectl get -o json` prints). */
export const policySchema = {
  type: 'object',
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    metadata: openObject,
    spec: openObject,
    status: openObject,
  },
} as const;

const labelsSchema = {
  type: 'object',
  maxProperties: 64,
  additionalProperties: { type: 'string', maxLength: 63 },
} as const;

const annotationsSchema = {
  type: 'object',
  maxProperties: 64,
  additionalProperties: { type: 'string', maxLength: 65536 },
} as const;

/** `POST /api/v1/policies`: the object as kubectl would apply it (apiVersion and kind optional). */
export const policyCreateSchema = {
  type: 'object',
  required: ['metadata', 'spec'],
  additionalProperties: false,
  properties: {
    apiVersion: { type: 'string', const: 'fleet.iotistic.io/v1alpha1' },
    kind: { type: 'string', const: 'ImagePolicy' },
    metadata: {
      type: 'object',
      required: ['name'],
      additionalProperties: false,
      properties: {
        name: NAME,
        namespace: NAMESPACE,
        labels: labelsSchema,
        annotations: annotationsSchema,
      },
    },
    spec: { type: 'object', description: 'ImagePolicy spec, validated against the CRD' },
  },
} as const;

/** The body of `POST /api/v1/policies`. */
export type PolicyCreateBody = {
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: Record<string, unknown>;
};

/**
 * `PUT /api/v1/policies/:namespace/:name`: a new spec; labels and annotations when given; with
 * `metadata.resourceVersion`, only if nobody changed the policy since that version (else 409).
 */
export const policyReplaceSchema = {
  type: 'object',
  required: ['spec'],
  additionalProperties: false,
  properties: {
    apiVersion: { type: 'string', const: 'fleet.iotistic.io/v1alpha1' },
    kind: { type: 'string', const: 'ImagePolicy' },
    metadata: {
      type: 'object',
      additionalProperties: false,
      properties: {
        name: NAME,
        namespace: NAMESPACE,
        resourceVersion: { type: 'string', minLength: 1, maxLength: 64 },
        labels: labelsSchema,
        annotations: annotationsSchema,
      },
    },
    spec: { type: 'object', description: 'ImagePolicy spec, validated against the CRD' },
  },
} as const;

/** The body of `PUT /api/v1/policies/:namespace/:name`. */
export type PolicyReplaceBody = {
  metadata?: {
    name?: string;
    namespace?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: Record<string, unknown>;
};

const labelSelectorSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    matchLabels: labelsSchema,
    matchExpressions: {
      type: 'array',
      maxItems: 32,
      items: {
        type: 'object',
        required: ['key', 'operator'],
        additionalProperties: false,
        properties: {
          key: { type: 'string', minLength: 1, maxLength: 317 },
          operator: { type: 'string', enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'] },
          values: { type: 'array', maxItems: 64, items: { type: 'string', maxLength: 63 } },
        },
      },
    },
  },
} as const;

const freezeScopeSchema = {
  type: 'object',
  additionalProperties: false,
  description: 'which rollouts of the namespace it holds; unset or empty: every one',
  properties: {
    policies: { type: 'array', maxItems: 64, items: NAME },
    selector: labelSelectorSchema,
  },
} as const;

/** `POST /api/v1/freezes`: stop the line in a namespace, optionally for a window and a scope. */
export const freezeCreateSchema = {
  type: 'object',
  required: ['reason'],
  additionalProperties: false,
  properties: {
    namespace: NAMESPACE,
    name: { ...NAME, description: 'unset: generated (`freeze-xxxxx`)' },
    reason: { type: 'string', minLength: 1, maxLength: 1024 },
    scope: freezeScopeSchema,
    window: {
      type: 'object',
      additionalProperties: false,
      description: 'unset: from now until lifted',
      properties: {
        start: { type: 'string', format: 'date-time' },
        end: { type: 'string', format: 'date-time' },
      },
    },
  },
} as const;

/** The body of `POST /api/v1/freezes`. */
export type FreezeCreateBody = {
  namespace?: string;
  name?: string;
  reason: string;
  scope?: FreezeScope;
  window?: { start?: string; end?: string };
};

/** A freeze: where it stands now (Scheduled, Active, Ended), what it holds, and the resource. */
export const freezeSchema = {
  type: 'object',
  required: [
    'namespace',
    'name',
    'reason',
    'state',
    'scope',
    'heldCount',
    'heldRollouts',
    'freeze',
  ],
  properties: {
    namespace: { type: 'string' },
    name: { type: 'string' },
    reason: { type: 'string' },
    state: { type: 'string', enum: ['Scheduled', 'Active', 'Ended'] },
    start: { type: 'string' },
    end: { type: 'string' },
    scope: openObject,
    heldCount: { type: 'integer' },
    heldRollouts: { type: 'array', items: { type: 'string' } },
    freeze: { ...openObject, description: 'the FleetFreeze as the Kubernetes API has it' },
  },
} as const;

/** `:namespace` of a collection. */
export const namespaceParamsSchema = {
  type: 'object',
  required: ['namespace'],
  additionalProperties: false,
  properties: { namespace: NAMESPACE },
} as const;

/** `POST …/approve`: no body (or `{}`) approves the next batch, `{"all": true}` every batch. */
export const approveBodySchema = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: { all: { type: 'boolean' } },
} as const;

/** `GET /api/v1/policies/match`: the pushed image, and optionally one namespace. */
export const matchQuerySchema = {
  type: 'object',
  required: ['image'],
  additionalProperties: false,
  properties: {
    image: {
      type: 'string',
      minLength: 1,
      maxLength: 512,
      description: 'IMAGE[:TAG][@DIGEST] as pushed; the tag is `latest` when none is given',
    },
    namespace: NAMESPACE,
  },
} as const;

/** The query of `GET /api/v1/policies/match`. */
export type MatchQuery = { image: string; namespace?: string };

/** Every policy's verdict on a push, matching ones first. */
export const matchReportSchema = {
  type: 'object',
  required: ['repository', 'tag', 'policies'],
  properties: {
    repository: { type: 'string' },
    tag: { type: 'string' },
    digest: { type: 'string' },
    policies: {
      type: 'array',
      items: {
        type: 'object',
        required: ['namespace', 'name', 'matched'],
        properties: {
          namespace: { type: 'string' },
          name: { type: 'string' },
          matched: { type: 'boolean' },
          reason: { type: 'string', description: 'why not, as the webhook receiver says it' },
          rollout: { type: 'string', description: 'the ImageRollout the push creates' },
          exists: { type: 'boolean', description: 'that rollout exists: a repeat creates nothing' },
        },
      },
    },
  },
} as const;

/** `POST …/preview`: the tag pushed, and the repository when the policy's image is a glob. */
export const previewBodySchema = {
  type: 'object',
  required: ['tag'],
  additionalProperties: false,
  properties: {
    tag: { type: 'string', minLength: 1, maxLength: 128 },
    image: { type: 'string', minLength: 1, maxLength: 512 },
    digest: { type: 'string', pattern: '^sha256:[a-f0-9]{64}$' },
    rolloutName: NAME,
  },
} as const;

/** The body of `POST …/preview`. */
export type PreviewBody = { tag: string; image?: string; digest?: string; rolloutName?: string };

/** What a rollout of the push would do, computed by the controller's own code, written nowhere. */
export const previewSchema = {
  type: 'object',
  required: ['policy', 'rollout', 'trigger', 'strategy', 'devices', 'batches', 'firstStep'],
  properties: {
    policy: {
      type: 'object',
      properties: { namespace: { type: 'string' }, name: { type: 'string' } },
    },
    rollout: { ...openObject, description: 'the ImageRollout the push would create (not created)' },
    trigger: {
      type: 'object',
      required: ['matched'],
      properties: { matched: { type: 'boolean' }, reason: { type: 'string' } },
    },
    existingPhase: { type: 'string' },
    strategy: { type: 'string', enum: ['Staged', 'Manual', 'AllAtOnce'] },
    devices: { type: 'integer', description: 'devices the selector selects now' },
    batches: {
      type: 'array',
      items: {
        type: 'object',
        required: ['batch', 'percent', 'devices'],
        properties: {
          batch: { type: 'integer' },
          percent: { type: 'integer' },
          devices: { type: 'array', items: { type: 'string' }, description: 'device uuids' },
        },
      },
    },
    nextWindow: { type: 'string', description: '`now`, an RFC 3339 time, or `never`' },
    firstStep: {
      type: 'object',
      properties: { phase: { type: 'string' }, message: { type: 'string' } },
    },
  },
} as const;
