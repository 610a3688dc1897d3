import { describe, expect, it } from 'vitest';
import type {
  ImagePolicySpec,
  ImagePolicyStatus,
  ImageRollout,
  RolloutPhase,
} from '../../src/api/types.js';
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
      rollouts: [],
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
      rollouts: [latest],
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
      rollouts: [],
      now: at(0),
    });
    expect(first.events).toHaveLength(1);
    const again = planPolicy({
      policy: { ...invalid, status: first.status },
      selectedDevices: undefined,
      rollouts: [],
      now: at(5),
    });
    expect(again).toEqual({ status: first.status, events: [] });
  });

  it('keeps the transition time when only the reason changes, and keeps the latest rollout', () => {
    const first = planPolicy({
      policy: policy({ suspend: true }),
      selectedDevices: 1,
      rollouts: [rollout()],
      now: at(0),
    });
    const valid = policy({ suspend: false });
    valid.metadata.generation = 2;
    const fixed = planPolicy({
      policy: { ...valid, status: first.status },
      selectedDevices: 1,
      rollouts: [],
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
      rollouts: [],
      now: at(10),
    });
    expect(resuspended.status.conditions?.[0]?.lastTransitionTime).toBe('2025-06-02T12:10:00Z');
  });

  describe('after a rollback', () => {
    const named = (name: string, tag: string, minute: number, phase: RolloutPhase) => {
      const made = rollout({ tag }, undefined, name);
      made.metadata.creationTimestamp = at(minute).toISOString();
      return { ...made, status: { phase } };
    };
    const images = (rollouts: ImageRollout[], prev: ImagePolicyStatus = {}) => {
      const plan = planPolicy({
        policy: { ...policy(), status: prev },
        selectedDevices: 3,
        rollouts,
        now: at(60),
      });
      const { latestImage, latestRollout, rolledBackImage, rolledBackRollout } = plan.status;
      return { latestImage, latestRollout, rolledBackImage, rolledBackRollout };
    };
    const nginx = (tag: string) => `docker.io/library/nginx:${tag}`;

    it.each<[string, ImageRollout[], Partial<ReturnType<typeof images>>]>([
      [
        'Latest is the image the fleet went back to, Rolled Back the one it left',
        [named('a', '1.27', 0, 'Succeeded'), named('b', '1.28', 10, 'RolledBack')],
        {
          latestImage: nginx('1.27'),
          latestRollout: 'a',
          rolledBackImage: nginx('1.28'),
          rolledBackRollout: 'b',
        },
      ],
      [
        'while rolling back, too',
        [named('a', '1.27', 0, 'Succeeded'), named('b', '1.28', 10, 'RollingBack')],
        {
          latestImage: nginx('1.27'),
          latestRollout: 'a',
          rolledBackImage: nginx('1.28'),
          rolledBackRollout: 'b',
        },
      ],
      [
        'a newer rollout clears Rolled Back',
        [
          named('a', '1.27', 0, 'Succeeded'),
          named('b', '1.28', 10, 'RolledBack'),
          named('c', '1.29', 20, 'Progressing'),
        ],
        { latestImage: nginx('1.29'), latestRollout: 'c' },
      ],
      [
        'a failed rollout never reached a device: Latest stays',
        [named('a', '1.27', 0, 'Succeeded'), named('b', '1.28', 10, 'Failed')],
        { latestImage: nginx('1.27'), latestRollout: 'a' },
      ],
      [
        'the first rollout rolled back: no Latest',
        [named('b', '1.28', 10, 'RolledBack')],
        { rolledBackImage: nginx('1.28'), rolledBackRollout: 'b' },
      ],
    ])('%s', (_, rollouts, expected) => {
      const all = { latestImage: undefined, latestRollout: undefined, ...expected };
      expect(images(rollouts)).toEqual({
        rolledBackImage: undefined,
        rolledBackRollout: undefined,
        ...all,
      });
      expect(images(rollouts.toReversed())).toEqual(images(rollouts));
    });

    it('forgets a Latest whose rollout rolled back, keeps one whose rollout was deleted', () => {
      const prev = { latestImage: nginx('1.28'), latestRollout: 'b' };
      expect(images([named('b', '1.28', 10, 'RolledBack')], prev).latestImage).toBeUndefined();
      expect(images([], prev)).toMatchObject({ latestImage: nginx('1.28'), latestRollout: 'b' });
    });
  });
});
