import { describe, expect, it } from 'vitest';
import { API_VERSION } from '../../src/api/types.js';
import {
  buildRollout,
  imageIdentity,
  MAX_NAME_LENGTH,
  rolloutName,
} from '../../src/webhooks/build-rollout.js';
import { matchingPolicies, matchPolicy, policyVerdict } from '../../src/webhooks/match.js';
import type { ImagePush } from '../../src/webhooks/push.js';
import { DIGEST_A, DIGEST_B, testPolicy } from './fixtures.js';

function push(repository: string, tag: string, digest?: string): ImagePush {
  const registry = repository.split('/')[0] ?? '';
  return { registry, repository, tag, digest, pushedAt: undefined, deliveryId: 'd1' };
}

describe('matchPolicy', () => {
  it.each([
    ['ghcr.io/acme/*', {}, 'ghcr.io/acme/app', '1.0.0', true],
    ['ghcr.io/acme/*', {}, 'ghcr.io/acme/team/app', '1.0.0', false],
    ['ghcr.io/acme/**', {}, 'ghcr.io/acme/team/app', '1.0.0', true],
    ['ghcr.io/other/*', {}, 'ghcr.io/acme/app', '1.0.0', false],
    ['nginx', {}, 'docker.io/library/nginx', '1.27', true],
    ['docker.io/library/nginx', {}, 'docker.io/library/nginx', '1.27', true],
    ['nginx', {}, 'docker.io/acme/nginx', '1.27', false],
    ['Not A Name', {}, 'docker.io/library/nginx', '1.27', false],
    ['*/acme/app', {}, 'ghcr.io/acme/app', 'x', true],
    ['ghcr.io/acme/app', { pattern: 'v1.*' }, 'ghcr.io/acme/app', 'v1.2', true],
    ['ghcr.io/acme/app', { pattern: 'v1.*' }, 'ghcr.io/acme/app', 'v2.0', false],
    ['ghcr.io/acme/app', { pattern: 'main-*' }, 'ghcr.io/acme/app', 'main-.hidden', true],
    ['ghcr.io/acme/app', { semver: '^1.2.0' }, 'ghcr.io/acme/app', '1.4.0', true],
    ['ghcr.io/acme/app', { semver: '^1.2.0' }, 'ghcr.io/acme/app', 'v1.4.0', true],
    ['ghcr.io/acme/app', { semver: '^1.2.0' }, 'ghcr.io/acme/app', '2.0.0', false],
    ['ghcr.io/acme/app', { semver: '^1.2.0' }, 'ghcr.io/acme/app', 'latest', false],
    ['ghcr.io/acme/app', { semver: '>=1.0.0' }, 'ghcr.io/acme/app', '1.3.0-rc.1', false],
    ['ghcr.io/acme/app', { semver: '>=1.3.0-rc.0' }, 'ghcr.io/acme/app', '1.3.0-rc.1', false],
    [
      'ghcr.io/acme/app',
      { semver: '>=1.0.0', includePrerelease: true },
      'ghcr.io/acme/app',
      '1.3.0-rc.1',
      true,
    ],
    ['ghcr.io/acme/app', { semver: 'not a range' }, 'ghcr.io/acme/app', '1.0.0', false],
    ['ghcr.io/acme/app', { semver: '^1', pattern: '*-arm64' }, 'ghcr.io/acme/app', '1.1.0', false],
    [
      'ghcr.io/acme/app',
      { semver: '^1', pattern: '*-arm64' },
      'ghcr.io/acme/app',
      '1.1.0-arm64',
      false,
    ],
  ] as const)('%s %j vs %s:%s → %s', (image, tags, repository, tag, matched) => {
    expect(matchPolicy({ image, tags }, push(repository, tag)).matched).toBe(matched);
  });

  it('skips suspended policies and policies being deleted', () => {
    const deleting = testPolicy('deleting');
    deleting.metadata.deletionTimestamp = '2024-01-01T00:00:00Z';
    const policies = [testPolicy('active'), testPolicy('paused', { suspend: true }), deleting];
    const matched = matchingPolicies(policies, push('ghcr.io/acme/app', '1.0.0'));
    expect(matched.map((p) => p.metadata.name)).toEqual(['active']);
  });

  it('says why a policy takes no push: a mismatch first, then suspended or being deleted', () => {
    const deleting = testPolicy('deleting');
    deleting.metadata.deletionTimestamp = '2024-01-01T00:00:00Z';
    const suspended = testPolicy('paused', { suspend: true });
    const app = push('ghcr.io/acme/app', '1.0.0');
    expect(policyVerdict(testPolicy('active'), app)).toEqual({ matched: true });
    expect(policyVerdict(suspended, app)).toEqual({
      matched: false,
      reason: 'the policy is suspended',
    });
    expect(policyVerdict(deleting, app)).toEqual({
      matched: false,
      reason: 'the policy is being deleted',
    });
    expect(policyVerdict(suspended, push('ghcr.io/other/app', '1.0.0')).matched).toBe(false);
    expect(policyVerdict(suspended, push('ghcr.io/other/app', '1.0.0'))).not.toEqual({
      matched: false,
      reason: 'the policy is suspended',
    });
  });
});

