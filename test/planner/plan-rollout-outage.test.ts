import { describe, expect, it } from 'vitest';
import type { ImageRollout } from '../../src/api/types.js';
import type { DeviceApiAvailability } from '../../src/planner/outages.js';
import { at, type Behaviour, settle, step, world } from './fixtures.js';

const condition = (rollout: ImageRollout, type: string) =>
  rollout.status?.conditions?.find((c) => c.type === type);
const down = (from: number, to: number) => ({ from: at(from), to: at(to) });
const up = (outages = [] as Array<{ from: Date; to: Date }>): DeviceApiAvailability => ({
  available: true,
  outages,
});
const health = { progressDeadline: '30m', offlineAfter: '10m', soakTime: '0s' };
/** Nobody reports: every device of a started batch stays scheduled. */
const silent: Behaviour = () => ({});

/** A 10-device rollout in one batch, started at minute 0, whose devices do as told. */
function started(behaviour: Behaviour) {
  const w = world(10, { strategy: { type: 'AllAtOnce' }, health }, behaviour);
  settle(w, at(0));
  expect(w.target?.startedBatches).toBe(1);
  return w;
}

describe('planRollout: device-API outages do not spend progress deadlines', () => {
  it('fails silent devices at the deadline when there was no outage', () => {
    const w = started(silent);
    w.deviceApi = up();
    const plan = step(w, at(31));
    expect(plan.status.batches?.[0]).toMatchObject({ failed: 10 });
    expect(plan.status.phase).toBe('Paused');
  });

  it('an outage inside a batch moves its deadline on by the outage time', () => {
    const w = started(silent);
    w.deviceApi = up([down(10, 25)]);
    const before = step(w, at(31));
    expect(before.status.batches?.[0]).toMatchObject({ failed: 0, pending: 10 });
    expect(before.status.phase).toBe('Progressing');
    expect(before.requeueAt).toEqual(at(45));
    const after = step(w, at(45));
    expect(after.status.batches?.[0]).toMatchObject({ failed: 10 });
  });

  it('judges the deadline no later than the device API was last known to take reports', () => {
    const w = started(silent);
    w.deviceApi = { available: true, lastBeatAt: at(29.99), outages: [] };
    const plan = step(w, at(30.01));
    expect(plan.status.batches?.[0]).toMatchObject({ failed: 0 });
    // looks again soon: the next heartbeat shows whether the device API was up at the deadline
    expect(plan.requeueAt).toEqual(new Date(at(30.01).getTime() + 1000));
    w.deviceApi = { available: true, lastBeatAt: at(30.02), outages: [] };
    expect(step(w, at(30.03)).status.batches?.[0]).toMatchObject({ failed: 10 });
  });

  it('waits on offline devices until the extended deadline', () => {
    const w = started(() => ({ healthy: 6, offline: 4 }));
    w.deviceApi = up([down(5, 15)]);
    const plan = step(w, at(20));
    expect(condition(w.rollout, 'Progressing')?.reason).toBe('BatchWaitingOnOfflineDevices');
    expect(plan.status.message).toContain(`until ${at(40).toISOString().replace('.000', '')}`);
  });
});

describe('planRollout while the device API cannot take reports', () => {
  const noReplica: DeviceApiAvailability = {
    available: false,
    cause: 'NoReplica',
    lastBeatAt: at(12),
    outages: [],
  };

  it('says so on Ready, keeps counts and phase, and judges nothing', () => {
    const w = started(() => ({ healthy: 4 }));
    const inProgress = step(w, at(5)).status;
    w.deviceApi = noReplica;
    const plan = step(w, at(40));
    expect(plan.effect).toBeUndefined();
    expect(plan.log).toEqual([]);
    expect(plan.status.batches).toEqual(inProgress.batches);
    expect(plan.status.phase).toBe('Progressing');
    expect(condition(w.rollout, 'Ready')).toMatchObject({
      status: 'False',
      reason: 'DeviceAPIUnavailable',
      message: expect.stringContaining('no replica has taken reports since 2025-06-02T12:12:00Z'),
    });
    expect(condition(w.rollout, 'Progressing')).toEqual(
      condition({ ...w.rollout, status: inProgress }, 'Progressing'),
    );
    expect(plan.status.message).toMatch(/^Waiting for the device API/);
    expect(plan.requeueAt).toEqual(new Date(at(40).getTime() + 5000));
    expect(plan.events).toEqual([
      expect.objectContaining({ type: 'Warning', reason: 'DeviceAPIUnavailable' }),
    ]);
    // the next pass of the same wait records no second Event
    expect(step(w, at(41)).events).toEqual([]);
  });

  it('names Postgres when the controller cannot reach it', () => {
    const w = started(silent);
    w.deviceApi = { available: false, cause: 'DatabaseUnreachable', outages: [] };
    const plan = step(w, at(3));
    expect(plan.status.message).toContain('Postgres is unreachable');
    expect(condition(w.rollout, 'Ready')?.reason).toBe('DeviceAPIUnavailable');
  });

  it('starts no batch, and resumes with a Normal Event once the device API is back', () => {
    const w = world(10, { health, strategy: { batches: [50, 100], interval: '1m' } });
    settle(w, at(0));
    expect(condition(w.rollout, 'Ready')?.reason).toBe('WaitingForInterval');
    w.deviceApi = noReplica;
    expect(step(w, at(2)).effect).toBeUndefined();
    expect(w.target?.startedBatches).toBe(1);
    w.deviceApi = up([down(1.5, 2.5)]);
    const resumed = step(w, at(3));
    expect(resumed.effect).toMatchObject({ type: 'StartBatch', batch: 2 });
    expect(condition(w.rollout, 'Ready')?.reason).toBe('BatchInProgress');
    expect(resumed.events.map((event) => event.reason)).toContain('DeviceAPIAvailable');
    expect(settle(w, at(4)).status.phase).toBe('Succeeded');
  });

  it('a paused rollout stays paused through an outage and records no second pause Event', () => {
    const w = world(10, { health, paused: true });
    settle(w, at(0));
    expect(w.rollout.status?.phase).toBe('Paused');
    w.deviceApi = noReplica;
    expect(step(w, at(1)).status.phase).toBe('Paused');
    w.deviceApi = up();
    const back = step(w, at(2));
    expect(back.status.phase).toBe('Paused');
    expect(back.events.map((event) => event.reason)).toEqual(['DeviceAPIAvailable']);
  });

  it('leaves a finished rollout alone', () => {
    const w = world(2, { strategy: { type: 'AllAtOnce' }, health });
    settle(w, at(0));
    settle(w, at(1));
    expect(w.rollout.status?.phase).toBe('Succeeded');
    w.deviceApi = noReplica;
    const plan = step(w, at(2));
    expect(plan.status.phase).toBe('Succeeded');
    expect(condition(w.rollout, 'Ready')?.reason).toBe('Succeeded');
  });
});
