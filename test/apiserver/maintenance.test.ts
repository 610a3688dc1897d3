import { describe, expect, it } from 'vitest';
import { eventAbout, serverFixture } from '../support/apiserver.js';
import { databaseBackends } from '../support/database.js';
import { eventually } from '../support/eventually.js';

const EVENTS = '/apis/events.k8s.io/v1/namespaces/default/events';

describe.each(databaseBackends)('maintenance and metrics on %s', (backend) => {
  const now = new Date('2030-01-01T00:00:00Z');
  const { api } = serverFixture(backend, {
    clock: () => now,
    maintenanceIntervalMs: 50,
    retention: { changeLogSeconds: 60, eventSeconds: 3600 },
  });

  it('expires events an hour after they were last seen, and compacts the change log', async () => {
    const old = {
      ...eventAbout('old', { kind: 'ImagePolicy', name: 'a' }, 'old'),
      eventTime: '2029-12-31T22:00:00.000000Z',
    };
    const fresh = {
      ...eventAbout('fresh', { kind: 'ImagePolicy', name: 'a' }, 'fresh'),
      eventTime: '2029-12-31T23:30:00.000000Z',
    };
    expect((await api.post(EVENTS, old)).status).toBe(201);
    expect((await api.post(EVENTS, fresh)).status).toBe(201);
    await eventually(async () => {
      const names = (await api.get(EVENTS)).body.items.map(
        (e: { metadata: { name: string } }) => e.metadata.name,
      );
      expect(names).toEqual(['fresh']);
    }, 5000);
    const version = (await api.get(EVENTS)).body.metadata.resourceVersion;
    await api.post(EVENTS, eventAbout('later', { kind: 'ImagePolicy', name: 'a' }, 'later'));
    await eventually(async () => {
      const watch = await api.watch(
        `${EVENTS}?watch=1&timeoutSeconds=1&resourceVersion=${version}`,
      );
      await watch.ended;
      expect(watch.events[0]?.object).toMatchObject({ kind: 'Status', code: 410 });
    }, 5000);
  });

  it('counts requests by verb, resource and code', async () => {
    await api.get('/apis/fleet.iotistic.io/v1alpha1/namespaces/default/imagepolicies/missing');
    const metrics = (await api.get('/metrics')).text;
    expect(metrics).toContain(
      'fleet_rollout_apiserver_requests_total{verb="get",resource="imagepolicies.fleet.iotistic.io",code="404"} 1',
    );
    expect(metrics).toContain('fleet_rollout_apiserver_watch_events_total');
  });
});
