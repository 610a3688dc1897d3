import { describe, expect, it } from 'vitest';
import type { ImagePolicySpec, ImageRolloutSpec } from '../../src/api/types.js';
import { validatePolicySpec, validateRolloutSpec } from '../../src/planner/validate.js';

const policySpec: ImagePolicySpec = {
  image: 'ghcr.io/acme/*',
  tags: { semver: '>=1.2.0 <2' },
  selector: { fleets: ['f1'] },
  strategy: {
    batches: [5, 25, 100],
    interval: '10m',
    maintenanceWindows: [{ schedule: '0 22 * * *', duration: '4h', timeZone: 'Europe/Berlin' }],
  },
  health: { soakTime: '5m', progressDeadline: '30m', checks: [{ type: 'HTTP', port: 80 }] },
  failurePolicy: { maxFailurePercent: 5, minSample: 10, action: 'Rollback' },
};

describe('validatePolicySpec', () => {
  it('accepts a complete valid spec', () => {
    expect(validatePolicySpec(policySpec)).toEqual([]);
  });

  it.each([
    [{ offlineAfter: '29m59s' }],
    [{ progressDeadline: '10m1s' }],
    [{ progressDeadline: '2h', offlineAfter: '1h' }],
    [{}],
  ])('accepts offlineAfter shorter than the progress deadline: %j', (health) => {
    expect(validatePolicySpec({ ...policySpec, health })).toEqual([]);
  });

  it('judges offlineAfter against the progress deadline only when both are valid', () => {
    const errors = validatePolicySpec({ ...policySpec, health: { progressDeadline: '0s' } });
    expect(errors.map((error) => error.field)).toEqual(['spec.health.progressDeadline']);
  });

  it.each<[string, Partial<ImagePolicySpec>, string, RegExp]>([
    ['empty image', { image: '' }, 'spec.image', /empty/],
    ['bad semver', { tags: { semver: '>=banana' } }, 'spec.tags.semver', /invalid semver range/],
    ['empty tag pattern', { tags: { pattern: '' } }, 'spec.tags.pattern', /empty/],
    ['empty selector', { selector: {} }, 'spec.selector', /at least one of/],
    ['empty fleets', { selector: { fleets: [] } }, 'spec.selector.fleets', /empty/],
    [
      'In without values',
      { selector: { matchExpressions: [{ key: 'a', operator: 'In' }] } },
      'spec.selector.matchExpressions[0].values',
      /must not be empty/,
    ],
    [
      'Exists with values',
      { selector: { matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] } },
      'spec.selector.matchExpressions[0].values',
      /must be empty/,
    ],
    [
      'batches not ending at 100',
      { strategy: { batches: [10, 50] } },
      'spec.strategy.batches',
      /ending at 100/,
    ],
    [
      'batches not increasing',
      { strategy: { batches: [50, 10, 100] } },
      'spec.strategy.batches',
      /increasing/,
    ],
    [
      'batch of 0 percent',
      { strategy: { batches: [0, 100] } },
      'spec.strategy.batches',
      /\(0, 100\]/,
    ],
    ['no batches', { strategy: { batches: [] } }, 'spec.strategy.batches', /ending at 100/],
    [
      'bad interval',
      { strategy: { interval: '10 minutes' } },
      'spec.strategy.interval',
      /invalid duration/,
    ],
    [
      'negative interval',
      { strategy: { interval: '-1m' } },
      'spec.strategy.interval',
      /at least 0/,
    ],
    [
      'bad cron',
      { strategy: { maintenanceWindows: [{ schedule: 'every night', duration: '1h' }] } },
      'spec.strategy.maintenanceWindows[0]',
      /invalid cron/,
    ],
    [
      'bad time zone',
      {
        strategy: {
          maintenanceWindows: [
            { schedule: '0 1 * * *', duration: '1h', timeZone: 'Europe/Atlantis' },
          ],
        },
      },
      'spec.strategy.maintenanceWindows[0]',
      /time zone/,
    ],
    [
      'zero progress deadline',
      { health: { progressDeadline: '0s' } },
      'spec.health.progressDeadline',
      /positive/,
    ],
    ['bad soak time', { health: { soakTime: '5' } }, 'spec.health.soakTime', /missing unit/],
    [
      'offlineAfter as long as the progress deadline',
      { health: { progressDeadline: '30m', offlineAfter: '30m' } },
      'spec.health.offlineAfter',
      /^must be shorter than progressDeadline \("30m"\), got "30m"$/,
    ],
    [
      'offlineAfter longer than the default progress deadline',
      { health: { offlineAfter: '1h' } },
      'spec.health.offlineAfter',
      /^must be shorter than progressDeadline \("30m" by default\), got "1h"$/,
    ],
    [
      'a progress deadline not longer than the default offlineAfter',
      { health: { progressDeadline: '10m' } },
      'spec.health.progressDeadline',
      /^must be longer than offlineAfter \("10m" by default\), got "10m"$/,
    ],
    [
      'HTTP check without port',
      { health: { checks: [{ type: 'HTTP', path: '/' }] } },
      'spec.health.checks[0].port',
      /required for HTTP/,
    ],
    [
      'Script check without command',
      { health: { checks: [{ type: 'Script' }] } },
      'spec.health.checks[0].command',
      /need a command whose first item, the program, is not empty/,
    ],
    [
      'Script check with an empty program',
      { health: { checks: [{ type: 'Script', command: [''] }] } },
      'spec.health.checks[0].command',
      /the program, is not empty/,
    ],
    [
      'Script timeout longer than the default period',
      { health: { checks: [{ type: 'Script', command: ['true'], timeoutSeconds: 11 }] } },
      'spec.health.checks[0].timeoutSeconds',
      /^must not be longer than periodSeconds \(10\)$/,
    ],
    [
      'failure percent above 100',
      { failurePolicy: { maxFailurePercent: 150 } },
      'spec.failurePolicy.maxFailurePercent',
      /0 to 100/,
    ],
    [
      'min sample of 0',
      { failurePolicy: { minSample: 0 } },
      'spec.failurePolicy.minSample',
      /at least 1/,
    ],
    [
      'fractional min sample',
      { failurePolicy: { minSample: 2.5 } },
      'spec.failurePolicy.minSample',
      /integer/,
    ],
  ])('reports %s', (_, change, field, message) => {
    const errors = validatePolicySpec({ ...policySpec, ...change });
    expect(errors).toHaveLength(1);
    expect(errors[0]?.field).toBe(field);
    expect(errors[0]?.message).toMatch(message);
  });
});

