import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  type BatchStatus,
  type Condition,
  type ImagePolicy,
  type ImageRollout,
  type ImageRolloutStatus,
  ROLLOUT_PHASES,
} from '../../src/api/types.js';
import { RolloutMetrics } from '../../src/controller/rollout-metrics.js';

const NOW = new Date('2026-03-01T12:00:00Z');

function rollout(name: string, status: ImageRolloutStatus, spec: object = {}): ImageRollout {
  return {
    apiVersion: 'fleet.iotistic.io/v1alpha1',
    kind: 'ImageRollout',
    metadata: { name, namespace: 'shop' },
    spec: { policyRef: { name: 'web' }, image: 'ghcr.io/acme/web', tag: '1.2.3', ...spec },
    status,
  };
}

const policy: ImagePolicy = {
  apiVersion: 'fleet.iotistic.io/v1alpha1',
  kind: 'ImagePolicy',
  metadata: { name: 'web', namespace: 'shop' },
  spec: {
    image: 'ghcr.io/acme/*',
    selector: { fleets: ['edge'] },
    health: { progressDeadline: '30m', soakTime: '5m' },
  },
};

function degraded(reason: string, status: 'True' | 'False' = 'True'): Condition {
  return { type: 'Degraded', status, reason, message: '', lastTransitionTime: NOW.toISOString() };
}

function batch(n: number, counts: Partial<BatchStatus>): BatchStatus {
  return {
    ...{ batch: n, percent: n * 50, devices: 0, updated: 0, healthy: 0 },
    ...{ failed: 0, offline: 0, pending: 0 },
    ...counts,
  };
}

function setup(rollouts: ImageRollout[]) {
  const registry = new Registry();
  const metrics = new RolloutMetrics(registry, {
    rollouts: () => rollouts,
    policy: (namespace, name) => (namespace === 'shop' && name === 'web' ? policy : undefined),
    now: () => NOW,
  });
  /** The value of one series, undefined when absent. */
  const value = async (metric: string, labels: Record<string, string>) => {
    const json = await registry.getSingleMetric(`fleet_rollout_${metric}`)?.get();
    const found = json?.values.find((v) =>
      Object.entries(labels).every(([key, wanted]) => String(v.labels[key]) === wanted),
    );
    return found?.value;
  };
  /** Every series of one metric, as `labels → value`, for exact comparisons. */
  const series = async (metric: string) => {
    const json = await registry.getSingleMetric(`fleet_rollout_${metric}`)?.get();
    return (json?.values ?? []).map(
      (v): Record<string, string | number> => ({ ...v.labels, value: v.value }),
    );
  };
  return { metrics, value, series };
}

const R = { namespace: 'shop', policy: 'web' };

