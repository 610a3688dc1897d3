import { describe, expect, it } from 'vitest';
import type { ImagePolicySpec, ImageRolloutSpec } from '../../src/api/types.js';
import { type RolloutSettings, resolveRolloutSettings } from '../../src/planner/settings.js';
import { policy, rollout } from './fixtures.js';

const windows = [{ schedule: '0 22 * * *', duration: '4h' }];

describe('resolveRolloutSettings', () => {
  it.each<[string, Partial<ImageRolloutSpec>, Partial<ImagePolicySpec>, Partial<RolloutSettings>]>([
    [
      'defaults for an empty policy',
      {},
      { strategy: undefined },
      {
        type: 'Staged',
        batches: [10, 50, 100],
        intervalMs: 600_000,
        maintenanceWindows: [],
        onNewImage: 'Supersede',
        soakMs: 300_000,
        progressDeadlineMs: 1_800_000,
        offlineAfterMs: 600_000,
        maxFailurePercent: 10,
        minSample: 3,
        failureAction: 'Pause',
      },
    ],
    [
      'blocks from the policy',
      {},
      {
        strategy: { interval: '1m', maintenanceWindows: windows },
        health: { soakTime: '1h' },
        failurePolicy: { action: 'Rollback' },
      },
      {
        intervalMs: 60_000,
        maintenanceWindows: windows,
        soakMs: 3_600_000,
        failureAction: 'Rollback',
        minSample: 3,
      },
    ],
    [
      'a rollout block replaces the policy block whole',
      { strategy: { type: 'Manual' } },
      { strategy: { interval: '1m', maintenanceWindows: windows } },
      { type: 'Manual', intervalMs: 600_000, maintenanceWindows: [] },
    ],
    [
      'the rollout selector wins',
      { selector: { devices: ['a'] } },
      {},
      { selector: { devices: ['a'] } },
    ],
    [
      'the policy selector otherwise',
      {},
      { selector: { matchLabels: { env: 'prod' } } },
      { selector: { matchLabels: { env: 'prod' } } },
    ],
    ['AllAtOnce is one batch', { strategy: { type: 'AllAtOnce' } }, {}, { batches: [100] }],
  ])('%s', (_, spec, policySpec, expected) => {
    const resolved = resolveRolloutSettings(rollout(spec), policy(policySpec));
    expect(resolved).toEqual({ settings: expect.objectContaining(expected) });
  });

  it.each<[string, Partial<ImageRolloutSpec>, boolean, string]>([
    ['an invalid rollout wins over a missing policy', { tag: '' }, false, 'InvalidSpec'],
    ['a missing policy', {}, false, 'PolicyNotFound'],
  ])('%s', (_, spec, withPolicy, reason) => {
    const resolved = resolveRolloutSettings(rollout(spec), withPolicy ? policy() : undefined);
    expect(resolved).toEqual({ problem: { reason, message: expect.any(String) } });
  });
});
