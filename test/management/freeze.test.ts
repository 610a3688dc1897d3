import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseBackends } from '../support/database.js';
import { ADMIN, type ManagementHarness, startManagement } from '../support/management.js';

describe.each(databaseBackends)('management API: fleet freeze (%s)', (backend) => {
  let h: ManagementHarness;

  beforeAll(async () => {
    h = await startManagement(backend);
    await h.server.namespace('shops');
  });
  afterAll(() => h?.stop());

  const send = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) =>
    h.app.inject({ method, url, headers: ADMIN, ...(payload === undefined ? {} : { payload }) });
  /** A whole second some hours from now (FleetFreeze times have seconds). */
  const inHours = (hours: number) =>
    new Date(Math.floor(Date.now() / 1000 + hours * 3600) * 1000).toISOString();

  it('freezes a namespace: a FleetFreeze kubectl sees, Active now', async () => {
    const answer = await send('POST', '/api/v1/freezes', {
      name: 'incident-42',
      reason: 'devices reboot after the update',
    });
    expect(answer.statusCode).toBe(201);
    const body = answer.json();
    expect(body).toMatchObject({
      namespace: 'default',
      name: 'incident-42',
      reason: 'devices reboot after the update',
      state: 'Active',
      heldCount: 0,
      heldRollouts: [],
    });
    const stored = await h.kube.fleetFreezes.get('default', 'incident-42');
    expect(stored?.spec).toEqual({ reason: 'devices reboot after the update' });
    expect(body.freeze.metadata.uid).toBe(stored?.metadata.uid);
  });

  it('freezes a scope for a window ahead (Scheduled), with a generated name', async () => {
    const start = inHours(24);
    const end = inHours(48);
    const answer = await send('POST', '/api/v1/freezes', {
      namespace: 'shops',
      reason: 'holiday change freeze',
      scope: { policies: ['kiosk'] },
      window: { start, end },
    });
    expect(answer.statusCode).toBe(201);
    const body = answer.json();
    expect(body.state).toBe('Scheduled');
    expect(body.name).toMatch(/^freeze-/);
    const stored = await h.kube.fleetFreezes.get('shops', body.name);
    expect(stored?.spec.scope).toEqual({ policies: ['kiosk'] });
    expect(Date.parse(stored?.spec.window?.start ?? '')).toBe(Date.parse(start));
  });

  it('lists freezes, paged, in namespace/name order', async () => {
    const all = await send('GET', '/api/v1/freezes');
    expect(all.statusCode).toBe(200);
    expect(all.json().items.map((f: { namespace: string }) => f.namespace)).toEqual([
      'default',
      'shops',
    ]);
    const page = await send('GET', '/api/v1/freezes?limit=1');
    expect(page.json().items).toHaveLength(1);
    expect(page.json().total).toBe(2);
    expect(page.json().continue).toBeTypeOf('string');
    const shops = await send('GET', '/api/v1/freezes?namespace=shops');
    expect(shops.json().items).toHaveLength(1);
  });

  it.each([
    ['no reason', {}, /reason/],
    ['a blank reason', { reason: '   ' }, /needs a reason/],
    ['a window that ended', { reason: 'x', window: { end: '2020-01-01T00:00:00Z' } }, /past/],
    [
      'an end before the start',
      { reason: 'x', window: { start: inHours(5), end: inHours(4) } },
      /end must be after/,
    ],
    ['a time that is no time', { reason: 'x', window: { end: 'tomorrow' } }, /date-time/],
    ['an unknown field', { reason: 'x', until: 'later' }, /additional/],
  ])('answers 400 for %s and creates nothing', async (_, payload, detail) => {
    const before = (await h.kube.fleetFreezes.list(undefined)).length;
    const answer = await send('POST', '/api/v1/freezes', payload);
    expect(answer.statusCode).toBe(400);
    expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.stringify(answer.json())).toMatch(detail);
    expect(await h.kube.fleetFreezes.list(undefined)).toHaveLength(before);
  });

  it('answers 409 for a freeze name that is taken', async () => {
    const answer = await send('POST', '/api/v1/freezes', { name: 'incident-42', reason: 'again' });
    expect(answer.statusCode).toBe(409);
    expect(answer.json().detail).toMatch(/already exists/);
    expect((await h.kube.fleetFreezes.get('default', 'incident-42'))?.spec.reason).toBe(
      'devices reboot after the update',
    );
  });

  it('lifts one freeze, then 404 for it', async () => {
    const answer = await send('DELETE', '/api/v1/freezes/default/incident-42');
    expect(answer.statusCode).toBe(200);
    expect(answer.json().name).toBe('incident-42');
    expect(await h.kube.fleetFreezes.get('default', 'incident-42')).toBeUndefined();
    const again = await send('DELETE', '/api/v1/freezes/default/incident-42');
    expect(again.statusCode).toBe(404);
    expect(again.json().detail).toMatch(/incident-42 not found/);
  });

  it('lifts every freeze of a namespace', async () => {
    await send('POST', '/api/v1/freezes', { namespace: 'shops', name: 'second', reason: 'r' });
    const answer = await send('DELETE', '/api/v1/freezes/shops');
    expect(answer.statusCode).toBe(200);
    expect(answer.json().items).toHaveLength(2);
    expect(await h.kube.fleetFreezes.list('shops')).toEqual([]);
  });

  it('needs the admin token', async () => {
    const answer = await h.app.inject({
      method: 'POST',
      url: '/api/v1/freezes',
      payload: { reason: 'no token' },
    });
    expect(answer.statusCode).toBe(401);
    expect(await h.kube.fleetFreezes.list(undefined)).toEqual([]);
  });

  it('answers 503 when the API server is unreachable', async () => {
    const app = await h.unreachable();
    const answer = await app.inject({
      method: 'POST',
      url: '/api/v1/freezes',
      headers: ADMIN,
      payload: { reason: 'outage' },
    });
    expect(answer.statusCode).toBe(503);
    expect(answer.json().detail).toMatch(/not reachable/);
  });
});