describe('rollout gauges, read from the cached rollouts at scrape time', () => {
  const progressing = rollout('web-1', {
    phase: 'Progressing',
    currentBatch: 1,
    totalBatches: 2,
    devices: 10,
    updated: 4,
    healthy: 3,
    failed: 1,
    startedAt: '2026-03-01T11:50:00Z',
    batches: [
      batch(1, {
        devices: 5,
        updated: 4,
        healthy: 3,
        failed: 1,
        startedAt: '2026-03-01T11:55:00Z',
      }),
      batch(2, { devices: 5, pending: 5 }),
    ],
    conditions: [degraded('WithinFailureBudget', 'False')],
  });

  it('exports phase (one series per phase), batches and devices per rollout and per batch', async () => {
    const { value, series } = setup([progressing]);
    const phases = await series('rollout_phase');
    expect(phases.map((s) => s.phase)).toEqual(ROLLOUT_PHASES);
    expect(phases.filter((s) => s.value === 1)).toEqual([
      { ...R, name: 'web-1', phase: 'Progressing', value: 1 },
    ]);
    expect(
      await value('rollout_info', { name: 'web-1', image: 'ghcr.io/acme/web', tag: '1.2.3' }),
    ).toBe(1);
    expect(await value('rollout_current_batch', { name: 'web-1' })).toBe(1);
    expect(await value('rollout_batches', { name: 'web-1' })).toBe(2);
    const totals = Object.fromEntries(
      (await series('rollout_status_devices')).map((s) => [s.state, s.value]),
    );
    expect(totals).toEqual({
      selected: 10,
      updated: 4,
      healthy: 3,
      failed: 1,
      offline: 0,
      pending: 5,
    });
    expect(await value('rollout_batch_devices', { batch: '1', state: 'healthy' })).toBe(3);
    expect(await value('rollout_batch_devices', { batch: '2', state: 'pending' })).toBe(5);
    expect(await series('rollout_degraded')).toEqual([]);
    expect(await value('rollout_batch_transition_timestamp_seconds', { name: 'web-1' })).toBe(
      Date.parse('2026-03-01T11:55:00Z') / 1000,
    );
  });

  it.each([
    [
      'a failure-budget pause',
      'Paused',
      [degraded('FailureBudgetExceeded')],
      '11:55',
      'FailureBudgetExceeded',
    ],
    ['an invalid spec', 'Failed', [degraded('InvalidSpec')], undefined, 'InvalidSpec'],
    [
      'a reason added later (generic)',
      'Paused',
      [degraded('DeviceAPIUnavailable')],
      '11:55',
      'DeviceAPIUnavailable',
    ],
    ['a batch past deadline + soak', 'Progressing', [], '11:24', 'ProgressDeadlineExceeded'],
    ['a batch within deadline + soak', 'Progressing', [], '11:26', undefined],
    ['a manual pause', 'Paused', [degraded('WithinFailureBudget', 'False')], '11:00', undefined],
  ] as const)('degraded says why for %s', async (_, phase, conditions, startedAt, reason) => {
    const started = startedAt && `2026-03-01T${startedAt}:00Z`;
    const subject = rollout('web-2', {
      phase,
      currentBatch: started ? 1 : 0,
      batches: started ? [batch(1, { devices: 4, startedAt: started })] : [],
      conditions: [...conditions],
    });
    const { series } = setup([subject]);
    expect(await series('rollout_degraded')).toEqual(
      reason ? [{ ...R, name: 'web-2', reason, value: 1 }] : [],
    );
  });

  it('exports nothing while the cache is empty (a standby controller)', async () => {
    const { series } = setup([]);
    expect(await series('rollout_phase')).toEqual([]);
    expect(await series('rollout_status_devices')).toEqual([]);
  });
});

describe('rollout counters, from the statuses the informer hears', () => {
  const at = (phase: ImageRolloutStatus['phase'], conditions: Condition[] = []) =>
    rollout('web-3', { phase, conditions });

  it('start at 0 on the first sighting, whatever the phase (a restart counts nothing again)', async () => {
    const { metrics, value, series } = setup([]);
    metrics.observe(at('RollingBack', [degraded('FailureBudgetExceeded')]), false);
    expect(await value('rollout_rollbacks_total', { name: 'web-3' })).toBe(0);
    expect(await value('rollout_failure_budget_trips_total', { name: 'web-3' })).toBe(0);
    expect(await series('rollout_phase_transitions_total')).toEqual([]);
  });

  it('count transitions, rollbacks and budget trips; a repeat of the same status counts nothing', async () => {
    const { metrics, value } = setup([]);
    const sequence = [
      at('Progressing'),
      at('Progressing'),
      at('Paused', [degraded('FailureBudgetExceeded')]),
      at('Paused', [degraded('FailureBudgetExceeded')]),
      at('RollingBack', [degraded('FailureBudgetExceeded')]),
      at('RolledBack', [degraded('FailureBudgetExceeded')]),
    ];
    for (const status of sequence) metrics.observe(status, false);
    expect(await value('rollout_phase_transitions_total', { phase: 'Paused' })).toBe(1);
    expect(await value('rollout_phase_transitions_total', { phase: 'RollingBack' })).toBe(1);
    expect(await value('rollout_phase_transitions_total', { phase: 'RolledBack' })).toBe(1);
    expect(
      await value('rollout_phase_transitions_total', { phase: 'Progressing' }),
    ).toBeUndefined();
    expect(await value('rollout_rollbacks_total', { name: 'web-3' })).toBe(1);
    expect(await value('rollout_failure_budget_trips_total', { name: 'web-3' })).toBe(1);
  });

  it('forget a deleted rollout, and everything on reset counts from a fresh sighting', async () => {
    const { metrics, value, series } = setup([]);
    metrics.observe(at('Progressing'), false);
    metrics.observe(at('RollingBack'), false);
    metrics.observe(at('RollingBack'), true);
    expect(await series('rollout_rollbacks_total')).toEqual([]);
    expect(await series('rollout_phase_transitions_total')).toEqual([]);
    metrics.observe(at('Progressing'), false);
    metrics.reset();
    metrics.observe(at('RollingBack'), false);
    expect(await value('rollout_rollbacks_total', { name: 'web-3' })).toBe(0);
  });
});
