import { describe, expect, it } from 'vitest';
import { POLICIES, policy, ROLLOUTS, serverFixture } from '../support/apiserver.js';
import { databaseBackends } from '../support/database.js';

const MERGE = 'application/merge-patch+json';

function rollout(name: string, metadata: Record<string, unknown> = {}) {
  return {
    apiVersion: 'fleet.iotistic.io/v1alpha1',
    kind: 'ImageRollout',
    metadata: { name, ...metadata },
    spec: { policyRef: { name: 'web' }, image: 'ghcr.io/acme/web', tag: '1.0.0' },
  };
}

describe.each(databaseBackends)('deletion on %s', (backend) => {
  const { api } = serverFixture(backend);

  it('deletes at once without finalizers and answers a Success Status', async () => {
    const created = await api.post(POLICIES, policy('plain'));
    const deleted = await api.delete(`${POLICIES}/plain`);
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({
      kind: 'Status',
      status: 'Success',
      details: {
        name: 'plain',
        group: 'fleet.iotistic.io',
        kind: 'imagepolicies',
        uid: created.body.metadata.uid,
      },
    });
    expect((await api.get(`${POLICIES}/plain`)).status).toBe(404);
    expect((await api.delete(`${POLICIES}/plain`)).status).toBe(404);
  });

  it('keeps an object with finalizers until they are removed', async () => {
    await api.post(ROLLOUTS, rollout('held', { finalizers: ['fleet.iotistic.io/cleanup'] }));
    const watch = await api.watch(`${ROLLOUTS}?watch=1&fieldSelector=metadata.name%3Dheld`);
    await watch.next(1);
    const marked = await api.delete(`${ROLLOUTS}/held`);
    expect(marked.status).toBe(200);
    expect(marked.body.metadata.deletionTimestamp).toBeDefined();
    expect(marked.body.metadata.generation).toBe(2);
    const added = await api.patch(
      `${ROLLOUTS}/held`,
      { metadata: { finalizers: ['fleet.iotistic.io/cleanup', 'b.io/x'] } },
      MERGE,
    );
    expect(added.status).toBe(422);
    expect((await api.get(`${ROLLOUTS}/held`)).status).toBe(200);
    const released = await api.patch(`${ROLLOUTS}/held`, { metadata: { finalizers: null } }, MERGE);
    expect(released.status).toBe(200);
    expect((await api.get(`${ROLLOUTS}/held`)).status).toBe(404);
    await watch.next(3);
    expect(watch.events.map((event) => event.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
    watch.close();
  });

  it('answers 409 when a delete precondition does not hold', async () => {
    await api.post(POLICIES, policy('guarded'));
    const wrong = await api.delete(`${POLICIES}/guarded`, {
      kind: 'DeleteOptions',
      apiVersion: 'v1',
      preconditions: { uid: 'x' },
    });
    expect(wrong.status).toBe(409);
    expect(wrong.body.message).toContain('Precondition failed: UID in precondition: x');
  });

  it('garbage-collects objects whose owner is gone, and orphans them on request', async () => {
    const owner = (await api.post(POLICIES, policy('owner'))).body;
    const ref = {
      apiVersion: owner.apiVersion,
      kind: owner.kind,
      name: 'owner',
      uid: owner.metadata.uid,
      controller: true,
    };
    await api.post(ROLLOUTS, rollout('owned', { ownerReferences: [ref] }));
    await api.delete(`${POLICIES}/owner`);
    expect((await api.get(`${ROLLOUTS}/owned`)).status).toBe(404);

    const kept = (await api.post(POLICIES, policy('kept-owner'))).body;
    const keptRef = { ...ref, name: 'kept-owner', uid: kept.metadata.uid };
    await api.post(ROLLOUTS, rollout('orphan', { ownerReferences: [keptRef] }));
    await api.delete(`${POLICIES}/kept-owner`, { propagationPolicy: 'Orphan' });
    const orphan = await api.get(`${ROLLOUTS}/orphan`);
    expect(orphan.status).toBe(200);
    expect(orphan.body.metadata.ownerReferences).toBeUndefined();
  });

  it('deletes a namespace with its contents, waiting for finalizers', async () => {
    const namespaces = '/api/v1/namespaces';
    await api.post(namespaces, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'doomed' },
    });
    const inside = '/apis/fleet.iotistic.io/v1alpha1/namespaces/doomed/imagerollouts';
    await api.post(inside, rollout('free'));
    await api.post(inside, rollout('stuck', { finalizers: ['fleet.iotistic.io/cleanup'] }));
    const deleting = await api.delete(`${namespaces}/doomed`);
    expect(deleting.body.status.phase).toBe('Terminating');
    expect((await api.get(`${inside}/free`)).status).toBe(404);
    const refused = await api.post(inside, rollout('late'));
    expect(refused.status).toBe(403);
    expect(refused.body.message).toContain('because it is being terminated');
    await api.patch(`${inside}/stuck`, { metadata: { finalizers: null } }, MERGE);
    expect((await api.get(`${namespaces}/doomed`)).status).toBe(404);
    const protectedDefault = await api.delete(`${namespaces}/default`);
    expect(protectedDefault.status).toBe(403);
  });

  it('deletes a collection by label selector', async () => {
    await api.post(POLICIES, policy('c1', { labels: { batch: 'x' } }));
    await api.post(POLICIES, policy('c2', { labels: { batch: 'x' } }));
    await api.post(POLICIES, policy('c3', { labels: { batch: 'y' } }));
    expect((await api.delete(`${POLICIES}?labelSelector=batch%3Dx`)).status).toBe(200);
    const left = await api.get(`${POLICIES}?labelSelector=batch`);
    expect(
      left.body.items.map((item: { metadata: { name: string } }) => item.metadata.name),
    ).toEqual(['c3']);
  });

  it.each([
    ['the DeleteOptions body (kubectl --dry-run=server)', '', { dryRun: ['All'] }],
    ['the query', '?dryRun=All', undefined],
  ])('a dry-run delete named in %s deletes nothing', async (_where, query, options) => {
    const body = options && { kind: 'DeleteOptions', apiVersion: 'v1', ...options };
    await api.post(POLICIES, policy('kept', { labels: { dry: 'run' } }));
    const item = await api.send('DELETE', `${POLICIES}/kept${query}`, body);
    expect(item.status).toBe(200);
    expect(item.body).toMatchObject({ kind: 'Status', status: 'Success' });
    const collection = await api.send(
      'DELETE',
      `${POLICIES}${query ? `${query}&` : '?'}labelSelector=dry%3Drun`,
      body,
    );
    expect(collection.status).toBe(200);
    expect((await api.get(`${POLICIES}/kept`)).status).toBe(200);
    await api.post('/api/v1/namespaces', { metadata: { name: `dry-${query ? 'q' : 'b'}` } });
    const namespace = await api.send(
      'DELETE',
      `/api/v1/namespaces/dry-${query ? 'q' : 'b'}${query}`,
      body,
    );
    expect(namespace.body.status?.phase).toBe('Active');
    expect((await api.delete(`${POLICIES}/kept`)).status).toBe(200);
  });

  it('refuses a DeleteOptions dryRun other than All', async () => {
    await api.post(POLICIES, policy('odd-dry-run'));
    const refused = await api.delete(`${POLICIES}/odd-dry-run`, { dryRun: ['Some'] });
    expect(refused.status).toBe(400);
    expect((await api.get(`${POLICIES}/odd-dry-run`)).status).toBe(200);
  });
});
