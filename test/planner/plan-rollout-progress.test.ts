import { describe, expect, it } from 'vitest';
import type { ImagePolicySpec, ImageRolloutSpec } from '../../src/api/types.js';
import type { RolloutPlan } from '../../src/planner/types.js';
import { allHealthy, at, type Behaviour, settle, step, world } from './fixtures.js';

/** The effects of successive passes, one per pass, until the rollout settles. */
function effectsUntilDone(members: number, spec: Partial<ImageRolloutSpec>) {
  const w = world(members, spec);
  const effects: string[] = [];
  const log: string[] = [];
  for (let pass = 0; pass < 20 && w.rollout.status?.phase !== 'Succeeded'; pass++) {
    const plan = step(w, at(pass));
    if (plan.effect)
      effects.push(
        plan.effect.type === 'StartBatch' ? `StartBatch ${plan.effect.batch}` : plan.effect.type,
      );
    log.push(...plan.log.map((entry) => entry.type));
  }
  return { w, effects, log };
}

describe('planRollout: the happy path through every batch', () => {
  it.each<[string, number, Partial<ImageRolloutSpec>, string[], number[]]>([
    [
      'Staged 10/50/100',
      1000,
      {},
      ['CreateMembership', 'StartBatch 1', 'StartBatch 2', 'StartBatch 3', 'Fold'],
      [100, 400, 500],
    ],
    [
      'AllAtOnce',
      1000,
      { strategy: { type: 'AllAtOnce', batches: [10, 50, 100] } },
      ['CreateMembership', 'StartBatch 1', 'Fold'],
      [1000],
    ],
    [
      'custom batches',
      200,
      { strategy: { batches: [1, 5, 25, 100], interval: '0s' } },
      ['CreateMembership', 'StartBatch 1', 'StartBatch 2', 'StartBatch 3', 'StartBatch 4', 'Fold'],
      [2, 8, 40, 150],
    ],
    [
      'a fleet smaller than the batch count',
      2,
      {},
      ['CreateMembership', 'StartBatch 1', 'StartBatch 2', 'Fold'],
      [1, 1],
    ],
    ['no device selected', 0, {}, ['CreateMembership', 'Fold'], []],
  ])('%s', (_, members, spec, effects, sizes) => {
    const run = effectsUntilDone(members, spec);
    expect(run.effects).toEqual(effects);
    const status = run.w.rollout.status;
    expect(status?.phase).toBe('Succeeded');
    expect(status?.batches?.map((b) => b.devices)).toEqual(sizes);
    expect(status?.healthy).toBe(members);
    expect(status?.currentBatch).toBe(sizes.length);
    expect(status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'True',
      reason: 'Succeeded',
    });
    expect(status?.completedAt).toBeDefined();
  });

  it('writes the event log of every transition, in order', () => {
    const { log } = effectsUntilDone(100, {});
    expect(log).toEqual([
      'image.rollout_started',
      'image.device_scheduled',
      'image.batch_completed',
      'image.device_scheduled',
      'image.batch_completed',
      'image.device_scheduled',
      'image.batch_completed',
      'image.rollout_succeeded',
    ]);
  });

  it('logs each batch start with its device count and percentage', () => {
    const w = world(1000);
    step(w, at(0));
    step(w, at(0));
    const plan = step(w, at(1));
    expect(plan.effect).toEqual({ type: 'StartBatch', batch: 2, devices: 400 });
    expect(plan.log).toContainEqual({
      type: 'image.device_scheduled',
      subject: 'prod/web-nginx-1-27',
      payload: { reason: 'BatchStarted', batch: 2, devices: 400, percent: 50 },
    });
    expect(plan.events).toContainEqual(
      expect.objectContaining({ type: 'Normal', reason: 'BatchStarted', action: 'StartBatch' }),
    );
  });
});

interface Row {
  spec?: Partial<ImageRolloutSpec>;
  policySpec?: Partial<ImagePolicySpec>;
  behaviour?: Behaviour;
  /** Minutes at which the rollout is settled first. */
  settleAt: number[];
  /** Minute of the pass under test. */
  checkAt: number;
  effect?: RolloutPlan['effect'];
  phase: string;
  reason: string;
  currentBatch: number;
  /** Minutes; undefined when nothing but a watch event can change anything. */
  requeueAt?: number;
  nextBatchAt?: number;
}

