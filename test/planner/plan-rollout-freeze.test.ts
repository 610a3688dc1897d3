import { describe, expect, it } from 'vitest';
import type { FleetFreeze, FleetFreezeSpec, ImageRollout } from '../../src/api/types.js';
import { API_VERSION } from '../../src/api/types.js';
import { freezeCovers, freezeTiming, rolloutFreeze } from '../../src/planner/freeze.js';
import type { RolloutPlan } from '../../src/planner/types.js';
import { at, type Behaviour, rollout, settle, step, world } from './fixtures.js';

/** A FleetFreeze in `prod` (the fixtures' namespace) with the given spec fields. */
function freeze(spec: Partial<FleetFreezeSpec> = {}, name = 'holiday', namespace = 'prod') {
  return {
    apiVersion: API_VERSION,
    kind: 'FleetFreeze',
    metadata: { name, namespace, generation: 1, uid: `${name}-uid` },
    spec: { reason: 'Holiday change freeze', ...spec },
  } satisfies FleetFreeze;
}

/** Devices update for 10 minutes after `at(0)`, then are healthy. */
const slow: Behaviour = (_batch, devices, now) =>
  now.getTime() >= at(10).getTime() ? { healthy: devices } : { updating: devices };

const reasons = (plan: RolloutPlan) => plan.events.map((event) => event.reason);

describe('freezeTiming', () => {
  const window = { start: at(10).toISOString(), end: at(20).toISOString() };
  it.each([
    ['no window: active at once, until deleted', {}, at(0), 'Active', undefined],
    ['before the start', { window }, at(5), 'Scheduled', at(10)],
    ['at the start (inclusive)', { window }, at(10), 'Active', at(20)],
    ['inside', { window }, at(15), 'Active', at(20)],
    ['at the end (exclusive)', { window }, at(20), 'Ended', undefined],
    ['an end only', { window: { end: window.end } }, at(0), 'Active', at(20)],
    ['a start only', { window: { start: window.start } }, at(30), 'Active', undefined],
  ])('%s', (_, spec, now, state, changesAt) => {
    expect(freezeTiming(freeze(spec), now)).toEqual({ state, changesAt });
  });
});

describe('freezeCovers', () => {
  const labelled: ImageRollout = {
    ...rollout(),
    metadata: {
      ...rollout().metadata,
      labels: { tier: 'prod', 'fleet.iotistic.io/policy': 'web' },
    },
  };
  it.each<[string, Partial<FleetFreezeSpec>, string, boolean]>([
    ['an empty scope covers every rollout of the namespace', {}, 'prod', true],
    ['a freeze of another namespace covers nothing here', {}, 'staging', false],
    ['the rollout policy listed', { scope: { policies: ['api', 'web'] } }, 'prod', true],
    ['another policy', { scope: { policies: ['api'] } }, 'prod', false],
    ['matching labels', { scope: { selector: { matchLabels: { tier: 'prod' } } } }, 'prod', true],
    ['other labels', { scope: { selector: { matchLabels: { tier: 'dev' } } } }, 'prod', false],
    [
      'an expression that holds',
      {
        scope: {
          selector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['prod'] }] },
        },
      },
      'prod',
      true,
    ],
    [
      'policy and labels must both match',
      { scope: { policies: ['web'], selector: { matchLabels: { tier: 'dev' } } } },
      'prod',
      false,
    ],
  ])('%s', (_, spec, namespace, covers) => {
    expect(freezeCovers(freeze(spec, 'f', namespace), labelled)).toBe(covers);
  });

  it('lists active covering freezes by name and gives the earliest window edge ahead', () => {
    const freezes = [
      freeze({}, 'zulu'),
      freeze({ window: { end: at(30).toISOString() } }, 'alpha'),
      freeze({ window: { start: at(10).toISOString() } }, 'later'),
      freeze({ scope: { policies: ['api'] }, window: { start: at(5).toISOString() } }, 'api-only'),
    ];
    const result = rolloutFreeze(rollout(), freezes, at(0));
    expect(result.holding.map((f) => f.metadata.name)).toEqual(['alpha', 'zulu']);
    expect(result.nextChangeAt).toEqual(at(10));
  });
});

