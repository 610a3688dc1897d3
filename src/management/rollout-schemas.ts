import { ROLLOUT_PHASES } from '../api/types.js';
import { NAME, NAMESPACE, pagingProperties } from './schemas.js';

/* JSON schemas of the rollout routes of the management API. */

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

/** `POST …/approve`: no body (or `{}`) approves the next batch, `{"all": true}` every batch. */
export const approveBodySchema = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: { all: { type: 'boolean' } },
} as const;
