import { describe, expect, it } from 'vitest';
import { POLICIES, policy, ROLLOUTS, serverFixture } from '../support/apiserver.js';
import { databaseBackends } from '../support/database.js';

const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';

describe.each(databaseBackends)('local API server reads and writes on %s', (backend) => {
  const { api, server } = serverFixture(backend);

  it('answers 401 Status without the bearer token, and serves /version to anyone', async () => {
    const anonymous = { authorization: 'Bearer wrong' };
    const denied = await api.get(POLICIES, anonymous);
    expect(denied.status).toBe(401);
    expect(denied.body).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
    expect((await api.get('/version', anonymous)).body.gitVersion).toMatch(/^v1\.3\d\./);
  });

  it('answers 401 to near misses of the token: a prefix, a longer one, one character off', async () => {
    const token = server().token;
    const misses = [token.slice(0, -1), `${token}x`, `${token.slice(0, -1)}!`, '', 'ä'.repeat(9)];
    for (const miss of misses) {
      const denied = await api.get(POLICIES, { authorization: `Bearer ${miss}` });
      expect(denied.status).toBe(401);
    }
    expect((await api.get(POLICIES, { authorization: `bearer  ${token}` })).status).toBe(200);
  });

  it('serves legacy and aggregated discovery', async () => {
    const resources = await api.get('/apis/fleet.iotistic.io/v1alpha1');
    expect(resources.body.resources.map((r: { name: string }) => r.name)).toEqual([
      'fleetfreezes',
      'fleetfreezes/status',
      'imagepolicies',
      'imagepolicies/status',
      'imagerollouts',
      'imagerollouts/status',
      'notificationchannels',
      'notificationchannels/status',
    ]);
    const accept =
      'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json';
    const aggregated = await api.get('/apis', { accept });
    expect(aggregated.headers['content-type']).toContain('as=APIGroupDiscoveryList');
    const groups = aggregated.body.items.map(
      (item: { metadata: { name: string } }) => item.metadata.name,
    );
    expect(groups).toEqual(['events.k8s.io', 'coordination.k8s.io', 'fleet.iotistic.io']);
    const core = await api.get('/api', { accept });
    const coreResources = core.body.items[0].versions[0].resources.map(
      (r: { resource: string }) => r.resource,
    );
    expect(coreResources).toEqual(['namespaces', 'events', 'secrets']);
  });

  it('creates with defaults and a uid, and answers AlreadyExists for the same name', async () => {
    const created = await api.post(POLICIES, policy('create-me'));
    expect(created.status).toBe(201);
    expect(created.body.metadata).toMatchObject({
      name: 'create-me',
      namespace: 'default',
      generation: 1,
    });
    expect(created.body.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.body.spec.strategy.type).toBe('Staged');
    const again = await api.post(POLICIES, policy('create-me'));
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({
      reason: 'AlreadyExists',
      message: 'imagepolicies.fleet.iotistic.io "create-me" already exists',
    });
  });

  it('generates names from generateName', async () => {
    const body = { ...policy(''), metadata: { generateName: 'gen-' } };
    const created = await api.post(POLICIES, body);
    expect(created.status).toBe(201);
    expect(created.body.metadata.name).toMatch(/^gen-[a-z0-9]{5}$/);
  });

  it('rejects a stale resourceVersion with 409 and bumps generation only for spec changes', async () => {
    const created = (await api.post(POLICIES, policy('versions'))).body;
    const relabeled = { ...created, metadata: { ...created.metadata, labels: { a: 'b' } } };
    const first = await api.put(`${POLICIES}/versions`, relabeled);
    expect(first.status).toBe(200);
    expect(first.body.metadata.generation).toBe(1);
    const stale = await api.put(`${POLICIES}/versions`, {
      ...created,
      spec: { ...created.spec, suspend: true },
    });
    expect(stale.status).toBe(409);
    expect(stale.body.message).toBe(
      'Operation cannot be fulfilled on imagepolicies.fleet.iotistic.io "versions": the object has been modified; please apply your changes to the latest version and try again',
    );
    const current = first.body;
    const changed = await api.put(`${POLICIES}/versions`, {
      ...current,
      spec: { ...current.spec, suspend: true },
    });
    expect(changed.body.metadata.generation).toBe(2);
    const unconditional = {
      ...current,
      metadata: { ...current.metadata, resourceVersion: undefined },
    };
    expect((await api.put(`${POLICIES}/versions`, unconditional)).status).toBe(422);
  });

  it('writes spec and status separately through the status subresource', async () => {
    const created = (
      await api.post(POLICIES, { ...policy('status'), status: { selectedDevices: 9 } })
    ).body;
    expect(created.status).toBeUndefined();
    const withStatus = { ...created, status: { selectedDevices: 5, observedGeneration: 1 } };
    const written = await api.put(`${POLICIES}/status/status`, withStatus);
    expect(written.status).toBe(200);
    expect(written.body.status.selectedDevices).toBe(5);
    expect(written.body.metadata.generation).toBe(1);
    const ignored = await api.patch(
      `${POLICIES}/status`,
      { status: { selectedDevices: 1 }, spec: { suspend: true } },
      'application/merge-patch+json',
    );
    expect(ignored.body.status.selectedDevices).toBe(5);
    expect(ignored.body.metadata.generation).toBe(2);
  });

  it('patches with merge patch and JSON patch, and answers 415 to a strategic merge patch', async () => {
    await api.post(POLICIES, policy('patch-me'));
    const merged = await api.patch(
      `${POLICIES}/patch-me`,
      { spec: { suspend: true } },
      'application/merge-patch+json',
    );
    expect(merged.body.spec.suspend).toBe(true);
    const json = await api.patch(
      `${POLICIES}/patch-me`,
      [{ op: 'replace', path: '/spec/image', value: 'ghcr.io/acme/api' }],
      'application/json-patch+json',
    );
    expect(json.body.spec.image).toBe('ghcr.io/acme/api');
    const failedTest = await api.patch(
      `${POLICIES}/patch-me`,
      [{ op: 'test', path: '/spec/image', value: 'x' }],
      'application/json-patch+json',
    );
    expect(failedTest.status).toBe(422);
    const strategic = await api.patch(
      `${POLICIES}/patch-me`,
      { spec: {} },
      'application/strategic-merge-patch+json',
    );
    expect(strategic.status).toBe(415);
    expect(strategic.body.message).toBe(
      'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
    );
  });

  it('validates with field causes and applies the fieldValidation modes', async () => {
    const invalid = await api.post(
      POLICIES,
      policy('bad', { spec: { strategy: { batches: [50, 10] } } }),
    );
    expect(invalid.status).toBe(422);
    expect(invalid.body).toMatchObject({
      reason: 'Invalid',
      details: { name: 'bad', kind: 'ImagePolicy', group: 'fleet.iotistic.io' },
    });
    expect(invalid.body.details.causes[0].field).toBe('spec.strategy.batches');
    const unknown = policy('unknown', { spec: { bogus: 1 } });
    const strict = await api.post(`${POLICIES}?fieldValidation=Strict`, unknown);
    expect(strict.status).toBe(400);
    expect(strict.body.message).toBe(
      'ImagePolicy in version "v1alpha1" cannot be handled as a ImagePolicy: strict decoding error: unknown field "spec.bogus"',
    );
    const warned = await api.post(`${POLICIES}?fieldValidation=Warn`, unknown);
    expect(warned.status).toBe(201);
    expect(warned.headers.warning).toBe('299 - "unknown field \\"spec.bogus\\""');
    expect(warned.body.spec.bogus).toBeUndefined();
  });

  it('does not store anything on dryRun=All', async () => {
    const dry = await api.post(`${POLICIES}?dryRun=All`, policy('dry'));
    expect(dry.status).toBe(201);
    expect((await api.get(`${POLICIES}/dry`)).status).toBe(404);
  });

  it('lists with label and field selectors, pages with continue, and answers Tables', async () => {
    for (const name of ['l1', 'l2', 'l3'])
      await api.post(ROLLOUTS, rollout(name, { tier: 'list' }));
    await api.post(ROLLOUTS, rollout('l4', { tier: 'other' }));
    const page1 = await api.get(`${ROLLOUTS}?labelSelector=tier%3Dlist&limit=2`);
    expect(page1.body.items.map(nameOf)).toEqual(['l1', 'l2']);
    // A negative limit pages nothing, as upstream reads it.
    const unlimited = await api.get(`${ROLLOUTS}?labelSelector=tier%3Dlist&limit=-1`);
    expect(unlimited.body.items.map(nameOf)).toEqual(['l1', 'l2', 'l3']);
    await api.delete(`${ROLLOUTS}/l3`);
    const page2 = await api.get(
      `${ROLLOUTS}?labelSelector=tier%3Dlist&limit=2&continue=${page1.body.metadata.continue}`,
    );
    expect(page2.body.items.map(nameOf)).toEqual(['l3']);
    expect(page2.body.metadata.continue).toBe('');
    const byName = await api.get(
      `/apis/fleet.iotistic.io/v1alpha1/imagerollouts?fieldSelector=metadata.name%3Dl4`,
    );
    expect(byName.body.items.map(nameOf)).toEqual(['l4']);
    expect((await api.get(`${ROLLOUTS}?fieldSelector=spec.tag%3Dx`)).status).toBe(400);
    const table = await api.get(`${ROLLOUTS}?labelSelector=tier%3Dother`, { accept: TABLE });
    expect(table.body.kind).toBe('Table');
    expect(table.body.columnDefinitions.slice(0, 3).map(nameOfColumn)).toEqual([
      'Name',
      'Image',
      'Tag',
    ]);
    expect(table.body.rows[0].cells.slice(0, 3)).toEqual(['l4', 'ghcr.io/acme/web', '1.2.3']);
    expect(table.body.rows[0].object.kind).toBe('PartialObjectMetadata');
  });

  it('answers 404 Status for unknown resources and missing objects', async () => {
    expect(
      (await api.get('/apis/fleet.iotistic.io/v1alpha1/namespaces/default/widgets')).status,
    ).toBe(404);
    const missing = await api.get(`${POLICIES}/nope`);
    expect(missing.body).toMatchObject({
      reason: 'NotFound',
      message: 'imagepolicies.fleet.iotistic.io "nope" not found',
    });
    const noNamespace = await api.post(
      '/apis/fleet.iotistic.io/v1alpha1/namespaces/ghost/imagepolicies',
      policy('x'),
    );
    expect(noNamespace.body).toMatchObject({ code: 404, message: 'namespaces "ghost" not found' });
  });

  it('serves Leases (a replace names its resourceVersion), and namespaces with strategic merge patches', async () => {
    const leases = '/apis/coordination.k8s.io/v1/namespaces/default/leases';
    const lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'leader' },
      spec: { holderIdentity: 'a', leaseDurationSeconds: 15 },
    };
    const first = await api.put(`${leases}/leader`, lease);
    expect(first.status).toBe(201);
    const byB = { ...lease, spec: { ...lease.spec, holderIdentity: 'b' } };
    const unconditional = await api.put(`${leases}/leader`, byB);
    expect(unconditional.body).toMatchObject({
      code: 422,
      message: expect.stringContaining('must be specified for an update'),
    });
    const at = (version: string) => ({ ...lease.metadata, resourceVersion: version });
    const updated = await api.put(`${leases}/leader`, {
      ...byB,
      metadata: at(first.body.metadata.resourceVersion),
    });
    expect(updated.body.spec.holderIdentity).toBe('b');
    const invalid = await api.put(`${leases}/leader`, {
      ...lease,
      metadata: at(updated.body.metadata.resourceVersion),
      spec: { leaseDurationSeconds: 0 },
    });
    expect(invalid.status).toBe(422);
    const typeless = await api.post(leases, { metadata: { name: 'typeless' }, spec: {} });
    expect(typeless.body).toMatchObject({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease' });
    const wrongKind = await api.post(leases, { ...lease, kind: 'Pod', metadata: { name: 'x' } });
    expect(wrongKind.status).toBe(400);
    const created = await api.post('/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'team-b', finalizers: ['a.io/x'] },
    });
    expect(created.body.status.phase).toBe('Active');
    const patched = await api.patch(
      '/api/v1/namespaces/team-b',
      { metadata: { finalizers: ['b.io/y'], labels: { x: 'y' } } },
      'application/strategic-merge-patch+json',
    );
    expect(patched.body.metadata.finalizers).toEqual(['a.io/x', 'b.io/y']);
    expect(
      (
        await api.post('/api/v1/namespaces', {
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: { name: 'Bad_Name' },
        })
      ).status,
    ).toBe(422);
  });
});

function rollout(name: string, labels: Record<string, string>) {
  return {
    apiVersion: 'fleet.iotistic.io/v1alpha1',
    kind: 'ImageRollout',
    metadata: { name, labels },
    spec: { policyRef: { name: 'web' }, image: 'ghcr.io/acme/web', tag: '1.2.3' },
  };
}

const nameOf = (item: { metadata: { name: string } }) => item.metadata.name;
const nameOfColumn = (column: { name: string }) => column.name;
