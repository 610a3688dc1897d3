import type { FreezeScope } from '../api/types.js';
import { labelsSchema, NAME, NAMESPACE, openObject } from './schemas.js';

/* JSON schemas of the freeze routes of the management API. */

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
