import { describe, expect, it } from 'vitest';
import { admitCustomResource } from '../../../src/apiserver/schema/index.js';
import { admissionErrors, crdOf, policyWith, RULES_SKIPPED } from '../../support/resources.js';
import { policyValidationCases } from '../../support/validation-cases.js';

describe('ImagePolicy defaults', () => {
  const admitted = admitCustomResource(
    crdOf('ImagePolicy'),
    policyWith({
      tags: { semver: '^1.2' },
      strategy: { maintenanceWindows: [{ schedule: '0 2 * * *', duration: '2h' }] },
      health: { checks: [{ type: 'ContainerRunning' }] },
    }),
    { fieldValidation: 'Strict' },
  );
  const spec = (admitted.object as { spec: Record<string, unknown> }).spec;

  it('admits the minimal policy', () => {
    expect(admitted.errors).toEqual([]);
  });

  it.each([
    ['tags.includePrerelease', false],
    ['strategy.type', 'Staged'],
    ['strategy.batches', undefined],
    ['strategy.interval', '10m'],
    ['strategy.onNewImage', 'Supersede'],
    ['strategy.includeNewDevices', false],
    ['strategy.maintenanceWindows.0.timeZone', 'UTC'],
    ['health.checks.0.periodSeconds', 10],
    ['health.soakTime', '5m'],
    ['health.progressDeadline', '30m'],
    ['health.offlineAfter', '10m'],
    ['failurePolicy.maxFailurePercent', 10],
    ['failurePolicy.minSample', 3],
    ['failurePolicy.action', 'Pause'],
    ['resolveDigest', false],
    ['suspend', false],
  ])('defaults spec.%s to %j', (path, value) => {
    const actual = path.split('.').reduce<unknown>((node, key) => (node as never)?.[key], spec);
    expect(actual).toEqual(value);
  });

  it('keeps values that are set', () => {
    const result = admitCustomResource(
      crdOf('ImagePolicy'),
      policyWith({ strategy: { type: 'Manual', interval: '1h30m' }, suspend: true }),
      { fieldValidation: 'Strict' },
    );
    expect(result.object).toMatchObject({
      spec: {
        strategy: { type: 'Manual', interval: '1h30m', onNewImage: 'Supersede' },
        suspend: true,
      },
    });
  });
});

describe('ImagePolicy validation', () => {
  it.each(policyValidationCases)('%s', (_name, spec, ...errors) => {
    expect(admissionErrors('ImagePolicy', policyWith(spec))).toEqual(errors);
  });

  it.each([
    [
      'Web_1',
      "FieldValueInvalid metadata.name: Invalid value: \"Web_1\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    ],
    [
      '',
      'FieldValueRequired metadata.name: Required value: name or generateName is required',
      RULES_SKIPPED,
    ],
  ])('rejects the name %j', (name, ...errors) => {
    expect(admissionErrors('ImagePolicy', policyWith({}, name))).toEqual(errors);
  });
});