const batchOne =
  (counts: ReturnType<Behaviour>): Behaviour =>
  (batch, devices) =>
    batch === 1 ? counts : { healthy: devices };
const nightly = { schedule: '0 22 * * *', duration: '4h' }; // 22:00 to 02:00 UTC; T0 is 12:00 UTC

describe('planRollout: waiting, soaking, deadlines and gates (100 devices: batches of 10/40/50)', () => {
  it.each<[string, Row]>([
    [
      'devices still updating: wait, look again when silent ones count as offline',
      {
        behaviour: batchOne({ updating: 10 }),
        settleAt: [0],
        checkAt: 1,
        phase: 'Progressing',
        reason: 'BatchInProgress',
        currentBatch: 1,
        requeueAt: 10,
      },
    ],
    [
      'devices soaking: look again when the last soak ends',
      {
        behaviour: batchOne({ healthy: 4, soaking: 6, soakingUntil: at(4) }),
        settleAt: [0],
        checkAt: 1,
        phase: 'Progressing',
        reason: 'BatchInProgress',
        currentBatch: 1,
        requeueAt: 4,
      },
    ],
    [
      'after the offline check: look again at the progress deadline',
      {
        behaviour: batchOne({ updating: 10 }),
        settleAt: [0],
        checkAt: 12,
        phase: 'Progressing',
        reason: 'BatchInProgress',
        currentBatch: 1,
        requeueAt: 30,
      },
    ],
    [
      'only offline devices left: the batch waits for them until the progress deadline',
      {
        behaviour: batchOne({ healthy: 8, offline: 2 }),
        settleAt: [0],
        checkAt: 12,
        phase: 'Progressing',
        reason: 'BatchWaitingOnOfflineDevices',
        currentBatch: 1,
        requeueAt: 30,
      },
    ],
    [
      'offline devices stop blocking at the progress deadline',
      {
        behaviour: batchOne({ healthy: 8, offline: 2 }),
        settleAt: [0],
        checkAt: 30,
        effect: { type: 'StartBatch', batch: 2, devices: 40 },
        phase: 'Progressing',
        reason: 'BatchInProgress',
        currentBatch: 2,
        requeueAt: 30,
      },
    ],
    [
      'devices silent on the new image wait as offline until the progress deadline',
      {
        behaviour: batchOne({ healthy: 8, offline: 2, offlineOnNewImage: 2 }),
        settleAt: [0],
        checkAt: 12,
        phase: 'Progressing',
        reason: 'BatchWaitingOnOfflineDevices',
        currentBatch: 1,
        requeueAt: 30,
      },
    ],
    [
      'devices silent on the new image fail at the deadline and spend the budget',
      {
        behaviour: batchOne({ healthy: 8, offline: 2, offlineOnNewImage: 2 }),
        settleAt: [0],
        checkAt: 30,
        phase: 'Paused',
        reason: 'FailureBudgetExceeded',
        currentBatch: 1,
      },
    ],
    [
      'devices silent since they were scheduled do not fail at the deadline',
      {
        behaviour: batchOne({ healthy: 8, offline: 2, offlineOnNewImage: 0 }),
        settleAt: [0],
        checkAt: 30,
        effect: { type: 'StartBatch', batch: 2, devices: 40 },
        phase: 'Progressing',
        reason: 'BatchInProgress',
        currentBatch: 2,
        requeueAt: 30,
      },
    ],
    [
      'a device silent past the deadline fails, within the 10% budget',
      {
        behaviour: batchOne({ healthy: 9, scheduled: 1 }),
        settleAt: [0],
        checkAt: 30,
        effect: { type: 'StartBatch', batch: 2, devices: 40 },
        phase: 'Progressing',
        reason: 'BatchInProgress',
        currentBatch: 2,
        requeueAt: 30,
      },
    ],
    [
      'devices updating past the deadline fail and spend the budget',
      {
        behaviour: batchOne({ healthy: 8, updating: 2 }),
        settleAt: [0],
        checkAt: 30,
        phase: 'Paused',
        reason: 'FailureBudgetExceeded',
        currentBatch: 1,
      },
    ],
    [
      'the batch interval holds the next batch',
      {
        spec: { strategy: { interval: '10m' } },
        settleAt: [0],
        checkAt: 5,
        phase: 'Progressing',
        reason: 'WaitingForInterval',
        currentBatch: 1,
        requeueAt: 10,
        nextBatchAt: 10,
      },
    ],
    [
      'the next batch starts when the interval ends',
      {
        spec: { strategy: { interval: '10m' } },
        settleAt: [0],
        checkAt: 10,
        effect: { type: 'StartBatch', batch: 2, devices: 40 },
        phase: 'Progressing',
        reason: 'BatchInProgress',
        currentBatch: 2,
        requeueAt: 10,
      },
    ],
    [
      'Staged: approving (promoting) batch 2 skips the interval',
      {
        spec: { strategy: { interval: '1h' }, approvedBatches: 2 },
        settleAt: [0],
        checkAt: 1,
        phase: 'Progressing',
        reason: 'WaitingForInterval',
        currentBatch: 2,
        requeueAt: 60,
        nextBatchAt: 60,
      },
    ],
    [
      'Manual: batch 1 waits for approval',
      {
        spec: { strategy: { type: 'Manual' } },
        settleAt: [0],
        checkAt: 1,
        phase: 'WaitingForApproval',
        reason: 'WaitingForApproval',
        currentBatch: 0,
      },
    ],
    [
      'Manual: approved batch 1 runs, batch 2 waits',
      {
        spec: { strategy: { type: 'Manual' }, approvedBatches: 1 },
        settleAt: [0],
        checkAt: 1,
        phase: 'WaitingForApproval',
        reason: 'WaitingForApproval',
        currentBatch: 1,
      },
    ],
    [
      'Manual: an approval still waits for the interval',
      {
        spec: { strategy: { type: 'Manual', interval: '10m' }, approvedBatches: 2 },
        settleAt: [0],
        checkAt: 1,
        phase: 'Progressing',
        reason: 'WaitingForInterval',
        currentBatch: 1,
        requeueAt: 10,
        nextBatchAt: 10,
      },
    ],
    [
      'outside every window: wait for the next opening',
      {
        spec: { strategy: { maintenanceWindows: [nightly] } },
        settleAt: [0],
        checkAt: 1,
        phase: 'WaitingForWindow',
        reason: 'WaitingForWindow',
        currentBatch: 0,
        requeueAt: 600,
        nextBatchAt: 600,
      },
    ],
    [
      'inside a window that crossed midnight: start',
      {
        spec: { strategy: { maintenanceWindows: [nightly] } },
        settleAt: [0],
        checkAt: 810,
        effect: { type: 'StartBatch', batch: 1, devices: 10 },
        phase: 'Progressing',
        reason: 'BatchInProgress',
        currentBatch: 1,
        requeueAt: 810,
      },
    ],
    [
      'just after the window closed: wait for the next night',
      {
        spec: { strategy: { maintenanceWindows: [nightly] } },
        settleAt: [0],
        checkAt: 840,
        phase: 'WaitingForWindow',
        reason: 'WaitingForWindow',
        currentBatch: 0,
        requeueAt: 2040,
        nextBatchAt: 2040,
      },
    ],
    [
      'a window in New York time opens at 22:00 EDT (02:00 UTC)',
      {
        spec: { strategy: { maintenanceWindows: [{ ...nightly, timeZone: 'America/New_York' }] } },
        settleAt: [0],
        checkAt: 1,
        phase: 'WaitingForWindow',
        reason: 'WaitingForWindow',
        currentBatch: 0,
        requeueAt: 840,
        nextBatchAt: 840,
      },
    ],
    [
      'windows from the policy apply when the rollout has none',
      {
        policySpec: { strategy: { maintenanceWindows: [nightly] } },
        settleAt: [0],
        checkAt: 1,
        phase: 'WaitingForWindow',
        reason: 'WaitingForWindow',
        currentBatch: 0,
        requeueAt: 600,
        nextBatchAt: 600,
      },
    ],
    [
      'interval ending inside the window: wait for the interval',
      {
        spec: { strategy: { interval: '1h', maintenanceWindows: [nightly] } },
        settleAt: [0, 600],
        checkAt: 630,
        phase: 'Progressing',
        reason: 'WaitingForInterval',
        currentBatch: 1,
        requeueAt: 660,
        nextBatchAt: 660,
      },
    ],
    [
      'interval ending after the window: the next batch waits for the next window',
      {
        spec: {
          strategy: {
            interval: '90m',
            maintenanceWindows: [{ schedule: '0 22 * * *', duration: '1h' }],
          },
        },
        settleAt: [0, 600],
        checkAt: 610,
        phase: 'Progressing',
        reason: 'WaitingForInterval',
        currentBatch: 1,
        requeueAt: 2040,
        nextBatchAt: 2040,
      },
    ],
    [
      'interval over, window closed: wait for the window',
      {
        spec: {
          strategy: {
            interval: '90m',
            maintenanceWindows: [{ schedule: '0 22 * * *', duration: '1h' }],
          },
        },
        settleAt: [0, 600],
        checkAt: 700,
        phase: 'WaitingForWindow',
        reason: 'WaitingForWindow',
        currentBatch: 1,
        requeueAt: 2040,
        nextBatchAt: 2040,
      },
    ],
  ])('%s', (_, row) => {
    const w = world(100, row.spec, row.behaviour ?? allHealthy, row.policySpec);
    for (const minute of row.settleAt) settle(w, at(minute));
    const plan = step(w, at(row.checkAt));
    expect(plan.effect).toEqual(row.effect);
    expect(plan.status.phase).toBe(row.phase);
    expect(plan.status.conditions?.find((c) => c.type === 'Progressing')?.reason).toBe(row.reason);
    expect(plan.status.currentBatch).toBe(row.currentBatch);
    expect(plan.requeueAt).toEqual(row.requeueAt === undefined ? undefined : at(row.requeueAt));
    const nextBatchAt =
      row.nextBatchAt === undefined
        ? undefined
        : at(row.nextBatchAt).toISOString().replace('.000Z', 'Z');
    expect(plan.status.nextBatchAt).toBe(nextBatchAt);
  });
});