describe('validateRolloutSpec', () => {
  const spec: ImageRolloutSpec = {
    policyRef: { name: 'web' },
    image: 'docker.io/library/nginx',
    tag: '1.27',
    digest: `sha256:${'a'.repeat(64)}`,
  };

  it('accepts a rollout without snapshot fields', () => {
    expect(validateRolloutSpec(spec)).toEqual([]);
  });

  it.each<[string, Partial<ImageRolloutSpec>, string, RegExp]>([
    ['missing policy name', { policyRef: { name: '' } }, 'spec.policyRef.name', /empty/],
    [
      'unnormalized image',
      { image: 'nginx' },
      'spec.image',
      /normalized \("docker.io\/library\/nginx"\)/,
    ],
    ['bad tag', { tag: 'not a tag' }, 'spec.image', /./],
    ['bad digest', { digest: 'sha256:xyz' }, 'spec.image', /digest/],
    ['negative approvals', { approvedBatches: -1 }, 'spec.approvedBatches', /at least 0/],
    [
      'snapshot with bad batches',
      { strategy: { batches: [10, 50] } },
      'spec.strategy.batches',
      /ending at 100/,
    ],
    ['snapshot with empty selector', { selector: {} }, 'spec.selector', /at least one of/],
    [
      'snapshot with offlineAfter longer than the progress deadline',
      { health: { offlineAfter: '2h', progressDeadline: '1h' } },
      'spec.health.offlineAfter',
      /must be shorter than progressDeadline \("1h"\)/,
    ],
  ])('reports %s', (_, change, field, message) => {
    const errors = validateRolloutSpec({ ...spec, ...change });
    expect(errors).toHaveLength(1);
    expect(errors[0]?.field).toBe(field);
    expect(errors[0]?.message).toMatch(message);
  });
});
