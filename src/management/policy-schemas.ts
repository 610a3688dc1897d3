import { labelsSchema, NAME, NAMESPACE, openObject, pagingProperties } from './schemas.js';

/* JSON schemas of the policy routes of the management API (specs are the CRD's to validate). */

/** `GET /api/v1/policies` filters. */
export const policyListQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: { namespace: NAMESPACE, ...pagingProperties },
} as const;

/** The query of `GET /api/v1/policies`. */
export type PolicyListQuery = { namespace?: string; limit?: string; continue?: string };

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
          heldBy: {
            type: 'array',
            items: { type: 'string' },
            description: 'the active FleetFreezes that would hold that rollout (created, waiting)',
          },
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
