import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ImageRollout } from '../../src/api/types.js';
import { Informer } from '../../src/controller/informer.js';
import type { ListOptions, ResourceClient } from '../../src/kube/port.js';
import { databaseBackends } from '../support/database.js';
import { eventually, rollout } from '../support/fixtures.js';
import { type KubeServerHarness, startKubeServer } from '../support/kube-server.js';
import { TrackingClock } from '../support/tracking-clock.js';

/** The rollouts client, counting the lists an informer makes. */
function countingLists(client: ResourceClient<ImageRollout>) {
  const counter = { lists: 0, resource: client };
  counter.resource = Object.create(client, {
    listWithVersion: {
      value: (namespace: string | undefined, options?: ListOptions) => {
        counter.lists++;
        return client.listWithVersion(namespace, options);
      },
    },
  });
  return counter;
}

/** The `rev` label tests bump to change an object; 1 when unset. */
const revision = (object: ImageRollout) => object.metadata.labels?.rev ?? '1';

/** A merge patch that sets the `rev` label. */
const bump = (rev: string) => ({ metadata: { labels: { rev } } });

describe.each(databaseBackends)('Informer through client-node (%s)', (backend) => {
  let server: KubeServerHarness;
  const informers: Array<Informer<ImageRollout>> = [];

  beforeAll(async () => {
    server = await startKubeServer(backend);
    for (const name of ['follow', 'drop', 'gone', 'stop', 'stop-healthy', 'restart']) {
      await server.namespace(name);
    }
  });
  afterEach(async () => {
    await Promise.all(informers.splice(0).map((informer) => informer.stop()));
  });
  afterAll(() => server?.stop());

  function informerOf(namespace: string, clock = new TrackingClock()) {
    const counted = countingLists(server.kube.imageRollouts);
    const informer = new Informer({
      resource: counted.resource,
      name: 'rollouts',
      namespace,
      clock,
      backoff: { baseMs: 50, maxMs: 400, jitter: 0.2 },
    });
    informers.push(informer);
    const seen: string[] = [];
    informer.onChange((key, object, type) => seen.push(`${type} ${key} ${revision(object)}`));
    return { informer, counted, seen, clock };
  }

  const cachedRevisions = (informer: Informer<ImageRollout>) =>
    informer
      .list()
      .map((item) => `${item.metadata.name}:${revision(item)}`)
      .sort();

  it('lists, then follows changes from the list resourceVersion', async () => {
    await server.direct.imageRollouts.create(rollout('before', 'follow'));
    const { informer, seen } = informerOf('follow');
    informer.start();
    await informer.waitForSync();
    await server.direct.imageRollouts.create(rollout('after', 'follow'));
    await server.direct.imageRollouts.mergePatch('follow', 'before', bump('2'));
    await server.direct.imageRollouts.delete('follow', 'after');
    await eventually('the deletion', () => seen.length === 4);
    expect(seen).toEqual([
      'added follow/before 1',
      'added follow/after 1',
      'updated follow/before 2',
      'deleted follow/after 1',
    ]);
    expect(cachedRevisions(informer)).toEqual(['before:2']);
  });

  it('reconnects from its resourceVersion, without relisting, after the server drops connections', async () => {
    const { informer, counted, seen } = informerOf('drop');
    informer.start();
    await informer.waitForSync();
    await eventually('the watch connection', () => server.proxy.open > 0);
    server.proxy.dropAll();
    await server.direct.imageRollouts.create(rollout('while-dropped', 'drop'));
    await eventually('the object created while disconnected', () => seen.length === 1);
    server.proxy.dropAll();
    await server.direct.imageRollouts.create(rollout('after-second-drop', 'drop'));
    await eventually('the second object', () => seen.length === 2);
    expect(counted.lists).toBe(1);
    expect(cachedRevisions(informer)).toEqual(['after-second-drop:1', 'while-dropped:1']);
  });

  it('relists after 410 Gone when the log was compacted past its resourceVersion', async () => {
    await server.direct.imageRollouts.create(rollout('kept', 'gone'));
    await server.direct.imageRollouts.create(rollout('removed', 'gone'));
    const { informer, counted, seen } = informerOf('gone');
    informer.start();
    await informer.waitForSync();
    server.proxy.refusing = true;
    server.proxy.dropAll();
    await server.direct.imageRollouts.delete('gone', 'removed');
    await server.direct.imageRollouts.create(rollout('added', 'gone'));
    await server.direct.imageRollouts.mergePatch('gone', 'kept', bump('3'));
    await server.compact();
    server.proxy.refusing = false;
    await eventually('the relist', () => counted.lists === 2);
    await eventually('the changes', () => seen.length === 5);
    expect(seen.slice(2).sort()).toEqual([
      'added gone/added 1',
      'deleted gone/removed 1',
      'updated gone/kept 3',
    ]);
    expect(cachedRevisions(informer)).toEqual(['added:1', 'kept:3']);
  });

  it('leaves no watch connection and no timer once stopped, even during backoff', async () => {
    const { informer, clock } = informerOf('stop');
    informer.start();
    await informer.waitForSync();
    await eventually('the watch connection', () => server.proxy.open > 0);
    server.proxy.refusing = true;
    server.proxy.dropAll();
    const accepted = server.proxy.accepted;
    await new Promise((resolve) => setTimeout(resolve, 100));
    await informer.stop();
    expect(clock.pendingTimers).toBe(0);
    server.proxy.refusing = false;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(server.proxy.accepted).toBe(accepted);
    expect(server.proxy.open).toBe(0);
  });

  it('stops a healthy watch: its connection closes', async () => {
    const { informer, clock } = informerOf('stop-healthy');
    informer.start();
    await informer.waitForSync();
    await eventually('the watch connection', () => server.proxy.open > 0);
    await informer.stop();
    await eventually('the watch connection to close', () => server.proxy.open === 0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('keeps objects and resourceVersions across a server restart on the same database', async () => {
    const before = await server.direct.imageRollouts.create(rollout('durable', 'restart'));
    const { informer, counted, seen } = informerOf('restart');
    informer.start();
    await informer.waitForSync();
    await server.restart();
    expect(await server.direct.imageRollouts.get('restart', 'durable')).toEqual(before);
    const after = await server.direct.imageRollouts.create(rollout('newer', 'restart'));
    expect(Number(after.metadata.resourceVersion)).toBeGreaterThan(
      Number(before.metadata.resourceVersion),
    );
    await eventually('the object created after the restart', () => seen.length === 2);
    expect(counted.lists).toBe(1);
    expect(cachedRevisions(informer)).toEqual(['durable:1', 'newer:1']);
  });
});
