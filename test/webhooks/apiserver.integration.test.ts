import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ImagePolicy, ImageRollout } from '../../src/api/types.js';
import { webhookDeliveries, webhookRollouts } from '../../src/db/schema/index.js';
import { createTestDatabase, databaseBackends, type TestDatabase } from '../support/database.js';
import { type KubeServerHarness, startKubeServer } from '../support/kube-server.js';
import { BEARER, createTestReceiver, type TestReceiver } from '../support/webhook-receiver.js';
import { DIGEST_A, testPolicy } from './fixtures.js';

function generic(tag: string, id: string, digest = DIGEST_A): string {
  return JSON.stringify({ image: 'registry.example.com/acme/app', tag, digest, id });
}

describe.each(databaseBackends)(
  'receiver creating rollouts on the local API server (%s)',
  (backend) => {
    let server: KubeServerHarness;
    let test: TestDatabase;
    let receiver: TestReceiver;
    let policies: ImagePolicy[];

    beforeAll(async () => {
      server = await startKubeServer(backend);
      test = await createTestDatabase(backend);
      await server.namespace('fleet');
      await server.namespace('shops');
      const specs = [
        testPolicy('web', {
          image: 'registry.example.com/acme/*',
          strategy: { type: 'Staged', batches: [20, 100], interval: '1m' },
          failurePolicy: { maxFailurePercent: 5, action: 'Rollback' },
        }),
        testPolicy(
          'kiosk',
          { image: 'registry.example.com/acme/app', tags: { semver: '^2' } },
          'shops',
        ),
        testPolicy('paused', { image: 'registry.example.com/acme/app', suspend: true }),
        testPolicy('other', { image: 'registry.example.com/acme/other' }),
      ].map(({ metadata: { name, namespace }, ...rest }) => ({
        ...rest,
        metadata: { name, namespace },
      }));
      policies = await Promise.all(specs.map((policy) => server.kube.imagePolicies.create(policy)));
      receiver = await createTestReceiver({
        database: test.database,
        kube: server.kube,
        config: { rateLimit: { perMinute: 6000, burst: 1000 } },
      });
    }, 60_000);
    afterAll(async () => {
      await receiver?.app.close();
      await test?.drop();
      await server?.stop();
    });
    beforeEach(async () => {
      await test.database.db.delete(webhookDeliveries);
      await test.database.db.delete(webhookRollouts);
      for (const rollout of await server.kube.imageRollouts.list(undefined)) {
        await server.kube.imageRollouts.delete(
          rollout.metadata.namespace ?? '',
          rollout.metadata.name ?? '',
        );
      }
    });

    function send(body: string) {
      return receiver.app.inject({
        method: 'POST',
        url: '/api/v1/webhooks/generic',
        headers: { 'content-type': 'application/json', ...BEARER },
        payload: body,
      });
    }

    const byPolicy = (rollouts: ImageRollout[]) =>
      rollouts.map((r) => `${r.metadata.namespace}/${r.spec.policyRef.name}`).sort();

    it('creates one rollout per matching policy for the same delivery sent 50 times at once', async () => {
      const responses = await Promise.all(
        Array.from({ length: 50 }, () => send(generic('2.1.0', 'd-1'))),
      );
      expect(new Set(responses.map((r) => r.statusCode))).toEqual(new Set([200]));
      expect(byPolicy(await server.kube.imageRollouts.list(undefined))).toEqual([
        'fleet/web',
        'shops/kiosk',
      ]);
    });

    it('creates one rollout per policy for one digest pushed under three tags at once', async () => {
      const tags = ['2.2.0', '2.2', '2'];
      await Promise.all(tags.map((tag) => send(generic(tag, `d-${tag}`))));
      const rollouts = await server.kube.imageRollouts.list(undefined);
      expect(byPolicy(rollouts)).toEqual(['fleet/web', 'shops/kiosk']);
      for (const rollout of rollouts) expect(rollout.spec.digest).toBe(DIGEST_A);
    });

    it('writes a valid rollout with the policy snapshot, owner and links', async () => {
      await send(generic('2.3.0', 'd-snapshot'));
      const [rollout] = await server.kube.imageRollouts.list('fleet');
      const web = policies.find((policy) => policy.metadata.name === 'web')!;
      expect(rollout?.spec).toMatchObject({
        policyRef: { name: 'web' },
        image: 'registry.example.com/acme/app',
        tag: '2.3.0',
        digest: DIGEST_A,
        selector: web.spec.selector,
        strategy: web.spec.strategy,
        failurePolicy: web.spec.failurePolicy,
      });
      expect(rollout?.metadata.ownerReferences).toEqual([
        expect.objectContaining({
          kind: 'ImagePolicy',
          name: 'web',
          uid: web.metadata.uid,
          controller: true,
        }),
      ]);
      expect(rollout?.metadata.annotations?.['fleet.iotistic.io/delivery-id']).toBe('d-snapshot');
      const selected = await server.kube.imageRollouts.list(undefined, {
        labelSelector: 'fleet.iotistic.io/policy=web,fleet.iotistic.io/source=generic',
      });
      expect(selected.map((r) => r.metadata.name)).toEqual([rollout?.metadata.name]);
    });

    it('reports a rollout the API server refuses, without a retry', async () => {
      const image = `registry.example.com/acme/${'a'.repeat(240)}`;
      const response = await send(JSON.stringify({ image, tag: '1.0.0' }));
      expect(response.statusCode).toBe(200);
      expect(response.json().rollouts).toEqual([
        expect.objectContaining({
          policy: 'web',
          created: false,
          error: expect.stringContaining('spec.image'),
        }),
      ]);
      expect(await server.kube.imageRollouts.list(undefined)).toEqual([]);
    });
  },
);
