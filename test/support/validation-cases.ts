/**
 * Validation cases of our CRDs, shared by the local API server's unit tests and the cluster
 * tier, which sends each to a real kube-apiserver: both must give exactly these verdicts.
 */
import { RULES_SKIPPED } from './resources.js';

const UUID = '5b0a1f3e-8c1d-4a8e-9a57-2f4d7c9e0b11';
const window = (fields: Record<string, unknown>) => ({
  strategy: { maintenanceWindows: [{ schedule: '0 2 * * *', duration: '2h', ...fields }] },
});
const expression = (fields: Record<string, unknown>) => ({
  selector: { matchExpressions: [{ key: 'site', ...fields }] },
});
const check = (fields: Record<string, unknown>) => ({ health: { checks: [fields] } });

/** ImagePolicy specs and the errors the API server answers (none: admitted), as kube-apiserver words them. */
export const policyValidationCases: Array<[string, Record<string, unknown>, ...string[]]> = [
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
    'a Script check',
    check({ type: 'Script', command: ['/usr/bin/check', '--quick'], timeoutSeconds: 5 }),
  ],
  [
    'a Script check without command',
    check({ type: 'Script' }),
    'FieldValueRequired spec.health.checks[0].command: Required value: command is required for Script checks',
  ],
  [
    'a Script check with an empty argv',
    check({ type: 'Script', command: [] }),
    'FieldValueInvalid spec.health.checks[0].command: Invalid value: 0: spec.health.checks[0].command in body should have at least 1 items',
  ],
  [
    'a Script check with an empty program',
    check({ type: 'Script', command: ['', '-x'] }),
    'FieldValueInvalid spec.health.checks[0].command: Invalid value: the program (the first item) must not be empty',
  ],
  [
    'a Script check with 33 arguments',
    check({ type: 'Script', command: Array.from({ length: 33 }, () => 'x') }),
    'FieldValueTooMany spec.health.checks[0].command: Too many: 33: must have at most 32 items',
    RULES_SKIPPED,
  ],
  [
    'a Script check with port',
    check({ type: 'Script', command: ['true'], port: 80 }),
    'FieldValueForbidden spec.health.checks[0].port: Forbidden: port is not allowed for Script checks',
  ],
  [
    'a command on an HTTP check',
    check({ type: 'HTTP', port: 80, command: ['true'] }),
    'FieldValueForbidden spec.health.checks[0].command: Forbidden: command is only allowed for Script checks',
  ],
  [
    'a timeout on a TCP check',
    check({ type: 'TCP', port: 80, timeoutSeconds: 3 }),
    'FieldValueForbidden spec.health.checks[0].timeoutSeconds: Forbidden: timeoutSeconds is only allowed for Script checks',
  ],
  [
    'a Script timeout of 0',
    check({ type: 'Script', command: ['true'], timeoutSeconds: 0 }),
    'FieldValueInvalid spec.health.checks[0].timeoutSeconds: Invalid value: 0: spec.health.checks[0].timeoutSeconds in body should be greater than or equal to 1',
  ],
  [
    'a Script timeout longer than its period',
    check({ type: 'Script', command: ['true'], timeoutSeconds: 30, periodSeconds: 20 }),
    'FieldValueInvalid spec.health.checks[0].timeoutSeconds: Invalid value: timeoutSeconds must not be longer than periodSeconds',
  ],
  [
    'a Script timeout longer than the default period',
    check({ type: 'Script', command: ['true'], timeoutSeconds: 11 }),
    'FieldValueInvalid spec.health.checks[0].timeoutSeconds: Invalid value: timeoutSeconds must not be longer than periodSeconds',
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
    'FieldValueInvalid <nil>: Invalid value: "": Checked value must be of type integer (default format) in spec.failurePolicy.minSample',
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

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const NOW = '2025-05-01T10:00:00Z';
const ready = (status: string) => ({
  type: 'Ready',
  status,
  reason: 'RolloutProgressing',
  message: 'batch 1 of 3',
  lastTransitionTime: NOW,
});

/**
 * ImageRollout specs, and statuses written through the status subresource, with the errors the
 * API server answers (none: admitted).
 */
export const rolloutValidationCases: Array<
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
    'FieldValueNotSupported status.phase: Unsupported value: "Done": supported values: "Pending", "Progressing", "WaitingForApproval", "WaitingForWindow", "Paused", "Frozen", "RollingBack", "RolledBack", "Succeeded", "Superseded", "Failed"',
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
    'FieldValueTypeInvalid status.conditions[0].lastTransitionTime: Invalid value: "yesterday": conditions[0].lastTransitionTime in body must be of type date-time: "yesterday"',
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

/** ImageRollout updates (spec before, fields changed) and the errors the transition rules give. */
export const rolloutTransitionCases: Array<
  [string, Record<string, unknown>, Record<string, unknown>, ...string[]]
> = [
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

/** FleetFreeze specs and the errors the API server answers (none: admitted). */
export const freezeValidationCases: Array<[string, Record<string, unknown>, ...string[]]> = [
  ['a reason alone (everything, from now on)', {}],
  [
    'no reason',
    { reason: undefined },
    'FieldValueRequired spec.reason: Required value',
    RULES_SKIPPED,
  ],
  [
    'a window with start and end',
    { window: { start: '2026-12-20T00:00:00Z', end: '2027-01-04T00:00:00+01:00' } },
  ],
  ['a window with an end only', { window: { end: '2027-01-04T00:00:00Z' } }],
  [
    'a scope of policies and rollout labels',
    {
      scope: {
        policies: ['edge-app'],
        selector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['prod'] }] },
      },
    },
  ],
  [
    'an empty reason',
    { reason: '' },
    'FieldValueInvalid spec.reason: Invalid value: "": spec.reason in body should be at least 1 chars long',
  ],
  [
    'an end before the start',
    { window: { start: '2026-12-20T00:00:00Z', end: '2026-12-20T00:00:00+01:00' } },
    'FieldValueInvalid spec.window.end: Invalid value: end must be after start',
  ],
  [
    'an empty window',
    { window: {} },
    'FieldValueInvalid spec.window: Invalid value: a window needs start, end or both',
  ],
  [
    'a start that is no time',
    { window: { start: 'Christmas' } },
    'FieldValueTypeInvalid spec.window.start: Invalid value: "Christmas": spec.window.start in body must be of type date-time: "Christmas"',
    RULES_SKIPPED,
  ],
  [
    'In without values in the scope selector',
    { scope: { selector: { matchExpressions: [{ key: 'tier', operator: 'In' }] } } },
    "FieldValueRequired spec.scope.selector.matchExpressions[0].values: Required value: values must be specified when `operator` is 'In' or 'NotIn'",
  ],
];
