import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchStatus } from '../../src/api/types.js';
import { databaseBackends } from '../support/database.js';
import {
  ADMIN,
  type ManagementHarness,
  rolloutWithStatus,
  startManagement,
} from '../support/management.js';

const batch = (n: number, extra: Partial<BatchStatus>): BatchStatus => ({
  batch: n,
  percent: 0,
  devices: 0,
  updated: 0,
  healthy: 0,
  failed: 0,
  offline: 0,
  pending: 0,
  ...extra,
});

describe.each(databaseBackends)('management API: rollouts (%s)', (backend) => {
  let h: ManagementHarness;

  beforeAll(async () => {
    h = await startManagement(backend);
    await h.server.namespace('shops');
    const progressing = {
      phase: 'Progressing' as const,
      currentBatch: 2,
      totalBatches: 3,
      batches: [
        batch(1, {
          percent: 10,
          devices: 2,
          updated: 2,
          healthy: 2,
          startedAt: '2026-12-07T10:00:00Z',
          completedAt: '2026-12-07T10:05:00Z',
        }),
        batch(2, {
          percent: 50,
          devices: 8,
          updated: 5,
          healthy: 3,
          failed: 1,
          offline: 1,
          pending: 1,
          startedAt: '2026-12-07T10:06:00Z',
        }),
        batch(3, { percent: 100, devices: 10, pending: 10 }),
      ],
      devices: 20,
      updated: 7,
      healthy: 5,
      failed: 1,
      conditions: [
        {
          type: 'Progressing',
          status: 'True' as const,
          reason: 'BatchStarted',
          message: 'batch 2/3 started',
          lastTransitionTime: '2026-12-07T10:06:00Z',
        },
      ],
    };
    await rolloutWithStatus(
      h.kube,
      'default',
      'web-1-2-0',
      { policy: 'web', image: 'ghcr.io/acme/web', tag: '1.2.0' },
      progressing,
    );
    await rolloutWithStatus(
      h.kube,
      'default',
      'web-1-1-0',
      { policy: 'web', image: 'ghcr.io/acme/web', tag: '1.1.0' },
      {
        phase: 'Succeeded',
        batches: [batch(1, { percent: 100, devices: 3, updated: 3, healthy: 3 })],
      },
    );
    await rolloutWithStatus(h.kube, 'default', 'nginx-1-27', {
      policy: 'proxy',
      image: 'docker.io/library/nginx',
      tag: '1.27',
    });
    await rolloutWithStatus(
      h.kube,
      'shops',
      'web-1-2-0',
      { policy: 'kiosk', image: 'ghcr.io/acme/web', tag: '1.2.0' },
      { phase: 'Paused', batches: [] },
    );
  });
  afterAll(() => h?.stop());

  const get = (url: string, headers: Record<string, string> = ADMIN) =>
    h.app.inject({ method: 'GET', url, headers });
  const names = (body: { items: Array<{ namespace: string; name: string }> }) =>
    body.items.map((item) => `${item.namespace}/${item.name}`);

  it('lists every rollout in namespace/name order with the status counts', async () => {
    const answer = await get('/api/v1/rollouts');
    expect(answer.statusCode).toBe(200);
    const body = answer.json();
    expect(names(body)).toEqual([
      'default/nginx-1-27',
      'default/web-1-1-0',
      'default/web-1-2-0',
      'shops/web-1-2-0',
    ]);
    expect(body.total).toBe(4);
    expect(body.continue).toBeUndefined();
    const web = body.items[2];
    expect(web).toMatchObject({
      policy: 'web',
      image: 'ghcr.io/acme/web',
      tag: '1.2.0',
      reference: 'ghcr.io/acme/web:1.2.0',
      phase: 'Progressing',
      currentBatch: 2,
      totalBatches: 3,
      paused: false,
      abort: false,
      counts: { devices: 20, updated: 7, healthy: 5, failed: 1, offline: 1, pending: 11 },
      summary: '5 healthy, 1 failed, 1 offline, 2 soaking or updating, 11 pending of 20 devices',
    });
    // The totals are the ones kubectl's printer columns show.
    const stored = await h.kube.imageRollouts.get('default', 'web-1-2-0');
    expect(web.counts).toMatchObject({
      devices: stored?.status?.devices,
      updated: stored?.status?.updated,
      healthy: stored?.status?.healthy,
      failed: stored?.status?.failed,
    });
    expect(web.resourceVersion).toBe(stored?.metadata.resourceVersion);
    // A rollout the controller has not seen yet has no phase, as kubectl shows none.
    expect(body.items[0].phase).toBeUndefined();
    expect(body.items[0].counts.devices).toBe(0);
  });

  it.each([
    ['namespace=shops', ['shops/web-1-2-0']],
    ['policy=web', ['default/web-1-1-0', 'default/web-1-2-0']],
    ['phase=Succeeded', ['default/web-1-1-0']],
    ['phase=Paused&namespace=default', []],
    ['image=nginx', ['default/nginx-1-27']],
    ['image=docker.io/library/nginx:1.27', ['default/nginx-1-27']],
    ['image=nginx:1.28', []],
    ['image=ghcr.io/acme/web:1.2.0', ['default/web-1-2-0', 'shops/web-1-2-0']],
    ['image=ghcr.io/acme/web&namespace=default&phase=Progressing', ['default/web-1-2-0']],
  ])('filters by %s', async (query, expected) => {
    const answer = await get(`/api/v1/rollouts?${query}`);
    expect(answer.statusCode).toBe(200);
    expect(names(answer.json())).toEqual(expected);
    expect(answer.json().total).toBe(expected.length);
  });

  it('pages with limit and continue, each item once', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const query = `limit=3${token ? `&continue=${encodeURIComponent(token)}` : ''}`;
      const answer = await get(`/api/v1/rollouts?${query}`);
      expect(answer.statusCode).toBe(200);
      const body = answer.json();
      expect(body.items.length).toBeLessThanOrEqual(3);
      expect(body.total).toBe(4);
      seen.push(...names(body));
      token = body.continue;
      pages++;
    } while (token);
    expect(pages).toBe(2);
    expect(seen).toEqual([
      'default/nginx-1-27',
      'default/web-1-1-0',
      'default/web-1-2-0',
      'shops/web-1-2-0',
    ]);
  });

  it('shows one rollout with its per-batch progress and conditions', async () => {
    const answer = await get('/api/v1/rollouts/default/web-1-2-0');
    expect(answer.statusCode).toBe(200);
    const body = answer.json();
    const stored = await h.kube.imageRollouts.get('default', 'web-1-2-0');
    expect(body.batches.map((b: { state: string }) => b.state)).toEqual([
      'Completed',
      'Started',
      'Pending',
    ]);
    // Each batch has exactly the counts status.batches[] has.
    expect(body.batches.map(({ state: _, ...counts }: { state: string }) => counts)).toEqual(
      stored?.status?.batches,
    );
    expect(body.conditions).toEqual(stored?.status?.conditions);
    expect(body.uid).toBe(stored?.metadata.uid);
  });

  it.each([
    ['/api/v1/rollouts?phase=Sleeping', 400, /phase/],
    ['/api/v1/rollouts?limit=0', 400, /limit/],
    ['/api/v1/rollouts?limit=many', 400, /limit/],
    ['/api/v1/rollouts?image=Not%20An%20Image', 400, /image/],
    ['/api/v1/rollouts?continue=bm9wZQ', 400, /continue/],
    ['/api/v1/rollouts?colour=red', 400, /additional/],
    ['/api/v1/rollouts?namespace=Bad_NS', 400, /namespace/],
    ['/api/v1/rollouts/default/No_Such', 400, /name/],
    ['/api/v1/rollouts/default/web-9-9-9', 404, /"web-9-9-9" not found/],
    ['/api/v1/rollouts/elsewhere/web-1-2-0', 404, /not found/],
  ])('GET %s answers %i as problem+json', async (url, status, detail) => {
    const answer = await get(url);
    expect(answer.statusCode).toBe(status);
    expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = answer.json();
    expect(body.status).toBe(status);
    expect(`${body.detail} ${JSON.stringify(body.errors ?? [])}`).toMatch(detail);
  });

  it.each([
    ['no token', {}],
    ['a wrong token', { authorization: 'Bearer not-the-admin-token-at-all' }],
    ['a token of another scheme', { authorization: `Basic ${ADMIN.authorization.slice(7)}` }],
  ])('refuses %s with 401 and a challenge', async (_, headers) => {
    for (const url of ['/api/v1/rollouts', '/api/v1/rollouts/default/web-1-2-0']) {
      const answer = await get(url, headers);
      expect(answer.statusCode).toBe(401);
      expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(answer.headers['www-authenticate']).toMatch(/^Bearer /);
      expect(answer.json().detail).toBe('a valid admin token is required');
    }
  });

  it('answers 503 with Retry-After when the API server is unreachable', async () => {
    const app = await h.unreachable();
    for (const url of ['/api/v1/rollouts', '/api/v1/rollouts/default/web-1-2-0']) {
      const answer = await app.inject({ method: 'GET', url, headers: ADMIN });
      expect(answer.statusCode).toBe(503);
      expect(answer.headers['retry-after']).toBe('5');
      expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(answer.json().detail).toMatch(/not reachable/);
    }
  });
});

describe('management API limited to one namespace', () => {
  let h: ManagementHarness;
  beforeAll(async () => {
    h = await startManagement('pglite', { namespace: 'shops' });
    await h.server.namespace('shops');
    for (const namespace of ['default', 'shops']) {
      await rolloutWithStatus(h.kube, namespace, 'web-1-0-0', {
        policy: 'web',
        image: 'ghcr.io/acme/web',
        tag: '1.0.0',
      });
    }
  });
  afterAll(() => h?.stop());

  it('lists its namespace only and refuses another with 403', async () => {
    const list = await h.app.inject({ method: 'GET', url: '/api/v1/rollouts', headers: ADMIN });
    expect(list.json().items.map((item: { namespace: string }) => item.namespace)).toEqual([
      'shops',
    ]);
    for (const url of [
      '/api/v1/rollouts?namespace=default',
      '/api/v1/rollouts/default/web-1-0-0',
    ]) {
      const answer = await h.app.inject({ method: 'GET', url, headers: ADMIN });
      expect(answer.statusCode).toBe(403);
      expect(answer.json().detail).toBe('this server manages namespace shops only, not default');
    }
  });
});
