import { createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ImagePolicy, ImageRollout } from '../../src/api/types.js';
import { webhookDeliveries, webhookRollouts } from '../../src/db/schema/index.js';
import { createTestDatabase, databaseBackends, type TestDatabase } from '../support/database.js';
import { type KubeServerHarness, startKubeServer } from '../support/kube-server.js';
import {
  BEARER,
  createTestReceiver,
  TEST_SECRETS,
  type TestReceiver,
} from '../support/webhook-receiver.js';
import { DIGEST_A, DIGEST_B, taggedGhcrPackage, testPolicy } from './fixtures.js';

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
        testPolicy('hello', { image: 'ghcr.io/codertocat/*' }),
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
      await receiver.app.listen({ host: '127.0.0.1', port: 0 });
    }, 60_000);
    afterAll(async () => {
      await receiver?.app.close();
      await test?.drop();
      await server?.stop();
    });
    beforeEach(reset);

    async function reset() {
      await test.database.db.delete(webhookDeliveries);
      await test.database.db.delete(webhookRollouts);
      for (const rollout of await server.kube.imageRollouts.list(undefined)) {
        await server.kube.imageRollouts.delete(
          rollout.metadata.namespace ?? '',
          rollout.metadata.name ?? '',
        );
      }
    }

    function send(body: string) {
      return receiver.app.inject({
        method: 'POST',
        url: '/api/v1/webhooks/generic',
        headers: { 'content-type': 'application/json', ...BEARER },
        payload: body,
      });
    }

    /** A GitHub delivery over HTTP on loopback, signed over exactly the bytes sent. */
    function sendGitHub(body: string, contentType: string) {
      const { port } = receiver.app.server.address() as AddressInfo;
      const signature = createHmac('sha256', TEST_SECRETS.ghcr).update(body).digest('hex');
      return fetch(`http://127.0.0.1:${port}/api/v1/webhooks/ghcr`, {
        method: 'POST',
        headers: {
          'content-type': contentType,
          'x-github-event': 'package',
          'x-github-delivery': 'gh-e2e-1',
          'x-hub-signature-256': `sha256=${signature}`,
        },
        body,
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

    it('matches only the policies of its namespace when it watches one', async () => {
      const scoped = await createTestReceiver({
        database: test.database,
        kube: server.kube,
        namespace: 'shops',
      });
      try {
        const response = await scoped.app.inject({
          method: 'POST',
          url: '/api/v1/webhooks/generic',
          headers: { 'content-type': 'application/json', ...BEARER },
          payload: generic('2.4.0', 'd-scoped'),
        });
        expect(response.statusCode).toBe(200);
        // fleet/web matches this push too (the unscoped receiver creates both, above).
        expect(byPolicy(await server.kube.imageRollouts.list(undefined))).toEqual(['shops/kiosk']);
      } finally {
        await scoped.app.close();
      }
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

    it('creates the same ImageRollout for a GitHub push sent form-encoded as for it sent as JSON', async () => {
      const json = JSON.stringify(taggedGhcrPackage('v3.0.0', DIGEST_B));
      expect((await sendGitHub(json, 'application/json')).status).toBe(200);
      const [fromJson, ...others] = await server.kube.imageRollouts.list(undefined);
      expect(others).toEqual([]);
      await reset();
      const form = new URLSearchParams({ payload: json }).toString();
      expect((await sendGitHub(form, 'application/x-www-form-urlencoded')).status).toBe(200);
      const fromForm = await server.kube.imageRollouts.list(undefined);
      const essentials = ({ metadata, spec }: ImageRollout) => ({
        name: metadata.name,
        namespace: metadata.namespace,
        labels: metadata.labels,
        annotations: metadata.annotations,
        ownerReferences: metadata.ownerReferences,
        spec,
      });
      expect(fromForm.map(essentials)).toEqual([essentials(fromJson!)]);
      expect(fromForm[0]?.spec).toMatchObject({
        policyRef: { name: 'hello' },
        image: 'ghcr.io/codertocat/hello-world',
        tag: 'v3.0.0',
        digest: DIGEST_B,
      });
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
