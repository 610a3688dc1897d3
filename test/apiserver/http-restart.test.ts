import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { clientOf, POLICIES, policy, startTestServer } from '../support/apiserver.js';
import { createTestDatabase, databaseBackends, type TestDatabase } from '../support/database.js';

describe.each(databaseBackends)('restarting the local API server on %s', (backend) => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase(backend);
  });
  afterAll(() => test?.drop());

  it('keeps objects and continues resourceVersions; watches resume from before the restart', async () => {
    const first = await startTestServer(test.database);
    const before = await clientOf(first).post(POLICIES, policy('survivor'));
    const version = Number(before.body.metadata.resourceVersion);
    await first.close();

    const second = await startTestServer(test.database);
    try {
      const api = clientOf(second);
      const kept = await api.get(`${POLICIES}/survivor`);
      expect(kept.body.metadata.uid).toBe(before.body.metadata.uid);
      const watch = await api.watch(`${POLICIES}?watch=1&resourceVersion=${version}`);
      const changed = await api.patch(
        `${POLICIES}/survivor`,
        { spec: { suspend: true } },
        'application/merge-patch+json',
      );
      expect(Number(changed.body.metadata.resourceVersion)).toBe(version + 1);
      await watch.next(1);
      expect(watch.events[0]).toMatchObject({
        type: 'MODIFIED',
        object: { metadata: { name: 'survivor' } },
      });
      watch.close();
    } finally {
      await second.close();
    }
  });
});

describe.runIf(databaseBackends.includes('postgres'))(
  'two local API servers on one Postgres',
  () => {
    let test: TestDatabase;
    beforeAll(async () => {
      test = await createTestDatabase('postgres');
    });
    afterAll(() => test?.drop());

    it('wakes watches across processes and detects conflicting updates', async () => {
      const otherDatabase = await openDatabase({ url: test.url, logger: silentLogger() });
      const a = await startTestServer(test.database);
      const b = await startTestServer(otherDatabase);
      try {
        const apiA = clientOf(a);
        const apiB = clientOf(b);
        const watch = await apiB.watch(`${POLICIES}?watch=1&labelSelector=shared%3Dyes`);
        const created = await apiA.post(POLICIES, policy('shared', { labels: { shared: 'yes' } }));
        await watch.next(1);
        expect(watch.events[0].type).toBe('ADDED');
        const object = created.body;
        const viaA = apiA.put(`${POLICIES}/shared`, {
          ...object,
          spec: { ...object.spec, suspend: true },
        });
        const viaB = apiB.put(`${POLICIES}/shared`, {
          ...object,
          spec: { ...object.spec, resolveDigest: true },
        });
        const statuses = (await Promise.all([viaA, viaB])).map((answer) => answer.status).sort();
        expect(statuses).toEqual([200, 409]);
        await watch.next(2);
        watch.close();
      } finally {
        await a.close();
        await b.close();
        await otherDatabase.close();
      }
    });
  },
);