describe('rollout names', () => {
  const web = testPolicy('web');

  it('is the same for the same policy and image, and a DNS-1123 label', () => {
    const name = rolloutName(web, push('ghcr.io/acme/app', '1.0.0'));
    expect(name).toBe(rolloutName(web, push('ghcr.io/acme/app', '1.0.0')));
    expect(name).toMatch(/^web-[0-9a-f]{12}$/);
  });

  it('is one name for one digest under several tags', () => {
    const names = ['1.0.0', 'stable', 'latest'].map((tag) =>
      rolloutName(web, push('ghcr.io/acme/app', tag, DIGEST_A)),
    );
    expect(new Set(names).size).toBe(1);
  });

  it.each([
    ['another digest', push('ghcr.io/acme/app', '1.0.0', DIGEST_B)],
    ['another tag without digest', push('ghcr.io/acme/app', '1.0.1')],
    ['another repository', push('ghcr.io/acme/other', '1.0.0', DIGEST_A)],
  ])('differs for %s', (_case, other) => {
    expect(rolloutName(web, other)).not.toBe(
      rolloutName(web, push('ghcr.io/acme/app', '1.0.0', DIGEST_A)),
    );
  });

  it('differs between policies and namespaces', () => {
    const image = push('ghcr.io/acme/app', '1.0.0', DIGEST_A);
    const names = [testPolicy('web'), testPolicy('api'), testPolicy('web', {}, 'other')].map((p) =>
      rolloutName(p, image),
    );
    expect(new Set(names).size).toBe(3);
  });

  it.each([
    'a'.repeat(253),
    `${'a'.repeat(49)}.b.c`,
    'x.y.z',
    `${'a'.repeat(50)}-${'b'.repeat(10)}`,
  ])('stays a DNS-1123 label for policy %s', (name) => {
    const result = rolloutName(testPolicy(name), push('ghcr.io/acme/app', '1.0.0'));
    expect(result.length).toBeLessThanOrEqual(MAX_NAME_LENGTH);
    expect(result).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  });

  it('identifies an image by digest when known, else by tag', () => {
    expect(imageIdentity(push('ghcr.io/a/b', '1', DIGEST_A))).toBe(`ghcr.io/a/b@${DIGEST_A}`);
    expect(imageIdentity(push('ghcr.io/a/b', '1'))).toBe('ghcr.io/a/b:1');
  });
});

describe('buildRollout', () => {
  it('snapshots the policy and links to it and to the delivery', () => {
    const source = testPolicy('web', {
      strategy: { type: 'Staged', batches: [10, 100], interval: '5m' },
      health: { soakTime: '2m' },
      failurePolicy: { maxFailurePercent: 10, action: 'Rollback' },
    });
    const image = {
      ...push('ghcr.io/acme/app', '1.0.0', DIGEST_A),
      pushedAt: '2024-05-01T00:00:00.000Z',
    };
    const rollout = buildRollout(source, { ...image, digestSource: 'event' }, 'ghcr');
    expect(rollout).toEqual({
      apiVersion: API_VERSION,
      kind: 'ImageRollout',
      metadata: {
        name: rolloutName(source, image),
        namespace: 'fleet',
        labels: {
          'app.kubernetes.io/managed-by': 'fleet-rollout',
          'fleet.iotistic.io/source': 'ghcr',
          'fleet.iotistic.io/policy': 'web',
        },
        annotations: {
          'fleet.iotistic.io/delivery-id': 'd1',
          'fleet.iotistic.io/pushed-at': '2024-05-01T00:00:00.000Z',
          'fleet.iotistic.io/digest-source': 'event',
        },
        ownerReferences: [
          {
            apiVersion: API_VERSION,
            kind: 'ImagePolicy',
            name: 'web',
            uid: 'uid-web-fleet',
            controller: true,
          },
        ],
      },
      spec: {
        policyRef: { name: 'web' },
        image: 'ghcr.io/acme/app',
        tag: '1.0.0',
        digest: DIGEST_A,
        selector: { fleets: ['lab'] },
        strategy: { type: 'Staged', batches: [10, 100], interval: '5m' },
        health: { soakTime: '2m' },
        failurePolicy: { maxFailurePercent: 10, action: 'Rollback' },
      },
    });
    rollout.spec.strategy?.batches?.push(1);
    expect(source.spec.strategy?.batches).toEqual([10, 100]);
  });
});
