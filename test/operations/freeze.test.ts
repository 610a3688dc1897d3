import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FreezeError,
  freeze,
  listFreezes,
  unfreeze,
  unfreezeAll,
} from '../../src/operations/freeze.js';
import { type KubeServerHarness, startKubeServer } from '../support/kube-server.js';

const NOW = new Date('2026-12-07T12:00:00Z');

describe('freeze operations on the local API server', () => {
  let server: KubeServerHarness;
  let namespace: string;

  beforeAll(async () => {
    server = await startKubeServer('pglite');
    namespace = await server.namespace('ops-freeze');
  });
  afterAll(() => server?.stop());

  it('creates a FleetFreeze with its reason, window and scope, and lists it as Scheduled', async () => {
    const created = await freeze(
      server.kube,
      {
        namespace,
        name: 'holiday',
        reason: 'Holiday change freeze',
        scope: { policies: ['edge-app'] },
        window: { start: '2026-12-20T00:00:00+01:00', end: new Date('2027-01-04T00:00:00Z') },
      },
      NOW,
    );
    expect(created.metadata.uid).toBeTruthy();
    expect(created.spec).toEqual({
      reason: 'Holiday change freeze',
      window: { start: '2026-12-19T23:00:00Z', end: '2027-01-04T00:00:00Z' },
      scope: { policies: ['edge-app'] },
    });
    const listed = await listFreezes(server.kube, { namespace, now: NOW });
    expect(listed.map(({ name, state, heldCount }) => ({ name, state, heldCount }))).toEqual([
      { name: 'holiday', state: 'Scheduled', heldCount: 0 },
    ]);
  });

  it('generates a name when none is given, and an empty scope freezes everything', async () => {
    const created = await freeze(server.kube, { namespace, reason: '  incident 42  ' }, NOW);
    expect(created.metadata.name).toMatch(/^freeze-[a-z0-9]{5}$/);
    expect(created.spec).toEqual({ reason: 'incident 42' });
    const listed = await listFreezes(server.kube, { namespace, now: NOW });
    expect(listed.find((each) => each.name === created.metadata.name)?.state).toBe('Active');
  });

  it.each([
    ['no reason', { reason: ' ' }, 'a freeze needs a reason'],
    [
      'an end before the start',
      { reason: 'x', window: { start: '2026-12-10T00:00:00Z', end: '2026-12-09T00:00:00Z' } },
      'the window end must be after its start',
    ],
    [
      'an end already past',
      { reason: 'x', window: { end: '2026-12-07T11:00:00Z' } },
      'the window end 2026-12-07T11:00:00Z is already past',
    ],
    [
      'a time that is no time',
      { reason: 'x', window: { start: 'tomorrow' } },
      'window start "tomorrow" is not an RFC 3339 time',
    ],
  ])('refuses %s with a clear Invalid error and creates nothing', async (_, request, message) => {
    const before = await listFreezes(server.kube, { namespace, now: NOW });
    const attempt = freeze(server.kube, { namespace, name: 'bad', ...request }, NOW);
    await expect(attempt).rejects.toThrow(new FreezeError(message, 'Invalid'));
    await expect(attempt).rejects.toMatchObject({ code: 'Invalid', status: 400 });
    expect(await listFreezes(server.kube, { namespace, now: NOW })).toHaveLength(before.length);
  });

  it('answers AlreadyExists (409) for a name that is taken', async () => {
    const attempt = freeze(server.kube, { namespace, name: 'holiday', reason: 'again' }, NOW);
    await expect(attempt).rejects.toMatchObject({ code: 'AlreadyExists', status: 409 });
  });

  it('passes the API server refusal of an invalid scope on as Invalid, naming the field', async () => {
    const attempt = freeze(
      server.kube,
      {
        namespace,
        name: 'bad-scope',
        reason: 'x',
        scope: { selector: { matchExpressions: [{ key: 'tier', operator: 'In' }] } },
      },
      NOW,
    );
    await expect(attempt).rejects.toMatchObject({ code: 'Invalid', status: 400 });
    await expect(attempt).rejects.toThrow(/spec\.scope\.selector\.matchExpressions\[0\]\.values/);
  });

  it('unfreezes one freeze by deleting it, and answers NotFound for a name that is not there', async () => {
    const lifted = await unfreeze(server.kube, { namespace, name: 'holiday' });
    expect(lifted.spec.reason).toBe('Holiday change freeze');
    expect((await listFreezes(server.kube, { namespace })).map((each) => each.name)).not.toContain(
      'holiday',
    );
    await expect(unfreeze(server.kube, { namespace, name: 'holiday' })).rejects.toMatchObject({
      code: 'NotFound',
      status: 404,
      message: `FleetFreeze ${namespace}/holiday not found`,
    });
  });

  it('unfreezes every freeze of a namespace at once, leaving other namespaces alone', async () => {
    const other = await server.namespace('ops-freeze-other');
    await freeze(server.kube, { namespace, name: 'a', reason: 'a' }, NOW);
    await freeze(server.kube, { namespace: other, name: 'b', reason: 'b' }, NOW);
    const lifted = await unfreezeAll(server.kube, { namespace });
    expect(lifted.map((each) => each.metadata.name).sort()).toContain('a');
    expect(await listFreezes(server.kube, { namespace })).toEqual([]);
    const everywhere = await listFreezes(server.kube, {});
    expect(everywhere.map(({ namespace: ns, name }) => `${ns}/${name}`)).toEqual([`${other}/b`]);
  });
});