describe('planRollout: maintenance windows across a DST change (Europe/Berlin)', () => {
  const berlin = (schedule: string, duration: string) => ({
    strategy: {
      interval: '0s',
      maintenanceWindows: [{ schedule, duration, timeZone: 'Europe/Berlin' }],
    },
  });

  it.each<[string, Partial<ImageRolloutSpec>, string, string | undefined]>([
    // 2025-03-30 02:00 CET jumps to 03:00 CEST: a 02:30 start does not exist that night.
    [
      'spring forward: the start moves past the gap',
      berlin('30 2 * * *', '1h'),
      '2025-03-29T12:00:00Z',
      '2025-03-30T01:00:00Z',
    ],
    [
      'spring forward: next day back at 02:30 CEST',
      berlin('30 2 * * *', '1h'),
      '2025-03-30T12:00:00Z',
      '2025-03-31T00:30:00Z',
    ],
    // 2025-10-26 03:00 CEST falls back to 02:00 CET: 02:30 happens twice, the window opens once.
    [
      'fall back: opens at the first 02:30 (CEST)',
      berlin('30 2 * * *', '30m'),
      '2025-10-25T12:00:00Z',
      '2025-10-26T00:30:00Z',
    ],
    [
      'fall back: the repeated 02:30 (CET) does not reopen it',
      berlin('30 2 * * *', '30m'),
      '2025-10-26T01:10:00Z',
      '2025-10-27T01:30:00Z',
    ],
    [
      'fall back: inside the window there is nothing to wait for',
      berlin('30 2 * * *', '30m'),
      '2025-10-26T00:45:00Z',
      undefined,
    ],
  ])('%s', (_, spec, now, nextBatchAt) => {
    const w = world(100, spec);
    const plan = settle(w, new Date(now));
    expect(plan.status.nextBatchAt).toBe(nextBatchAt);
    if (nextBatchAt) {
      expect(plan.status.phase).toBe('WaitingForWindow');
      expect(plan.requeueAt).toEqual(new Date(nextBatchAt));
    } else {
      expect(plan.status.currentBatch).toBe(3);
    }
  });
});
