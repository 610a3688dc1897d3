import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { events } from '../../src/db/schema/index.js';
import { createDigestResolver } from '../../src/webhooks/digest-resolver.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startRegistry, type TestRegistry } from '../support/distribution-registry.js';
import { MemoryKube } from '../support/memory-kube.js';
import { writeOciLayout } from '../support/oci-layout.js';
import {
  createTestReceiver,
  TEST_SECRETS,
  type TestReceiver,
} from '../support/webhook-receiver.js';
import { testPolicy } from './fixtures.js';

/** Polls until `check` returns true or the time is up. */
async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('a real Distribution registry notifying the receiver', () => {
  let test: TestDatabase;
  let kube: MemoryKube;
  let receiver: TestReceiver;
  let registry: TestRegistry;
  let layout: string;
  let digest: string;

  beforeAll(async () => {
    test = await createTestDatabase(process.env.TEST_DATABASE_URL ? 'postgres' : 'pglite');
    kube = new MemoryKube();
    receiver = await createTestReceiver({ database: test.database, kube });
    await receiver.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = receiver.app.server.address() as AddressInfo;
    registry = await startRegistry({
      notifyUrl: `http://127.0.0.1:${port}/api/v1/webhooks/distribution`,
      authorization: `Bearer ${TEST_SECRETS.header}`,
    });
    layout = mkdtempSync(join(tmpdir(), 'fleet-rollout-oci-'));
    digest = writeOciLayout(layout, 'v1', 'hello from the e2e test');
    kube.policies = [
      testPolicy('edge-app', { image: `${registry.host}/acme/app`, tags: { pattern: '*' } }),
      testPolicy('edge-web', { image: `${registry.host}/acme/web` }),
    ];
  }, 60_000);
  afterAll(async () => {
    await registry?.stop();
    await receiver?.app.close();
    await test?.drop();
    if (layout) rmSync(layout, { recursive: true, force: true });
  });

  it('creates exactly one rollout for one digest pushed under three tags, none for other policies', async () => {
    for (const tag of ['v1', 'stable', 'latest'])
      await registry.push(layout, 'v1', 'acme/app', tag);
    await eventually(async () => {
      const received = await test.database.db
        .select()
        .from(events)
        .where(eq(events.type, 'image.webhook_received'));
      return received.flatMap((row) => row.payload.pushes as string[]).length >= 3;
    }, 'three manifest pushes to arrive');
    const rollouts = [...kube.rollouts.values()];
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
