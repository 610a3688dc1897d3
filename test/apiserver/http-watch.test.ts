import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiServer } from '../../src/apiserver/index.js';
import { clientOf, POLICIES, policy, startTestServer } from '../support/apiserver.js';
import { createTestDatabase, databaseBackends, type TestDatabase } from '../support/database.js';

const types = (events: Array<{ type: string }>) => events.map((event) => event.type);
const names = (events: Array<{ object: { metadata: { name: string } } }>) =>
  events.map((event) => event.object.metadata.name);

describe.each(databaseBackends)('local API server watches on %s', (backend) => {
  let test: TestDatabase;
  let server: ApiServer;
  let api: ReturnType<typeof clientOf>;

  beforeAll(async () => {
    test = await createTestDatabase(backend);
    server = await startTestServer(test.database, { watch: { bookmarkIntervalMs: 200 } });
    api = clientOf(server);
  });
  afterAll(async () => {
    await server?.close();
    await test?.drop();
  });

  it('starts from the current state without a resourceVersion, then streams changes', async () => {
    await api.post(POLICIES, policy('w-initial', { labels: { watch: 'initial' } }));
    const watch = await api.watch(`${POLICIES}?watch=1&labelSelector=watch%3Dinitial`);
    expect(watch.status).toBe(200);
    await watch.next(1);
    await api.patch(
      `${POLICIES}/w-initial`,
      { spec: { suspend: true } },
      'application/merge-patch+json',
    );
    await api.delete(`${POLICIES}/w-initial`);
    await watch.next(3);
    expect(types(watch.events)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
    expect(watch.events[1].object.spec.suspend).toBe(true);
    watch.close();
  });

  it('replays the changes after a resourceVersion, even ones made before the watch began', async () => {
    const created = await api.post(POLICIES, policy('w-replay', { labels: { watch: 'replay' } }));
    const from = created.body.metadata.resourceVersion;
    await api.patch(
      `${POLICIES}/w-replay`,
      { metadata: { labels: { extra: 'x' } } },
      'application/merge-patch+json',
    );
    const watch = await api.watch(
      `${POLICIES}?watch=true&resourceVersion=${from}&labelSelector=watch%3Dreplay`,
    );
    await watch.next(1);
    expect(types(watch.events)).toEqual(['MODIFIED']);
    expect(Number(watch.events[0].object.metadata.resourceVersion)).toBeGreaterThan(Number(from));
    watch.close();
  });

  it('turns a change that leaves the selector into DELETED and one that enters it into ADDED', async () => {
    await api.post(POLICIES, policy('w-select', { labels: { watch: 'select' } }));
    const watch = await api.watch(`${POLICIES}?watch=1&labelSelector=watch%3Dselect`);
    await watch.next(1);
    await api.patch(
      `${POLICIES}/w-select`,
      { metadata: { labels: { watch: 'gone' } } },
      'application/merge-patch+json',
    );
    await api.patch(
      `${POLICIES}/w-select`,
      { metadata: { labels: { watch: 'select' } } },
      'application/merge-patch+json',
    );
    await watch.next(3);
    expect(types(watch.events)).toEqual(['ADDED', 'DELETED', 'ADDED']);
    expect(watch.events[1].object.metadata.labels.watch).toBe('select');
    watch.close();
  });

  it('sends bookmarks when asked and ends after timeoutSeconds', async () => {
    const watch = await api.watch(
      `${POLICIES}?watch=1&resourceVersion=1&allowWatchBookmarks=true&timeoutSeconds=1&labelSelector=none%3Dnone`,
    );
    await watch.ended;
    const bookmarks = watch.events.filter((event) => event.type === 'BOOKMARK');
    expect(bookmarks.length).toBeGreaterThan(0);
    expect(Number(bookmarks.at(-1).object.metadata.resourceVersion)).toBeGreaterThan(1);
  });

  it('ends the initial events with an annotated bookmark for sendInitialEvents', async () => {
    await api.post(POLICIES, policy('w-list', { labels: { watch: 'list' } }));
    const path = `${POLICIES}?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&labelSelector=watch%3Dlist`;
    const watch = await api.watch(path);
    await watch.next(2);
    expect(types(watch.events)).toEqual(['ADDED', 'BOOKMARK']);
    expect(watch.events[1].object.metadata.annotations).toEqual({
      'k8s.io/initial-events-end': 'true',
    });
    watch.close();
    const invalid = await api.get(`${POLICIES}?watch=1&sendInitialEvents=true`);
    expect(invalid.status).toBe(422);
  });

  it('streams one-row Tables to kubectl get -w, with columns only in the first', async () => {
    const accept = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';
    await api.post(POLICIES, policy('w-table', { labels: { watch: 'table' } }));
    const watch = await api.watch(`${POLICIES}?watch=1&labelSelector=watch%3Dtable`, { accept });
    await watch.next(1);
    await api.patch(
      `${POLICIES}/w-table`,
      { spec: { suspend: true } },
      'application/merge-patch+json',
    );
    await watch.next(2);
    const [first, second] = watch.events;
    expect(first.object.kind).toBe('Table');
    expect(first.object.columnDefinitions.length).toBeGreaterThan(1);
    expect(first.object.rows[0].cells[0]).toBe('w-table');
    expect(second.object.columnDefinitions).toEqual([]);
    watch.close();
  });

  it('answers 410 Expired as an ERROR event for a resourceVersion older than the compacted log', async () => {
    const old = await api.post(POLICIES, policy('w-old'));
    await api.post(POLICIES, policy('w-new'));
    await server.compact(new Date(Date.now() + 60_000));
    const watch = await api.watch(
      `${POLICIES}?watch=1&resourceVersion=${old.body.metadata.resourceVersion}`,
    );
    await watch.ended;
    expect(watch.status).toBe(200);
    expect(types(watch.events)).toEqual(['ERROR']);
    expect(watch.events[0].object).toMatchObject({ kind: 'Status', code: 410, reason: 'Expired' });
    const list = await api.get(
      `${POLICIES}?resourceVersion=${old.body.metadata.resourceVersion}&resourceVersionMatch=Exact`,
    );
    expect(list.status).toBe(410);
  });

  it('watches across namespaces and serves core v1 events as a view of events.k8s.io', async () => {
    const watch = await api.watch('/api/v1/events?watch=1');
    const event = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: 'w-event' },
      eventTime: new Date().toISOString().replace('Z', '000Z'),
      reportingController: 'fleet.iotistic.io/controller',
      reportingInstance: 'test',
      action: 'Reconcile',
      reason: 'Tested',
      type: 'Normal',
      note: 'hello',
      regarding: { kind: 'ImagePolicy', name: 'w-new', namespace: 'default' },
    };
    expect((await api.post('/apis/events.k8s.io/v1/namespaces/default/events', event)).status).toBe(
      201,
    );
    await watch.next(1);
    expect(watch.events[0].object).toMatchObject({
      apiVersion: 'v1',
      message: 'hello',
      involvedObject: { name: 'w-new' },
    });
    expect(names(watch.events)).toEqual(['w-event']);
    watch.close();
  });
});
