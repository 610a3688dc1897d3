import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseBackends } from '../support/database.js';
import { ADMIN, type ManagementHarness, startManagement } from '../support/management.js';

const SPEC = { image: 'ghcr.io/acme/web', selector: { fleets: ['edge'] } };

describe.each(databaseBackends)('management API: policies (%s)', (backend) => {
  let h: ManagementHarness;

  beforeAll(async () => {
    h = await startManagement(backend);
    await h.server.namespace('shops');
  });
  afterAll(() => h?.stop());

  const send = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object) =>
    h.app.inject({ method, url, headers: ADMIN, ...(payload === undefined ? {} : { payload }) });

  it('creates a policy that kubectl then sees, with a Location', async () => {
    const answer = await send('POST', '/api/v1/policies', {
      apiVersion: 'fleet.iotistic.io/v1alpha1',
      kind: 'ImagePolicy',
      metadata: { name: 'web', labels: { team: 'edge' } },
      spec: { ...SPEC, strategy: { type: 'Manual', batches: [10, 100] } },
    });
    expect(answer.statusCode).toBe(201);
    expect(answer.headers.location).toBe('/api/v1/policies/default/web');
    const stored = await h.kube.imagePolicies.get('default', 'web');
    expect(stored?.spec.strategy).toMatchObject({ type: 'Manual', batches: [10, 100] });
    expect(stored?.metadata.labels).toEqual({ team: 'edge' });
    expect(answer.json()).toMatchObject({
      kind: 'ImagePolicy',
      metadata: { name: 'web', namespace: 'default', uid: stored?.metadata.uid },
      spec: stored?.spec,
    });
  });

  it('creates in the namespace the body names', async () => {
    const answer = await send('POST', '/api/v1/policies', {
      metadata: { name: 'kiosk', namespace: 'shops' },
      spec: SPEC,
    });
    expect(answer.statusCode).toBe(201);
    expect(await h.kube.imagePolicies.get('shops', 'kiosk')).toBeDefined();
  });

  it('answers 409 for a name that is taken, and changes nothing', async () => {
    const before = await h.kube.imagePolicies.get('default', 'web');
    const answer = await send('POST', '/api/v1/policies', {
      metadata: { name: 'web' },
      spec: { ...SPEC, image: 'ghcr.io/acme/other' },
    });
    expect(answer.statusCode).toBe(409);
    expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(answer.json().detail).toMatch(/already exists/);
    const after = await h.kube.imagePolicies.get('default', 'web');
    expect(after?.metadata.resourceVersion).toBe(before?.metadata.resourceVersion);
  });

  it('answers 400 naming the field the CRD refuses', async () => {
    const answer = await send('POST', '/api/v1/policies', {
      metadata: { name: 'broken' },
      spec: { ...SPEC, strategy: { batches: [50, 10] } },
    });
    expect(answer.statusCode).toBe(400);
    const body = answer.json();
    expect(body.errors.map((e: { path: string }) => e.path)).toContain('spec.strategy.batches');
    expect(await h.kube.imagePolicies.get('default', 'broken')).toBeUndefined();
  });

  it.each([
    ['no metadata', { spec: SPEC }, /metadata/],
    ['no spec', { metadata: { name: 'x' } }, /spec/],
    ['a bad name', { metadata: { name: 'Web_1' }, spec: SPEC }, /name/],
    ['another kind', { kind: 'ImageRollout', metadata: { name: 'x' }, spec: SPEC }, /kind/],
    [
      'an unknown metadata field',
      { metadata: { name: 'x', uid: 'u' }, spec: SPEC },
      /uid|additional/,
    ],
  ])('answers 400 for a body with %s', async (_, payload, detail) => {
    const answer = await send('POST', '/api/v1/policies', payload);
    expect(answer.statusCode).toBe(400);
    expect(JSON.stringify(answer.json())).toMatch(detail);
  });

  it('gets one policy as kubectl sees it, and lists them paged', async () => {
    const one = await send('GET', '/api/v1/policies/default/web');
    expect(one.statusCode).toBe(200);
    expect(one.json()).toEqual(await h.kube.imagePolicies.get('default', 'web'));
    const first = await send('GET', '/api/v1/policies?limit=1');
    expect(first.json().items.map((p: { metadata: { name: string } }) => p.metadata.name)).toEqual([
      'web',
    ]);
    expect(first.json().total).toBe(2);
    const second = await send(
      'GET',
      `/api/v1/policies?limit=1&continue=${encodeURIComponent(first.json().continue)}`,
    );
    expect(second.json().items[0].metadata).toMatchObject({ namespace: 'shops', name: 'kiosk' });
    expect(second.json().continue).toBeUndefined();
    const shops = await send('GET', '/api/v1/policies?namespace=shops');
    expect(shops.json().total).toBe(1);
  });

  it('replaces the spec, and refuses a stale resourceVersion with 409', async () => {
    const before = await h.kube.imagePolicies.get('default', 'web');
    const spec = { ...SPEC, tags: { semver: '^1' } };
    const answer = await send('PUT', '/api/v1/policies/default/web', { spec });
    expect(answer.statusCode).toBe(200);
    const after = await h.kube.imagePolicies.get('default', 'web');
    expect(after?.spec.tags).toMatchObject({ semver: '^1' });
    // The spec is replaced whole: the Manual strategy it had is gone.
    expect(after?.spec.strategy?.type).not.toBe('Manual');
    expect(after?.metadata.labels).toEqual({ team: 'edge' });
    expect(answer.json().metadata.resourceVersion).toBe(after?.metadata.resourceVersion);

    const stale = await send('PUT', '/api/v1/policies/default/web', {
      metadata: { resourceVersion: before?.metadata.resourceVersion },
      spec: SPEC,
    });
    expect(stale.statusCode).toBe(409);
    expect(stale.json().detail).toMatch(/modified/);
    const unchanged = await h.kube.imagePolicies.get('default', 'web');
    expect(unchanged?.spec.tags).toMatchObject({ semver: '^1' });
  });

  it('refuses a replace whose body names another policy, or an invalid spec', async () => {
    const renamed = await send('PUT', '/api/v1/policies/default/web', {
      metadata: { name: 'other' },
      spec: SPEC,
    });
    expect(renamed.statusCode).toBe(400);
    expect(renamed.json().errors).toEqual([
      { path: '/metadata/name', message: 'must be web, the name in the path' },
    ]);
    const invalid = await send('PUT', '/api/v1/policies/default/web', {
      spec: { ...SPEC, failurePolicy: { maxFailurePercent: 101 } },
    });
    expect(invalid.statusCode).toBe(400);
    expect(JSON.stringify(invalid.json().errors)).toMatch(/maxFailurePercent/);
  });

  it('disables and enables through spec.suspend', async () => {
    const disabled = await send('POST', '/api/v1/policies/default/web/disable');
    expect(disabled.statusCode).toBe(200);
    expect(disabled.json().spec.suspend).toBe(true);
    expect((await h.kube.imagePolicies.get('default', 'web'))?.spec.suspend).toBe(true);
    const again = await send('POST', '/api/v1/policies/default/web/disable');
    expect(again.statusCode).toBe(200);
    const enabled = await send('POST', '/api/v1/policies/default/web/enable');
    expect(enabled.statusCode).toBe(200);
    expect((await h.kube.imagePolicies.get('default', 'web'))?.spec.suspend).toBe(false);
  });

  it.each([
    ['GET', '/api/v1/policies/default/nope'],
    ['PUT', '/api/v1/policies/default/nope'],
    ['DELETE', '/api/v1/policies/default/nope'],
    ['POST', '/api/v1/policies/default/nope/enable'],
    ['POST', '/api/v1/policies/default/nope/disable'],
  ] as const)('%s %s answers 404 and creates nothing', async (method, url) => {
    const answer = await send(method, url, method === 'PUT' ? { spec: SPEC } : undefined);
    expect(answer.statusCode).toBe(404);
    expect(answer.json().detail).toMatch(/"nope" not found/);
    expect(await h.kube.imagePolicies.get('default', 'nope')).toBeUndefined();
  });

  it('deletes a policy', async () => {
    const answer = await send('DELETE', '/api/v1/policies/shops/kiosk');
    expect(answer.statusCode).toBe(204);
    expect(answer.body).toBe('');
    expect(await h.kube.imagePolicies.get('shops', 'kiosk')).toBeUndefined();
  });

  it.each([
    ['GET', '/api/v1/policies'],
    ['POST', '/api/v1/policies'],
    ['PUT', '/api/v1/policies/default/web'],
    ['DELETE', '/api/v1/policies/default/web'],
    ['POST', '/api/v1/policies/default/web/disable'],
  ] as const)('%s %s needs the admin token (401), and changes nothing', async (method, url) => {
    const before = await h.kube.imagePolicies.get('default', 'web');
    const answer = await h.app.inject({
      method,
      url,
      headers: { authorization: 'Bearer wrong-token-wrong-token' },
      ...(method === 'GET' || method === 'DELETE'
        ? {}
        : { payload: { metadata: { name: 'x' }, spec: SPEC } }),
    });
    expect(answer.statusCode).toBe(401);
    const after = await h.kube.imagePolicies.get('default', 'web');
    expect(after?.metadata.resourceVersion).toBe(before?.metadata.resourceVersion);
  });

  it('answers 503 when the API server is unreachable', async () => {
    const app = await h.unreachable();
    const answer = await app.inject({
      method: 'POST',
      url: '/api/v1/policies/default/web/disable',
      headers: ADMIN,
    });
    expect(answer.statusCode).toBe(503);
    expect(answer.headers['retry-after']).toBeDefined();
  });
});
