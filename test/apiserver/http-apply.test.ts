import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiServer } from '../../src/apiserver/index.js';
import { clientOf, POLICIES, policy, startTestServer } from '../support/apiserver.js';
import { createTestDatabase, databaseBackends, type TestDatabase } from '../support/database.js';

const APPLY = 'application/apply-patch+yaml';

describe.each(databaseBackends)('server-side apply on %s', (backend) => {
  let test: TestDatabase;
  let server: ApiServer;
  let api: ReturnType<typeof clientOf>;
  const apply = (name: string, body: unknown, query: string) =>
    api.patch(`${POLICIES}/${name}?${query}`, body, APPLY);
  const managers = (object: {
    metadata: { managedFields?: Array<{ manager: string; operation: string }> };
  }) => (object.metadata.managedFields ?? []).map((entry) => `${entry.manager}/${entry.operation}`);

  beforeAll(async () => {
    test = await createTestDatabase(backend);
    server = await startTestServer(test.database);
    api = clientOf(server);
  });
  afterAll(async () => {
    await server?.close();
    await test?.drop();
  });

  it('creates from YAML, records the applier as owner, and requires a field manager', async () => {
    const yaml = [
      'apiVersion: fleet.iotistic.io/v1alpha1',
      'kind: ImagePolicy',
      'metadata: {name: applied, labels: {team: a}}',
      'spec: {image: ghcr.io/acme/web, selector: {fleets: [edge]}}',
    ].join('\n');
    expect((await apply('applied', yaml, '')).status).toBe(400);
    const created = await apply('applied', yaml, 'fieldManager=alice');
    expect(created.status).toBe(201);
    const [entry] = created.body.metadata.managedFields;
    expect(entry).toMatchObject({ manager: 'alice', operation: 'Apply', fieldsType: 'FieldsV1' });
    expect(entry.fieldsV1).toEqual({
      'f:metadata': { 'f:labels': { 'f:team': {} } },
      'f:spec': { 'f:image': {}, 'f:selector': { 'f:fleets': { 'v:"edge"': {} } } },
    });
    const again = await apply('applied', yaml, 'fieldManager=alice');
    expect(again.status).toBe(200);
    expect(again.body.metadata.resourceVersion).toBe(created.body.metadata.resourceVersion);
  });

  it('answers 409 with the upstream message when another applier changes an owned field', async () => {
    await apply('contested', policy('contested'), 'fieldManager=alice');
    const bob = policy('contested', { spec: { image: 'ghcr.io/acme/other' } });
    const conflict = await apply('contested', bob, 'fieldManager=bob');
    expect(conflict.status).toBe(409);
    expect(conflict.body).toMatchObject({
      reason: 'Conflict',
      message: 'Apply failed with 1 conflict: conflict with "alice": .spec.image',
      details: {
        causes: [
          {
            reason: 'FieldManagerConflict',
            message: 'conflict with "alice"',
            field: '.spec.image',
          },
        ],
      },
    });
    const sameValue = await apply('contested', policy('contested'), 'fieldManager=bob');
    expect(sameValue.status).toBe(200);
    const forced = await apply('contested', bob, 'fieldManager=bob&force=true');
    expect(forced.status).toBe(200);
    expect(forced.body.spec.image).toBe('ghcr.io/acme/other');
    const alice = forced.body.metadata.managedFields.find(
      (e: { manager: string }) => e.manager === 'alice',
    );
    expect(alice.fieldsV1['f:spec']['f:image']).toBeUndefined();
  });

  it('names updaters with their API version in conflicts', async () => {
    await api.post(`${POLICIES}?fieldManager=editor`, policy('updated'));
    const applied = await apply(
      'updated',
      policy('updated', { spec: { image: 'ghcr.io/acme/x' } }),
      'fieldManager=alice',
    );
    expect(applied.body.message).toBe(
      'Apply failed with 1 conflict: conflict with "editor" using fleet.iotistic.io/v1alpha1: .spec.image',
    );
  });

  it('removes fields the applier stops applying unless another manager owns them', async () => {
    const full = policy('pruned', { spec: { suspend: true, resolveDigest: true } });
    await apply('pruned', full, 'fieldManager=alice');
    await api.patch(
      `${POLICIES}/pruned?fieldManager=editor`,
      { spec: { resolveDigest: false } },
      'application/merge-patch+json',
    );
    const smaller = await apply('pruned', policy('pruned'), 'fieldManager=alice');
    expect(smaller.status).toBe(200);
    expect(smaller.body.spec.suspend).toBe(false);
    expect(smaller.body.spec.resolveDigest).toBe(false);
    expect(managers(smaller.body)).toEqual(['alice/Apply', 'editor/Update']);
  });

  it('applies status through the status subresource without touching the spec', async () => {
    await apply('with-status', policy('with-status'), 'fieldManager=alice');
    const status = { ...policy('with-status'), spec: undefined, status: { selectedDevices: 3 } };
    const written = await api.patch(
      `${POLICIES}/with-status/status?fieldManager=controller`,
      status,
      APPLY,
    );
    expect(written.status).toBe(200);
    expect(written.body.status.selectedDevices).toBe(3);
    expect(written.body.spec.image).toBe('ghcr.io/acme/web');
    const entry = written.body.metadata.managedFields.find(
      (e: { manager: string }) => e.manager === 'controller',
    );
    expect(entry).toMatchObject({
      subresource: 'status',
      fieldsV1: { 'f:status': { 'f:selectedDevices': {} } },
    });
  });

  it('records updates by the request field manager or the user agent', async () => {
    const created = await api.post(POLICIES, policy('agent'), {
      'user-agent': 'fleet-controller/1.0 (linux)',
    });
    expect(managers(created.body)).toEqual(['fleet-controller/Update']);
    const patched = await api.patch(
      `${POLICIES}/agent?fieldManager=kubectl-patch`,
      { metadata: { labels: { a: 'b' } } },
      'application/merge-patch+json',
    );
    expect(managers(patched.body)).toEqual(['fleet-controller/Update', 'kubectl-patch/Update']);
  });
});
