import { describe, expect, it } from 'vitest';
import type { ImagePolicySpec } from '../../src/api/types.js';
import { planPolicy } from '../../src/planner/plan-policy.js';
import { at, policy, rollout } from './fixtures.js';

describe('planPolicy', () => {
  it.each<[string, Partial<ImagePolicySpec>, string, string, RegExp, number | undefined]>([
    ['a valid policy is Ready', {}, 'True', 'Valid', /creates rollouts/, 120],
    ['a suspended policy says so', { suspend: true }, 'False', 'Suspended', /no new rollouts/, 120],
    [
      'an invalid spec is a terminal condition listing the fields',
      { tags: { semver: '>=banana' }, strategy: { interval: 'soon' } },
      'False',
      'InvalidSpec',
      /spec.tags.semver: .*; spec.strategy.interval: /,
      undefined,
    ],
  ])('%s', (_, spec, status, reason, message, selected) => {
    const plan = planPolicy({
      policy: policy(spec),
      selectedDevices: 120,
      latestRollout: undefined,
      now: at(0),
    });
    expect(plan.status.conditions).toEqual([
      {
        type: 'Ready',
        status,
        reason,
        message: expect.stringMatching(message),
        observedGeneration: 1,
        lastTransitionTime: '2025-06-02T12:00:00Z',
      },
    ]);
    expect(plan.status.observedGeneration).toBe(1);
    expect(plan.status.selectedDevices).toBe(selected);
    expect(plan.events.map((e) => e.reason)).toEqual(
      reason === 'InvalidSpec' ? ['InvalidConfiguration'] : [],
    );
  });

  it('reports the latest image and rollout, pinned to the digest', () => {
    const latest = rollout(
      { tag: '1.28', digest: `sha256:${'b'.repeat(64)}` },
      undefined,
      'web-nginx-1-28',
    );
    const plan = planPolicy({
      policy: policy(),
      selectedDevices: 3,
      latestRollout: latest,
      now: at(0),
    });
    expect(plan.status).toMatchObject({
      latestImage: `docker.io/library/nginx:1.28@sha256:${'b'.repeat(64)}`,
      latestRollout: 'web-nginx-1-28',
    });
  });

  it('is a fixed point: planning from its own status changes nothing and emits nothing', () => {
    const invalid = policy({ selector: {} });
    const first = planPolicy({
      policy: invalid,
      selectedDevices: undefined,
      latestRollout: undefined,
      now: at(0),
    });
    expect(first.events).toHaveLength(1);
    const again = planPolicy({
      policy: { ...invalid, status: first.status },
      selectedDevices: undefined,
      latestRollout: undefined,
      now: at(5),
    });
    expect(again).toEqual({ status: first.status, events: [] });
  });

  it('keeps the transition time when only the reason changes, and keeps the latest rollout', () => {
    const first = planPolicy({
      policy: policy({ suspend: true }),
      selectedDevices: 1,
      latestRollout: rollout(),
      now: at(0),
    });
    const valid = policy({ suspend: false });
    valid.metadata.generation = 2;
    const fixed = planPolicy({
      policy: { ...valid, status: first.status },
      selectedDevices: 1,
      latestRollout: undefined,
      now: at(9),
    });
    expect(fixed.status.conditions?.[0]).toMatchObject({
      status: 'True',
      reason: 'Valid',
      lastTransitionTime: '2025-06-02T12:09:00Z',
      observedGeneration: 2,
    });
    expect(fixed.status.latestRollout).toBe('web-nginx-1-27');
    const resuspended = planPolicy({
      policy: { ...valid, spec: { ...valid.spec, suspend: true }, status: fixed.status },
      selectedDevices: 1,
      latestRollout: undefined,
      now: at(10),
    });
    expect(resuspended.status.conditions?.[0]?.lastTransitionTime).toBe('2025-06-02T12:10:00Z');
  });
});
