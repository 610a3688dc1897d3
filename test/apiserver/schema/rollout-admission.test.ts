import { describe, expect, it } from 'vitest';
import { admitCustomResource, strictDecodingError } from '../../../src/apiserver/schema/index.js';
import { admissionErrors, crdOf, policyWith, rolloutWith } from '../../support/resources.js';
import { rolloutTransitionCases, rolloutValidationCases } from '../../support/validation-cases.js';

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

describe('ImageRollout validation', () => {
  it.each(rolloutValidationCases)('%s', (_name, spec, status, ...errors) => {
    const object = rolloutWith(spec, status);
    const statusUpdate = status !== undefined;
    expect(admissionErrors('ImageRollout', object, undefined, statusUpdate)).toEqual(errors);
  });
});

describe('ImageRollout transition rules', () => {
  it.each(rolloutTransitionCases)('on update: %s', (_name, before, after, ...errors) => {
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
