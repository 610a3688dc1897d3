import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChangeFeed } from '../../src/apiserver/storage/change-feed.js';
import {
  type Change,
  type ObjectKey,
  ObjectStore,
  type StoredObject,
} from '../../src/apiserver/storage/store.js';
import { openDatabase } from '../../src/db/client.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { createTestDatabase, databaseBackends, type TestDatabase } from '../support/database.js';
import { eventually } from '../support/eventually.js';

const RESOURCE = 'widgets.example.com';

function key(name: string, namespace = 'default'): ObjectKey {
  return { resource: RESOURCE, namespace, name };
}

function object(name: string, labels: Record<string, string> = {}, namespace = 'default') {
  return {
    apiVersion: 'example.com/v1',
    kind: 'Widget',
    metadata: { name, namespace, uid: randomUUID(), labels },
  };
}

async function create(store: ObjectStore, name: string, labels: Record<string, string> = {}) {
  return store.write((w) => w.insert(key(name), object(name, labels)));
}

async function update(store: ObjectStore, name: string, labels: Record<string, string>) {
  return store.write(async (w) => {
    const current = (await w.get(key(name))) as StoredObject;
    return w.replace(key(name), current, { ...current, metadata: { ...current.metadata, labels } });
  });
}

async function remove(store: ObjectStore, name: string) {
  return store.write(async (w) => {
    const current = (await w.get(key(name))) as StoredObject;
    return w.remove(key(name), current, current);
  });
}

const names = (objects: StoredObject[]) => objects.map((o) => o.metadata.name);

function collect(feed: ChangeFeed, from: number) {
  const changes: Change[] = [];
  const subscription = feed.subscribe(RESOURCE, from, {
    deliver: (change) => changes.push(change),
    expire: () => {},
  });
  return { changes, subscription };
}

describe.each(databaseBackends)('object store on %s', (backend) => {
  let test: TestDatabase;
  let store: ObjectStore;
  let feed: ChangeFeed;

  beforeAll(async () => {
    test = await createTestDatabase(backend);
    feed = undefined as unknown as ChangeFeed;
    store = new ObjectStore(test.database, () => feed.poke());
    await store.init();
    await store.init();
    feed = new ChangeFeed(store, test.database, silentLogger(), 60_000);
    await feed.start();
  });
  afterAll(async () => {
    await feed?.stop();
    await test?.drop();
  });

  it('assigns increasing resourceVersions and logs each change', async () => {
    const before = (await store.state()).resourceVersion;
    const created = await create(store, 'a');
    const updated = await update(store, 'a', { x: '1' });
    const deleted = await remove(store, 'a');
    expect([created, updated, deleted].map((o) => Number(o.metadata.resourceVersion))).toEqual([
      before + 1,
      before + 2,
      before + 3,
    ]);
    expect(await store.get(key('a'))).toBeUndefined();
    const changes = await store.changesSince(before, RESOURCE);
    expect(changes.map((c) => [c.type, c.prevObject?.metadata.resourceVersion])).toEqual([
      ['ADDED', undefined],
      ['MODIFIED', String(before + 1)],
      ['DELETED', String(before + 2)],
    ]);
  });

  it('rolls back a failed write transaction entirely', async () => {
    const before = await store.state();
    await expect(
      store.write(async (w) => {
        await w.insert(key('rolled-back'), object('rolled-back'));
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await store.get(key('rolled-back'))).toBeUndefined();
    expect(await store.state()).toEqual(before);
  });

  it('pages through a filtered list and rebuilds an older state from the log', async () => {
    for (const name of ['p1', 'p2', 'p3', 'p4', 'p5']) await create(store, name, { page: 'yes' });
    await create(store, 'p0', { page: 'no' });
    const filter = (o: StoredObject) =>
      (o.metadata.labels as Record<string, string>).page === 'yes';
    const first = await store.list({ resource: RESOURCE, namespace: 'default', limit: 2, filter });
    expect(names(first.objects)).toEqual(['p1', 'p2']);
    expect(first.more).toBe(true);

    await update(store, 'p3', { page: 'no' });
    await remove(store, 'p4');
    await create(store, 'p35', { page: 'yes' });

    const rest = await store.listAt(
      {
        resource: RESOURCE,
        namespace: 'default',
        after: { namespace: 'default', name: 'p2' },
        filter,
      },
      first.resourceVersion,
    );
    expect(names(rest.objects)).toEqual(['p3', 'p4', 'p5']);
    expect(rest.resourceVersion).toBe(first.resourceVersion);
    const now = await store.list({ resource: RESOURCE, filter });
    expect(names(now.objects)).toEqual(['p1', 'p2', 'p35', 'p5']);
  });

  it('delivers catch-up and live changes to a subscription', async () => {
    const from = (await store.state()).resourceVersion;
    await create(store, 'w1');
    const { changes, subscription } = collect(feed, from);
    await subscription;
    expect(changes.map((c) => [c.type, c.name])).toEqual([['ADDED', 'w1']]);
    await update(store, 'w1', { v: '2' });
    await eventually(() => expect(changes).toHaveLength(2), 5000);
    expect(changes[1]?.type).toBe('MODIFIED');
    (await subscription).close();
  });

  it('answers 410 Expired for versions older than the compacted log', async () => {
    const from = (await store.state()).resourceVersion;
    await create(store, 'c1');
    const compacted = await store.compact(new Date(Date.now() + 60_000));
    expect(compacted).toBeGreaterThan(from);
    await expect(store.listAt({ resource: RESOURCE }, from)).rejects.toMatchObject({ code: 410 });
    await expect(collect(feed, from).subscription).rejects.toMatchObject({
      code: 410,
      reason: 'Expired',
    });
    const current = await collect(feed, compacted).subscription;
    current.close();
  });
});

describe.each(databaseBackends.filter((backend) => backend === 'postgres'))(
  'object store across processes on %s',
  () => {
    let test: TestDatabase;
    beforeAll(async () => {
      test = await createTestDatabase('postgres');
    });
    afterAll(() => test?.drop());

    it('serializes concurrent writers and wakes the other process through NOTIFY', async () => {
      const other = await openDatabase({ url: test.url, logger: silentLogger() });
      try {
        const storeA = new ObjectStore(test.database);
        const storeB = new ObjectStore(other);
        await storeA.init();
        const feedB = new ChangeFeed(storeB, other, silentLogger(), 60_000);
        await feedB.start();
        const { changes, subscription } = collect(feedB, 0);
        await subscription;
        await Promise.all(
          Array.from({ length: 20 }, (_, i) => create(i % 2 ? storeA : storeB, `n${i}`)),
        );
        await eventually(() => expect(changes).toHaveLength(20), 5000);
        const versions = changes.map((c) => c.resourceVersion);
        expect(versions).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
        await feedB.stop();
      } finally {
        await other.close();
      }
    });
  },
);
