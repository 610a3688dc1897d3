import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookDeliveries } from '../../src/db/schema/index.js';
import { createDigestResolver } from '../../src/webhooks/digest-resolver.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startRegistry, type TestRegistry } from '../support/distribution-registry.js';
import { eventually } from '../support/fixtures.js';
import { type KubeServerHarness, startKubeServer } from '../support/kube-server.js';
import { writeOciLayout } from '../support/oci-layout.js';
import {
  createTestReceiver,
  TEST_SECRETS,
  type TestReceiver,
} from '../support/webhook-receiver.js';
import { testPolicy } from './fixtures.js';

const backend = process.env.TEST_DATABASE_URL ? 'postgres' : 'pglite';

describe('a real Distribution registry → the receiver → the local API server', () => {
  let server: KubeServerHarness;
  let test: TestDatabase;
  let receiver: TestReceiver;
  let registry: TestRegistry;
  let layout: string;
  let digest: string;

  beforeAll(async () => {
    server = await startKubeServer(backend);
    await server.namespace('fleet');
    test = await createTestDatabase(backend);
    receiver = await createTestReceiver({ database: test.database, kube: server.kube });
    await receiver.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = receiver.app.server.address() as AddressInfo;
    registry = await startRegistry({
      notifyUrl: `http://127.0.0.1:${port}/api/v1/webhooks/distribution`,
      authorization: `Bearer ${TEST_SECRETS.header}`,
    });
    layout = mkdtempSync(join(tmpdir(), 'fleet-rollout-oci-'));
    digest = writeOciLayout(layout, 'v1', 'hello from the integration test');
    for (const policy of [
      testPolicy('edge-app', { image: `${registry.host}/acme/app` }),
      testPolicy('edge-web', { image: `${registry.host}/acme/web` }),
    ]) {
      await server.kube.imagePolicies.create({
        ...policy,
        metadata: { name: policy.metadata.name, namespace: 'fleet' },
      });
    }
  }, 90_000);
  afterAll(async () => {
    await registry?.stop();
    await receiver?.app.close();
    await test?.drop();
    await server?.stop();
    if (layout) rmSync(layout, { recursive: true, force: true });
  });

  it('creates exactly one ImageRollout for one digest pushed under three tags, none for the other policy', async () => {
    for (const tag of ['v1', 'stable', 'latest'])
      await registry.push(layout, 'v1', 'acme/app', tag);
    await eventually(
      'the three manifest pushes to be processed',
      async () => {
        const done = await test.database.db
          .select()
          .from(webhookDeliveries)
          .where(eq(webhookDeliveries.state, 'done'));
        return done.length >= 3;
      },
      30_000,
    );
    const rollouts = await server.kube.imageRollouts.list(undefined);
    expect(rollouts).toHaveLength(1);
    expect(rollouts[0]).toMatchObject({
      metadata: {
        namespace: 'fleet',
        labels: {
          'fleet.iotistic.io/policy': 'edge-app',
          'fleet.iotistic.io/source': 'distribution',
        },
        annotations: { 'fleet.iotistic.io/digest-source': 'event' },
      },
      spec: {
        policyRef: { name: 'edge-app' },
        image: `${registry.host}/acme/app`,
        tag: 'v1',
        digest,
      },
    });
  });

  it('resolves a tag to the digest the registry serves', async () => {
    const resolve = createDigestResolver({ timeoutMs: 5000, plainHttpRegistries: [registry.host] });
    const image = {
      registry: registry.host,
      repository: `${registry.host}/acme/app`,
      tag: 'stable',
    };
    expect(await resolve(image)).toBe(digest);
  });
});
