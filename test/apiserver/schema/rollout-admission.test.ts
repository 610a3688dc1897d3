import { describe, expect, it } from 'vitest';
import { admitCustomResource, strictDecodingError } from '../../../src/apiserver/schema/index.js';
import {
  admissionErrors,
  crdOf,
  policyWith,
  RULES_SKIPPED,
  rolloutWith,
} from '../../support/resources.js';

describe('ImageRollout defaults', () => {
  it('leaves unset snapshot fields unset, so the policy fills them', () => {
    const result = admitCustomResource(crdOf('ImageRollout'), rolloutWith(), {
      fieldValidation: 'Strict',
    });
    expect(result.errors).toEqual([]);
    expect((result.object as { spec: unknown }).spec).toEqual({
      policyRef: { name: 'web' },
      image: 'ghcr.io/acme/web',
      tag: '1.2.3',
      paused: false,
      abort: false,
    });
  });

  it('defaults the rest of a snapshot that is set', () => {
    const result = admitCustomResource(
      crdOf('ImageRollout'),
      rolloutWith({ strategy: { batches: [50, 100] }, failurePolicy: { action: 'Rollback' } }),
      { fieldValidation: 'Strict' },
    );
    expect(result.object).toMatchObject({
      spec: {
        strategy: { type: 'Staged', batches: [50, 100], interval: '10m' },
        failurePolicy: { action: 'Rollback', maxFailurePercent: 10, minSample: 3 },
      },
    });
  });
});

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const NOW = '2025-05-01T10:00:00Z';
const ready = (status: string) => ({
  type: 'Ready',
  status,
  reason: 'RolloutProgressing',
  message: 'batch 1 of 3',
  lastTransitionTime: NOW,
});

const rows: Array<
  [string, Record<string, unknown>, Record<string, unknown> | undefined, ...string[]]
> = [
  ['a pinned digest', { digest: DIGEST }, undefined],
  [
    'a digest that is no sha256',
    { digest: 'md5:abc' },
    undefined,
    'FieldValueInvalid spec.digest: Invalid value: "md5:abc": spec.digest in body should match \'^sha256:[a-f0-9]{64}$\'',
  ],
  [
    'an image glob',
    { image: 'ghcr.io/acme/*' },
    undefined,
    'FieldValueInvalid spec.image: Invalid value: "ghcr.io/acme/*": spec.image in body should match \'^([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*(:[0-9]{1,5})?|\\[[0-9a-fA-F:]+\\](:[0-9]{1,5})?)(/[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*)+$\'',
  ],
  ['a registry with a port', { image: 'localhost:5000/acme/web' }, undefined],
  [
    'a tag with a slash',
    { tag: 'feature/x' },
    undefined,
    'FieldValueInvalid spec.tag: Invalid value: "feature/x": spec.tag in body should match \'^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$\'',
  ],
  [
    'an upper-case policy name',
    { policyRef: { name: 'Web' } },
    undefined,
    'FieldValueInvalid spec.policyRef.name: Invalid value: "Web": spec.policyRef.name in body should match \'^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$\'',
  ],
  [
    'no policyRef',
    { policyRef: undefined },
    undefined,
    'FieldValueRequired spec.policyRef: Required value',
    RULES_SKIPPED,
  ],
  [
    'more approvals than batches',
    { strategy: { batches: [50, 100] }, approvedBatches: 3 },
    undefined,
    'FieldValueInvalid spec.approvedBatches: Invalid value: approvedBatches may not exceed the number of batches',
  ],
  [
    'a negative approval count',
    { approvedBatches: -1 },
    undefined,
    'FieldValueInvalid spec.approvedBatches: Invalid value: -1: spec.approvedBatches in body should be greater than or equal to 0',
  ],
  [
    'a complete status',
    {},
    {
      observedGeneration: 2,
      phase: 'Progressing',
      currentBatch: 1,
      totalBatches: 3,
      devices: 20,
      updated: 2,
      healthy: 1,
      failed: 0,
      startedAt: NOW,
      nextBatchAt: NOW,
      message: 'soaking',
      batches: [
        {
          batch: 1,
          percent: 10,
          devices: 2,
          updated: 2,
          healthy: 1,
          failed: 0,
          offline: 0,
          pending: 0,
          startedAt: NOW,
        },
      ],
      conditions: [ready('False')],
    },
  ],
  [
    'an unknown phase',
    {},
    { phase: 'Done' },
    'FieldValueNotSupported status.phase: Unsupported value: "Done": supported values: "Pending", "Progressing", "WaitingForApproval", "WaitingForWindow", "Paused", "RollingBack", "RolledBack", "Succeeded", "Superseded", "Failed"',
    RULES_SKIPPED,
  ],
  [
    'two Ready conditions',
    {},
    { conditions: [ready('True'), ready('False')] },
    'FieldValueDuplicate status.conditions[1]: Duplicate value: {"type":"Ready"}',
  ],
  [
    'a condition status of Yes',
    {},
    { conditions: [ready('Yes')] },
    'FieldValueNotSupported status.conditions[0].status: Unsupported value: "Yes": supported values: "True", "False", "Unknown"',
    RULES_SKIPPED,
  ],
  [
    'a transition time that is no RFC 3339',
    {},
    { conditions: [{ ...ready('True'), lastTransitionTime: 'yesterday' }] },
    'FieldValueTypeInvalid status.conditions[0].lastTransitionTime: Invalid value: "yesterday": status.conditions[0].lastTransitionTime in body must be of type date-time: "yesterday"',
    RULES_SKIPPED,
  ],
  [
    'a condition without reason',
    {},
    { conditions: [{ ...ready('True'), reason: undefined }] },
    'FieldValueRequired status.conditions[0].reason: Required value',
    RULES_SKIPPED,
  ],
  [
    'a batch count without pending',
    {},
    {
      batches: [
        { batch: 1, percent: 10, devices: 2, updated: 2, healthy: 1, failed: 0, offline: 0 },
      ],
    },
    'FieldValueRequired status.batches[0].pending: Required value',
    RULES_SKIPPED,
  ],
  [
    'a snapshot whose offlineAfter is longer than the default progress deadline',
    { health: { offlineAfter: '1h' } },
    undefined,
    'FieldValueInvalid spec.health: Invalid value: offlineAfter (1h) must be shorter than progressDeadline (30m)',
  ],
  [
    'a snapshot with offlineAfter shorter than the progress deadline',
    { health: { offlineAfter: '29m' } },
    undefined,
  ],
];