describe('planRollout under a FleetFreeze', () => {
  it('holds a new rollout before it selects devices, and lets it start once lifted', () => {
    const w = world(100);
    w.freezes = [freeze()];
    const held = settle(w, at(0));
    expect(held.effect).toBeUndefined();
    expect(w.target).toBeUndefined();
    expect(w.rollout.status).toMatchObject({
      phase: 'Frozen',
      message: 'Frozen by FleetFreeze holiday (Holiday change freeze): waits to select devices',
    });
    expect(w.rollout.status?.conditions?.find((c) => c.type === 'Progressing')).toMatchObject({
      status: 'False',
      reason: 'Frozen',
    });
    expect(reasons(held)).toEqual(['FreezeStarted']);
    expect(held.log.map((entry) => entry.type)).toEqual(['image.rollout_frozen']);
    expect(step(w, at(1)).events).toEqual([]);

    w.freezes = [];
    const lifted = step(w, at(2));
    expect(lifted.effect?.type).toBe('CreateMembership');
    expect(reasons(lifted)).toEqual(['RolloutStarted', 'FreezeLifted']);
    expect(lifted.log.map((entry) => entry.type)).toContain('image.rollout_unfrozen');
  });

  it('lets the running batch finish but starts no new one, then resumes where it stopped', () => {
    const w = world(100, {}, slow);
    settle(w, at(0));
    expect(w.target?.startedBatches).toBe(1);
    w.freezes = [freeze({ reason: 'incident 42' }, 'incident')];
    const frozen = step(w, at(1));
    expect(frozen.effect).toBeUndefined();
    expect(w.rollout.status?.phase).toBe('Frozen');
    expect(w.rollout.status?.message).toBe(
      'Frozen by FleetFreeze incident (incident 42); Batch 1/3: 0 healthy, 0 soaking, 10 updating, 0 scheduled, 0 failed, 0 offline of 10',
    );
    expect(reasons(frozen)).toEqual(['FreezeStarted']);
    // The batch completes while frozen; nothing new starts however often it is planned.
    const completed = settle(w, at(11));
    expect(reasons(completed)).toEqual(['BatchCompleted']);
    for (let minute = 12; minute < 100; minute += 7) {
      expect(settle(w, at(minute)).effect).toBeUndefined();
    }
    expect(w.target?.startedBatches).toBe(1);
    expect(w.rollout.status?.message).toBe(
      'Frozen by FleetFreeze incident (incident 42): batch 2/3 waits',
    );
    w.freezes = [];
    const resumed = step(w, at(100));
    expect(resumed.effect).toEqual({ type: 'StartBatch', batch: 2, devices: 40 });
    expect(reasons(resumed)).toEqual(['BatchStarted', 'FreezeLifted']);
  });

  it('leaves a rollout paused by hand paused through a freeze and after it', () => {
    const w = world(100, {}, slow);
    settle(w, at(0));
    w.rollout = { ...w.rollout, spec: { ...w.rollout.spec, paused: true } };
    settle(w, at(11));
    expect(w.rollout.status?.phase).toBe('Paused');
    w.freezes = [freeze()];
    const during = settle(w, at(12));
    expect(w.rollout.status?.conditions?.find((c) => c.type === 'Progressing')?.reason).toBe(
      'PausedByUser',
    );
    expect(during.events).toEqual([]);
    w.freezes = [];
    const after = settle(w, at(13));
    expect(after.effect).toBeUndefined();
    expect(after.events).toEqual([]);
    expect(w.rollout.status?.phase).toBe('Paused');
    expect(w.target?.startedBatches).toBe(1);
  });

  it('holds only inside its window, and asks to be looked at again at each edge', () => {
    const w = world(100, {}, slow);
    w.freezes = [freeze({ window: { start: at(5).toISOString(), end: at(60).toISOString() } })];
    const before = settle(w, at(0));
    expect(w.target?.startedBatches).toBe(1);
    expect(before.requeueAt).toEqual(at(5));
    const opened = settle(w, at(5));
    expect(w.rollout.status?.phase).toBe('Frozen');
    expect(reasons(opened)).toEqual(['FreezeStarted']);
    expect(opened.requeueAt).toEqual(at(10));
    const inside = settle(w, at(30));
    expect(inside.effect).toBeUndefined();
    expect(inside.requeueAt).toEqual(at(60));
    const ended = step(w, at(60));
    expect(ended.effect).toEqual({ type: 'StartBatch', batch: 2, devices: 40 });
    expect(reasons(ended)).toEqual(['BatchStarted', 'FreezeLifted']);
  });

  it('never stops a rollback: an abort during a freeze rolls devices back', () => {
    const w = world(100, {}, slow);
    settle(w, at(0));
    w.freezes = [freeze()];
    step(w, at(1));
    w.rollout = { ...w.rollout, spec: { ...w.rollout.spec, abort: true } };
    const plan = step(w, at(2));
    expect(plan.effect).toEqual({ type: 'RollBack', reason: 'Aborted' });
  });

  it('ignores freezes that do not cover the rollout', () => {
    const w = world(100);
    w.freezes = [freeze({ scope: { policies: ['api'] } }), freeze({}, 'elsewhere', 'staging')];
    settle(w, at(0));
    expect(w.rollout.status?.phase).not.toBe('Frozen');
    expect(w.target?.startedBatches).toBeGreaterThan(0);
  });
});
