import { describe, expect, it } from 'vitest';
import { admitCustomResource } from '../../../src/apiserver/schema/index.js';
import { admissionErrors, crdOf, policyWith, RULES_SKIPPED } from '../../support/resources.js';

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

const UUID = '5b0a1f3e-8c1d-4a8e-9a57-2f4d7c9e0b11';
const window = (fields: Record<string, unknown>) => ({
  strategy: { maintenanceWindows: [{ schedule: '0 2 * * *', duration: '2h', ...fields }] },
});
const expression = (fields: Record<string, unknown>) => ({
  selector: { matchExpressions: [{ key: 'site', ...fields }] },
});
const check = (fields: Record<string, unknown>) => ({ health: { checks: [fields] } });

const rows: Array<[string, Record<string, unknown>, ...string[]]> = [
  [
    'batches [10, 5, 100]',
    { strategy: { batches: [10, 5, 100] } },
    'FieldValueInvalid spec.strategy.batches: Invalid value: batches must be strictly increasing',
  ],
  [
    'batches [10, 10, 100]',
    { strategy: { batches: [10, 10, 100] } },
    'FieldValueInvalid spec.strategy.batches: Invalid value: batches must be strictly increasing',
  ],
  [
    'batches [10, 50]',
    { strategy: { batches: [10, 50] } },
    'FieldValueInvalid spec.strategy.batches: Invalid value: the last batch must be 100',
  ],
  [
    'a batch of 0',
    { strategy: { batches: [0, 50, 100] } },
    'FieldValueInvalid spec.strategy.batches[0]: Invalid value: 0: spec.strategy.batches[0] in body should be greater than or equal to 1',
  ],
  [
    'a batch over 100',
    { strategy: { batches: [10, 101] } },
    'FieldValueInvalid spec.strategy.batches[1]: Invalid value: 101: spec.strategy.batches[1] in body should be less than or equal to 100',
    'FieldValueInvalid spec.strategy.batches: Invalid value: the last batch must be 100',
  ],
  [
    'no batches',
    { strategy: { batches: [] } },
    'FieldValueInvalid spec.strategy.batches: Invalid value: 0: spec.strategy.batches in body should have at least 1 items',
  ],
  [
    'AllAtOnce with batches [10, 100]',
    { strategy: { type: 'AllAtOnce', batches: [10, 100] } },
    'FieldValueInvalid spec.strategy.batches: Invalid value: the AllAtOnce strategy has a single batch; leave batches unset or set it to [100]',
  ],
  ['AllAtOnce with batches [100]', { strategy: { type: 'AllAtOnce', batches: [100] } }],
  ['AllAtOnce without batches', { strategy: { type: 'AllAtOnce' } }],
  [
    'an unknown strategy type',
    { strategy: { type: 'Canary' } },
    'FieldValueNotSupported spec.strategy.type: Unsupported value: "Canary": supported values: "Staged", "Manual", "AllAtOnce"',
    RULES_SKIPPED,
  ],
  [
    'an interval that is no duration',
    { strategy: { interval: '10 minutes' } },
    'FieldValueInvalid spec.strategy.interval: Invalid value: "10 minutes": spec.strategy.interval in body should match \'^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$\'',
  ],
  [
    'a four-field cron schedule',
    window({ schedule: '0 2 * *' }),
    'FieldValueInvalid spec.strategy.maintenanceWindows[0].schedule: Invalid value: "0 2 * *": spec.strategy.maintenanceWindows[0].schedule in body should match \'^[0-9A-Za-z*?,/-]+(\\s+[0-9A-Za-z*?,/-]+){4}$\'',
  ],
  [
    'a zero-length window',
    window({ duration: '0s' }),
    'FieldValueInvalid spec.strategy.maintenanceWindows[0].duration: Invalid value: "0s": duration must be positive',
  ],
  [
    'a time zone with a space',
    window({ timeZone: 'America/New York' }),
    'FieldValueInvalid spec.strategy.maintenanceWindows[0].timeZone: Invalid value: "America/New York": spec.strategy.maintenanceWindows[0].timeZone in body should match \'^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$\'',
  ],
  [
    'a window without duration',
    { strategy: { maintenanceWindows: [{ schedule: '@daily' }] } },
    'FieldValueInvalid spec.strategy.maintenanceWindows[0].schedule: Invalid value: "@daily": spec.strategy.maintenanceWindows[0].schedule in body should match \'^[0-9A-Za-z*?,/-]+(\\s+[0-9A-Za-z*?,/-]+){4}$\'',
    'FieldValueRequired spec.strategy.maintenanceWindows[0].duration: Required value',
    RULES_SKIPPED,
  ],
  [
    'an empty selector',
    { selector: {} },
    'FieldValueInvalid spec.selector: Invalid value: selector must set at least one of fleets, matchLabels, matchExpressions or devices',
  ],
  [
    'a selector of empty lists',
    { selector: { fleets: [], devices: [], matchLabels: {} } },
    'FieldValueInvalid spec.selector: Invalid value: selector must set at least one of fleets, matchLabels, matchExpressions or devices',
  ],
  [
    'In without values',
    expression({ operator: 'In' }),
    "FieldValueRequired spec.selector.matchExpressions[0].values: Required value: values must be specified when `operator` is 'In' or 'NotIn'",
  ],
  [
    'NotIn with empty values',
    expression({ operator: 'NotIn', values: [] }),
    "FieldValueRequired spec.selector.matchExpressions[0].values: Required value: values must be specified when `operator` is 'In' or 'NotIn'",
  ],
  [
    'Exists with values',
    expression({ operator: 'Exists', values: ['a'] }),
    "FieldValueForbidden spec.selector.matchExpressions[0].values: Forbidden: values may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
  ],
  ['DoesNotExist without values', expression({ operator: 'DoesNotExist' })],
  [
    'an unknown operator',
    expression({ operator: 'Gt', values: ['1'] }),
    'FieldValueNotSupported spec.selector.matchExpressions[0].operator: Unsupported value: "Gt": supported values: "In", "NotIn", "Exists", "DoesNotExist"',
    RULES_SKIPPED,
  ],
  [
    'a label key with a space',
    { selector: { matchLabels: { 'my site': 'a' } } },
    "FieldValueInvalid spec.selector.matchLabels: Invalid value: label keys must be qualified names (an optional DNS subdomain prefix and '/', then at most 63 alphanumerics, '-', '_' or '.')",
  ],
  ['a prefixed label key', { selector: { matchLabels: { 'acme.example/site': 'berlin-1' } } }],
  [
    'a label value with a slash',
    { selector: { matchLabels: { site: 'a/b' } } },
    'FieldValueInvalid spec.selector.matchLabels.site: Invalid value: "a/b": spec.selector.matchLabels.site in body should match \'^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$\'',
  ],
  [
    'a device that is no uuid',
    { selector: { devices: ['pi-1'] } },
    'FieldValueTypeInvalid spec.selector.devices[0]: Invalid value: "pi-1": spec.selector.devices[0] in body must be of type uuid: "pi-1"',
    RULES_SKIPPED,
  ],
  [
    'a device listed twice',
    { selector: { devices: [UUID, UUID] } },
    `FieldValueDuplicate spec.selector.devices[1]: Duplicate value: "${UUID}"`,
  ],
  [
    '65 fleets',
    { selector: { fleets: Array.from({ length: 65 }, (_, i) => `f${i}`) } },
    'FieldValueTooMany spec.selector.fleets: Too many: 65: must have at most 64 items',
    RULES_SKIPPED,
  ],
  [
    'an HTTP check without port',
    check({ type: 'HTTP', path: '/' }),
    'FieldValueRequired spec.health.checks[0].port: Required value: port is required for HTTP and TCP checks',
  ],
  [
    'a ContainerRunning check with port',
    check({ type: 'ContainerRunning', port: 80 }),
    'FieldValueForbidden spec.health.checks[0].port: Forbidden: port is not allowed for ContainerRunning checks',
  ],
  [
    'a TCP check with path',
    check({ type: 'TCP', port: 80, path: '/x' }),
    'FieldValueForbidden spec.health.checks[0].path: Forbidden: path is only allowed for HTTP checks',
  ],
  [
    'a port over 65535',
    check({ type: 'TCP', port: 70000 }),
    'FieldValueInvalid spec.health.checks[0].port: Invalid value: 70000: spec.health.checks[0].port in body should be less than or equal to 65535',
  ],
  [
    'a progress deadline of 30s (also not longer than the default offlineAfter)',
    { health: { progressDeadline: '30s' } },
    'FieldValueInvalid spec.health: Invalid value: offlineAfter (10m) must be shorter than progressDeadline (30s)',
    'FieldValueInvalid spec.health.progressDeadline: Invalid value: "30s": progressDeadline must be at least 1m',
  ],
  [
    'offlineAfter of 10s',
    { health: { offlineAfter: '10s' } },
    'FieldValueInvalid spec.health.offlineAfter: Invalid value: "10s": offlineAfter must be at least 30s',
  ],
  [
    'offlineAfter as long as the progress deadline',
    { health: { progressDeadline: '30m', offlineAfter: '30m' } },
    'FieldValueInvalid spec.health: Invalid value: offlineAfter (30m) must be shorter than progressDeadline (30m)',
  ],
  [
    'a progress deadline shorter than the default offlineAfter',
    { health: { progressDeadline: '5m' } },
    'FieldValueInvalid spec.health: Invalid value: offlineAfter (10m) must be shorter than progressDeadline (5m)',
  ],
  [
    'offlineAfter shorter than the progress deadline',
    { health: { offlineAfter: '1h', progressDeadline: '1h1m' } },
  ],
  [
    'a failure budget over 100%',
    { failurePolicy: { maxFailurePercent: 150 } },
    'FieldValueInvalid spec.failurePolicy.maxFailurePercent: Invalid value: 150: spec.failurePolicy.maxFailurePercent in body should be less than or equal to 100',
  ],
  [
    'an unknown failure action',
    { failurePolicy: { action: 'Retry' } },
    'FieldValueNotSupported spec.failurePolicy.action: Unsupported value: "Retry": supported values: "Pause", "Rollback"',
    RULES_SKIPPED,
  ],
  [
    'a fractional minSample',
    { failurePolicy: { minSample: 2.5 } },
    'FieldValueTypeInvalid spec.failurePolicy.minSample: Invalid value: "number": spec.failurePolicy.minSample in body must be of type integer: "number"',
    RULES_SKIPPED,
  ],
  [
    'empty tags',
    { tags: {} },
    'FieldValueInvalid spec.tags: Invalid value: tags must set pattern, semver or both',
  ],
  [
    'includePrerelease without semver',
    { tags: { pattern: 'v*', includePrerelease: true } },
    'FieldValueInvalid spec.tags.includePrerelease: Invalid value: includePrerelease requires semver',
  ],
  [
    'no image',
    { image: undefined },
    'FieldValueRequired spec.image: Required value',
    RULES_SKIPPED,
  ],
  [
    'an image of 256 characters',
    { image: `ghcr.io/${'a'.repeat(248)}` },
    'FieldValueTooLong spec.image: Too long: may not be more than 255 bytes',
    RULES_SKIPPED,
  ],
  [
    'an image with a tag',
    { image: 'ghcr.io/acme/web:1.0' },
    'FieldValueInvalid spec.image: Invalid value: "ghcr.io/acme/web:1.0": spec.image in body should match \'^[^\\s:@]+(:[0-9]+)?(/[^\\s:@]+)*$\'',
  ],
  [
    'suspend as a string',
    { suspend: 'yes' },
    'FieldValueTypeInvalid spec.suspend: Invalid value: "string": spec.suspend in body must be of type boolean: "string"',
    RULES_SKIPPED,
  ],
];

describe('ImagePolicy validation', () => {
  it.each(rows)('%s', (_name, spec, ...errors) => {
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