describe('ImageRollout validation', () => {
  it.each(rows)('%s', (_name, spec, status, ...errors) => {
    expect(admissionErrors('ImageRollout', rolloutWith(spec, status))).toEqual(errors);
  });
});

const transitions: Array<[string, Record<string, unknown>, Record<string, unknown>, ...string[]]> =
  [
    [
      'a new image',
      {},
      { image: 'ghcr.io/acme/other' },
      'FieldValueInvalid spec.image: Invalid value: "ghcr.io/acme/other": image is immutable',
    ],
    [
      'a new tag',
      {},
      { tag: '1.2.4' },
      'FieldValueInvalid spec.tag: Invalid value: "1.2.4": tag is immutable',
    ],
    [
      'a new policyRef',
      {},
      { policyRef: { name: 'api' } },
      'FieldValueInvalid spec.policyRef: Invalid value: policyRef is immutable',
    ],
    ['a digest set later', {}, { digest: DIGEST }],
    [
      'a changed digest',
      { digest: DIGEST },
      { digest: `sha256:${'cd'.repeat(32)}` },
      'FieldValueInvalid spec.digest: Invalid value: digest is immutable once set',
    ],
    [
      'a removed digest',
      { digest: DIGEST },
      { digest: undefined },
      'FieldValueInvalid spec.digest: Invalid value: digest is immutable once set',
    ],
    ['one more approved batch', { approvedBatches: 1 }, { approvedBatches: 2 }],
    [
      'one approved batch less',
      { approvedBatches: 2 },
      { approvedBatches: 1 },
      'FieldValueInvalid spec.approvedBatches: Invalid value: approvedBatches may only grow',
    ],
    [
      'removed approvals',
      { approvedBatches: 2 },
      { approvedBatches: undefined },
      'FieldValueInvalid spec.approvedBatches: Invalid value: approvedBatches may only grow',
    ],
    ['an abort', {}, { abort: true }],
    [
      'an undone abort',
      { abort: true },
      { abort: false },
      'FieldValueInvalid spec.abort: Invalid value: abort cannot be undone',
    ],
    ['a pause and a resume', { paused: true }, { paused: false }],
  ];

describe('ImageRollout transition rules', () => {
  it.each(transitions)('on update: %s', (_name, before, after, ...errors) => {
    const old = admitCustomResource(crdOf('ImageRollout'), rolloutWith(before), {
      fieldValidation: 'Strict',
    }).object;
    expect(admissionErrors('ImageRollout', rolloutWith({ ...before, ...after }), old)).toEqual(
      errors,
    );
  });

  it('are not evaluated on create', () => {
    expect(
      admissionErrors('ImageRollout', rolloutWith({ tag: '9.9.9', approvedBatches: 0 })),
    ).toEqual([]);
  });
});

describe('unknown fields', () => {
  const object = {
    ...policyWith({ health: { checks: [{ type: 'ContainerRunning', timeout: 3 }] }, foo: 1 }),
    status: { selectedDevices: 3, bar: true },
  };
  object.metadata = { ...object.metadata, owner: 'me' } as typeof object.metadata;
  const paths = ['.metadata.owner', '.spec.foo', '.spec.health.checks[0].timeout', '.status.bar'];

  it.each([
    ['Strict', []],
    ['Warn', paths.map((path) => `unknown field "${path.slice(1)}"`)],
    ['Ignore', []],
  ] as const)('are pruned and reported in %s mode', (fieldValidation, warnings) => {
    const result = admitCustomResource(crdOf('ImagePolicy'), object, { fieldValidation });
    expect(result.unknownFields).toEqual(paths);
    expect(result.warnings).toEqual(warnings);
    expect(result.errors).toEqual([]);
    expect(result.object).toMatchObject({
      metadata: { name: 'web' },
      status: { selectedDevices: 3 },
    });
    expect(JSON.stringify(result.object)).not.toMatch(/"(owner|foo|timeout|bar)"/);
  });

  it('make the strict decoding error the real API server answers with', () => {
    expect(strictDecodingError(paths)).toBe(
      'strict decoding error: unknown field "metadata.owner", unknown field "spec.foo", unknown field "spec.health.checks[0].timeout", unknown field "status.bar"',
    );
  });

  it('leave the input untouched', () => {
    const before = JSON.stringify(object);
    admitCustomResource(crdOf('ImagePolicy'), object, { fieldValidation: 'Strict' });
    expect(JSON.stringify(object)).toBe(before);
  });
});
