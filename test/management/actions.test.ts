import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerDevice } from '../../src/db/device-store.js';
import { databaseBackends } from '../support/database.js';
import {
  ADMIN,
  type ManagementHarness,
  rolloutWithStatus,
  startManagement,
} from '../support/management.js';

const ACTIONS = ['pause', 'resume', 'approve', 'retry', 'rollback-all'];
const SPEC = { image: 'ghcr.io/acme/web', selector: { fleets: ['edge'] } };

/** Refusals and bad input of the actions, preview and match; the happy paths run in rollout-flow. */
describe.each(databaseBackends)('management API: actions, preview, match (%s)', (backend) => {
  let h: ManagementHarness;

  beforeAll(async () => {
    h = await startManagement(backend);
    await h.kube.imagePolicies.create({
      apiVersion: 'fleet.iotistic.io/v1alpha1',
      kind: 'ImagePolicy',
      metadata: { name: 'web', namespace: 'default' },
      spec: { ...SPEC, strategy: { type: 'Manual', batches: [25, 50, 100] } },
    });
    await h.kube.imagePolicies.create({
      apiVersion: 'fleet.iotistic.io/v1alpha1',
      kind: 'ImagePolicy',
      metadata: { name: 'burst', namespace: 'default' },
      spec: { ...SPEC, image: 'ghcr.io/acme/burst', strategy: { type: 'AllAtOnce' } },
    });
    await rolloutWithStatus(
      h.kube,
      'default',
      'web-2-0-0',
      { policy: 'web', image: 'ghcr.io/acme/web', tag: '2.0.0' },
      { phase: 'WaitingForApproval', currentBatch: 0, totalBatches: 3 },
    );
    await rolloutWithStatus(
      h.kube,
      'default',
      'web-1-0-0',
      { policy: 'web', image: 'ghcr.io/acme/web', tag: '1.0.0' },
      { phase: 'Succeeded', currentBatch: 3, totalBatches: 3 },
    );
    await rolloutWithStatus(
      h.kube,
      'default',
      'burst-1',
      { policy: 'burst', image: 'ghcr.io/acme/burst', tag: '1' },
      { phase: 'Progressing', currentBatch: 1, totalBatches: 1 },
    );
    for (let i = 0; i < 5; i++) {
      await registerDevice(h.database.db, { fleet: 'edge', labels: {}, apps: {} });
    }
  });
  afterAll(() => h?.stop());

  const post = (url: string, payload?: object, headers: Record<string, string> = ADMIN) =>
    h.app.inject({ method: 'POST', url, headers, ...(payload ? { payload } : {}) });
  const version = async (name: string) =>
    (await h.kube.imageRollouts.get('default', name))?.metadata.resourceVersion;

  it.each(ACTIONS)('%s of an unknown rollout answers 404', async (action) => {
    const answer = await post(`/api/v1/rollouts/default/nope/${action}`);
    expect(answer.statusCode).toBe(404);
    expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(answer.json().detail).toBe('ImageRollout default/nope not found');
  });

  it.each(['pause', 'resume', 'approve', 'retry', 'rollback-all'])(
    '%s of a Succeeded rollout answers 409 and changes nothing',
    async (action) => {
      const before = await version('web-1-0-0');
      const answer = await post(`/api/v1/rollouts/default/web-1-0-0/${action}`);
      expect(answer.statusCode).toBe(409);
      expect(answer.json()).toMatchObject({ status: 409, title: 'Conflict' });
      expect(answer.json().detail).toMatch(/^ImageRollout default\/web-1-0-0 is Succeeded/);
      expect(await version('web-1-0-0')).toBe(before);
    },
  );

  it('approve of an AllAtOnce rollout answers 409: nothing waits for approval', async () => {
    const answer = await post('/api/v1/rollouts/default/burst-1/approve');
    expect(answer.statusCode).toBe(409);
    expect(answer.json().detail).toMatch(/AllAtOnce/);
    expect((await h.kube.imageRollouts.get('default', 'burst-1'))?.spec.approvedBatches).toBe(
      undefined,
    );
  });

  it('approve with {"all": true} approves every batch, then answers 409', async () => {
    const answer = await post('/api/v1/rollouts/default/web-2-0-0/approve', { all: true });
    expect(answer.statusCode).toBe(200);
    expect(answer.json().approvedBatches).toBe(3);
    expect((await h.kube.imageRollouts.get('default', 'web-2-0-0'))?.spec.approvedBatches).toBe(3);
    const again = await post('/api/v1/rollouts/default/web-2-0-0/approve');
    expect(again.statusCode).toBe(409);
    expect(again.json().detail).toMatch(/every batch \(3\) is approved already/);
  });

  it.each([
    [{ all: 'yes' }, /all/],
    [{ every: true }, /additional/],
  ])('approve with body %j answers 400', async (payload, detail) => {
    const before = await version('web-2-0-0');
    const answer = await post('/api/v1/rollouts/default/web-2-0-0/approve', payload);
    expect(answer.statusCode).toBe(400);
    expect(JSON.stringify(answer.json())).toMatch(detail);
    expect(await version('web-2-0-0')).toBe(before);
  });

  it.each(ACTIONS)('%s needs the admin token', async (action) => {
    const before = await version('web-2-0-0');
    const answer = await post(`/api/v1/rollouts/default/web-2-0-0/${action}`, undefined, {});
    expect(answer.statusCode).toBe(401);
    expect(await version('web-2-0-0')).toBe(before);
  });

  it('an action answers 503 when the API server is unreachable', async () => {
    const app = await h.unreachable();
    const answer = await app.inject({
      method: 'POST',
      url: '/api/v1/rollouts/default/web-2-0-0/pause',
      headers: ADMIN,
    });
    expect(answer.statusCode).toBe(503);
    expect(answer.headers['retry-after']).toBe('5');
  });

  it('match answers every policy, the matching ones first', async () => {
    const answer = await h.app.inject({
      method: 'GET',
      url: '/api/v1/policies/match?image=ghcr.io/acme/burst:7',
      headers: ADMIN,
    });
    expect(answer.statusCode).toBe(200);
    const body = answer.json();
    expect(body).toMatchObject({ repository: 'ghcr.io/acme/burst', tag: '7' });
    expect(
      body.policies.map((p: { name: string; matched: boolean }) => [p.name, p.matched]),
    ).toEqual([
      ['burst', true],
      ['web', false],
    ]);
  });

  it.each([
    ['/api/v1/policies/match', /image/],
    ['/api/v1/policies/match?image=Not%20An%20Image', /Not An Image/],
    ['/api/v1/policies/match?image=nginx&namespace=NO', /namespace/],
  ])('GET %s answers 400', async (url, detail) => {
    const answer = await h.app.inject({ method: 'GET', url, headers: ADMIN });
    expect(answer.statusCode).toBe(400);
    expect(JSON.stringify(answer.json())).toMatch(detail);
  });

  it('preview selects the devices in batches and creates nothing', async () => {
    const before = (await h.kube.imageRollouts.list('default')).length;
    const answer = await post('/api/v1/policies/default/web/preview', { tag: '3.0.0' });
    expect(answer.statusCode).toBe(200);
    const body = answer.json();
    expect(body.devices).toBe(5);
    expect(body.strategy).toBe('Manual');
    expect(body.batches.flatMap((b: { devices: string[] }) => b.devices)).toHaveLength(5);
    expect(body.trigger).toEqual({ matched: true });
    expect(await h.kube.imageRollouts.list('default')).toHaveLength(before);
  });

  it.each([
    ['/api/v1/policies/default/nope/preview', { tag: '1' }, 404, /not found/],
    ['/api/v1/policies/default/web/preview', {}, 400, /tag/],
    ['/api/v1/policies/default/web/preview', { tag: 'no tag!' }, 400, /invalid tag/],
    ['/api/v1/policies/default/web/preview', { tag: '1', digest: 'md5:x' }, 400, /digest/],
  ])('POST %s %j answers %i', async (url, payload, status, detail) => {
    const answer = await post(url, payload);
    expect(answer.statusCode).toBe(status);
    expect(JSON.stringify(answer.json())).toMatch(detail);
  });
});
