import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../src/db/client.js';
import { events, webhookDeliveries, webhookRollouts } from '../../src/db/schema/index.js';
import { createWebhookStore } from '../../src/db/webhook-store.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import type { DigestResolver } from '../../src/webhooks/digest-resolver.js';
import { createTestDatabase, databaseBackends, type TestDatabase } from '../support/database.js';
import { MemoryKube } from '../support/memory-kube.js';
import {
  BEARER,
  createTestReceiver,
  TEST_SECRETS,
  type TestReceiver,
} from '../support/webhook-receiver.js';
import { DIGEST_A, DIGEST_B, testPolicy } from './fixtures.js';

/** A Distribution envelope announcing one manifest pushed under `tag`. */
function manifestPush(id: string, tag: string, digest = DIGEST_A): string {
  return JSON.stringify({
    events: [
      {
        id,
        timestamp: '2024-05-01T10:00:00Z',
        action: 'push',
        target: {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest,
          repository: 'acme/app',
          tag,
        },
        request: { host: 'registry.example.com' },
      },
    ],
  });
}

describe.each(databaseBackends)('de-duplication on %s', (backend) => {
  let test: TestDatabase;
  let second: Database | undefined;
  let kube: MemoryKube;
  let replicas: TestReceiver[];
  let now: number;

  beforeAll(async () => {
    test = await createTestDatabase(backend);
    // A second replica gets its own connection pool when there is a server to connect to.
    if (test.url) second = await openDatabase({ url: test.url, logger: silentLogger() });
  });
  afterAll(async () => {
    await second?.close();
    await test?.drop();
  });
  beforeEach(async () => {
    await test.database.db.delete(webhookDeliveries);
    await test.database.db.delete(webhookRollouts);
    await test.database.db.delete(events);
    now = Date.parse('2024-05-01T10:00:00Z');
    kube = new MemoryKube();
    kube.policies = [
      testPolicy('web', { image: 'registry.example.com/acme/*' }),
      testPolicy('kiosk', { image: 'registry.example.com/acme/app' }, 'shops'),
    ];
    replicas = await Promise.all(
      [test.database, second ?? test.database].map((database) =>
        createTestReceiver({
          database,
          kube,
          now: () => new Date(now),
          config: { rateLimit: { perMinute: 6000, burst: 1000 } },
        }),
      ),
    );
  });

  function send(body: string, replica = 0, path = 'distribution', headers = BEARER) {
    return replicas[replica % replicas.length]!.app.inject({
      method: 'POST',
      url: `/api/v1/webhooks/${path}`,
      headers: { 'content-type': 'application/json', ...headers },
      payload: body,
    });
  }

  async function eventsOf(type: string) {
    return test.database.db.select().from(events).where(eq(events.type, type));
  }

  it('turns the same delivery sent 50 times at once into one rollout per policy', async () => {
    const body = manifestPush('event-1', 'v1.0.0');
    const responses = await Promise.all(Array.from({ length: 50 }, (_, i) => send(body, i)));
    expect(responses.map((r) => r.statusCode)).toEqual(Array(50).fill(200));
    expect([...kube.rollouts.keys()].map((key) => key.split('/')[0]).sort()).toEqual([
      'fleet',
      'shops',
    ]);
    expect(await eventsOf('image.rollout_created')).toHaveLength(2);
    const bodies = responses.map((r) => r.json());
    expect(bodies.filter((b) => b.rollouts.length === 2)).toHaveLength(1);
    expect(bodies.filter((b) => b.duplicates.includes('event-1'))).toHaveLength(49);
  });

  it('turns one digest pushed under three tags at once into one rollout per policy', async () => {
    const tags = ['1.4.0', 'stable', 'latest'];
    const responses = await Promise.all(
      tags.map((tag, i) => send(manifestPush(`event-${tag}`, tag), i)),
    );
    expect(responses.map((r) => r.statusCode)).toEqual([200, 200, 200]);
    expect(kube.rollouts.size).toBe(2);
    for (const rollout of kube.rollouts.values()) expect(rollout.spec.digest).toBe(DIGEST_A);
    const created = responses
      .flatMap((r) => r.json().rollouts)
      .filter((r: { created: boolean }) => r.created);
    expect(created).toHaveLength(2);
  });

  it('does not roll a digest out again after its rollout was deleted', async () => {
    await send(manifestPush('event-1', 'v1'));
    kube.rollouts.clear();
    await send(manifestPush('event-2', 'v1-again'));
    expect(kube.rollouts.size).toBe(0);
    await send(manifestPush('event-3', 'v2', DIGEST_B));
    expect(kube.rollouts.size).toBe(2);
  });

  it('processes a delivery seen again after the window, creating nothing new', async () => {
    const first = await send(manifestPush('event-1', 'v1'));
    expect(first.json().rollouts).toHaveLength(2);
    const soon = await send(manifestPush('event-1', 'v1'));
    expect(soon.json()).toMatchObject({ rollouts: [], duplicates: ['event-1'] });
    now += 86_400_000 + 1000;
    const later = await send(manifestPush('event-1', 'v1'));
    expect(later.json().rollouts.map((r: { created: boolean }) => r.created)).toEqual([
      false,
      false,
    ]);
    expect(kube.rollouts.size).toBe(2);
  });

  it('takes over a delivery whose replica died while processing it', async () => {
    const store = createWebhookStore(test.database.db);
    const claim = { leaseMs: 60_000, windowMs: 86_400_000 };
    expect(
      await store.claimDelivery('distribution', 'event-1', {
        ...claim,
        now: new Date(now - 30_000),
      }),
    ).toBe(true);
    expect((await send(manifestPush('event-1', 'v1'))).json().duplicates).toEqual(['event-1']);
    now += 31_000;
    expect((await send(manifestPush('event-1', 'v1'))).json().rollouts).toHaveLength(2);
    const [row] = await test.database.db.select().from(webhookDeliveries);
    expect(row).toMatchObject({ state: 'done', attempts: 2 });
  });

  it('forgets finished deliveries claimed before a time, and keeps the rest', async () => {
    const store = createWebhookStore(test.database.db);
    const claim = { leaseMs: 60_000, windowMs: 86_400_000 };
    const at = (ms: number) => ({ ...claim, now: new Date(ms) });
    await store.claimDelivery('quay', 'old-done', at(now - 10_000));
    await store.finishDelivery('quay', 'old-done', 'done', {});
    await store.claimDelivery('quay', 'old-processing', at(now - 10_000));
    await store.claimDelivery('quay', 'new-done', at(now));
    await store.finishDelivery('quay', 'new-done', 'done', {});
    expect(await store.pruneDeliveries(new Date(now - 1000))).toBe(1);
    const left = await test.database.db.select().from(webhookDeliveries);
    expect(left.map((row) => row.deliveryId).sort()).toEqual(['new-done', 'old-processing']);
  });

  describe('digest resolution', () => {
    const dockerHubPush = (tag: string) =>
      JSON.stringify({
        push_data: { tag, pushed_at: 1714557600 },
        repository: { repo_name: 'acme/app' },
      });

    async function receiverResolving(resolveDigest: DigestResolver) {
      kube.policies = [testPolicy('hub', { image: 'docker.io/acme/app', resolveDigest: true })];
      return createTestReceiver({ database: test.database, kube, resolveDigest });
    }

    async function sendHub(receiver: TestReceiver, tag: string) {
      return receiver.app.inject({
        method: 'POST',
        url: `/api/v1/webhooks/dockerhub/${TEST_SECRETS.path}`,
        headers: { 'content-type': 'application/json' },
        payload: dockerHubPush(tag),
      });
    }

    it('pins the digest the registry reports, so tags of one digest are one rollout', async () => {
      const asked: string[] = [];
      const receiver = await receiverResolving(async (image) => {
        asked.push(`${image.repository}:${image.tag}`);
        return DIGEST_A;
      });
      await sendHub(receiver, '1.0.0');
      await sendHub(receiver, 'stable');
      expect(asked).toEqual(['docker.io/acme/app:1.0.0', 'docker.io/acme/app:stable']);
      const [rollout, ...more] = [...kube.rollouts.values()];
      expect(more).toEqual([]);
      expect(rollout?.spec).toMatchObject({ tag: '1.0.0', digest: DIGEST_A });
      expect(rollout?.metadata.annotations?.['fleet.iotistic.io/digest-source']).toBe('registry');
    });

    it('falls back to the tag, and says why, when the registry cannot be asked', async () => {
      const receiver = await receiverResolving(async () => {
        throw new Error('cannot reach registry-1.docker.io');
      });
      const response = await sendHub(receiver, '1.0.0');
      expect(response.statusCode).toBe(200);
      const [rollout] = [...kube.rollouts.values()];
      expect(rollout?.spec.digest).toBeUndefined();
      expect(rollout?.metadata.annotations?.['fleet.iotistic.io/digest-resolution-error']).toBe(
        'cannot reach registry-1.docker.io',
      );
      expect(await receiver.metrics()).toContain(
        'fleet_rollout_webhook_digest_resolutions_total{result="failed"} 1',
      );
    });
  });
});
