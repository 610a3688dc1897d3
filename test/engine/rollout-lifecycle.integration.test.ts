import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { queryRows } from '../../src/db/rows.js';
import { databaseBackends } from '../support/database.js';
import { ADMIN } from '../support/device-api.js';
import { type Engine, startEngine } from '../support/engine.js';

const OLD = 'docker.io/library/nginx:1.27';
const NEW = 'docker.io/library/nginx:1.28';
const apps = { web: { services: { nginx: { image: OLD } } } };
const health = { soakTime: '0s', offlineAfter: '60s', progressDeadline: '120s' };

/** Devices joining a running rollout, deleting a rollout, and the controller's metrics. */
describe.each(databaseBackends)('rollout lifecycle on %s', (backend) => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await startEngine(backend);
  }, 60_000);
  afterAll(() => engine?.stop());

  const count = async (query: ReturnType<typeof sql>) =>
    (await queryRows<{ n: number }>(engine.database.db, query))[0]?.n;

  it('lets devices registered later join the batches that have not started', async () => {
    const first = await engine.simulate({ register: { count: 6, fleet: 'grow', apps }, seed: 'a' });
    await engine.policy('grow', {
      selector: { fleets: ['grow'] },
      strategy: { batches: [50, 100], interval: '1h', includeNewDevices: true },
      health,
    });
    await engine.rollout('grow-1-28', { policy: 'grow' });
    await engine.until('grow-1-28', (r) => expect(r.status?.currentBatch).toBe(1));
    const later = await engine.simulate({ register: { count: 4, fleet: 'grow', apps }, seed: 'b' });
    await engine.until('grow-1-28', (r) => expect(r.status?.devices).toBe(10));
    // Batch 1 kept its 3 devices; the rest are planned again: 50 % and 100 % of 10.
    const waiting = await engine.get('grow-1-28');
    expect(waiting.status?.batches?.map((b) => b.devices)).toEqual([3, 2, 5]);
    expect(later.summary().images).toEqual({ [OLD]: { healthy: 4 } });
    await engine.patch('grow-1-28', { spec: { approvedBatches: 3 } });
    await engine.until('grow-1-28', (r) => expect(r.status?.phase).toBe('Succeeded'));
    expect(first.summary().images).toEqual({ [NEW]: { healthy: 6 } });
    expect(later.summary().images).toEqual({ [NEW]: { healthy: 4 } });
    const joined = (await engine.log('default/grow-1-28')).filter(
      (entry) => entry.type === 'image.devices_joined',
    );
    expect(joined.reduce((sum, entry) => sum + Number(entry.payload.devices), 0)).toBe(4);
  });

  it('keeps what devices run when a rollout is deleted, and forgets its members', async () => {
    const simulator = await engine.simulate({ register: { count: 6, fleet: 'gone', apps } });
    await engine.policy('gone', {
      selector: { fleets: ['gone'] },
      strategy: { batches: [50, 100], interval: '1h' },
      health,
    });
    const created = await engine.rollout('gone-1-28', { policy: 'gone' });
    const uid = created.metadata.uid;
    const waiting = await engine.until('gone-1-28', (r) =>
      expect(r.status?.batches?.[0]?.completedAt).toBeDefined(),
    );
    expect(waiting.metadata.finalizers).toEqual(['fleet.iotistic.io/rollout-overlay']);
    await engine.kube.imageRollouts.delete('default', 'gone-1-28');
    await vi.waitFor(
      async () =>
        expect(await engine.kube.imageRollouts.get('default', 'gone-1-28')).toBeUndefined(),
      { timeout: 15_000, interval: 50 },
    );
    expect(simulator.summary().images).toEqual({ [OLD]: { healthy: 3 }, [NEW]: { healthy: 3 } });
    expect(
      await count(sql`select count(*)::int as n from rollout_members where rollout_uid = ${uid}`),
    ).toBe(0);
    // The new image became the base of the devices that had it.
    const bases = await count(
      sql`select count(*)::int as n from device_targets t join devices d on d.uuid = t.device_uuid
          where d.fleet = 'gone' and t.apps->'web'->'services'->'nginx'->>'image' = ${NEW}`,
    );
    expect(bases).toBe(3);
    const log = await engine.log('default/gone-1-28');
    expect(log.at(-1)).toMatchObject({ type: 'image.rollout_deleted', payload: { folded: 3 } });
  });

  it('completes a rollout whose devices were deleted: counted offline, never failed', async () => {
    const simulator = await engine.simulate({ register: { count: 6, fleet: 'decom', apps } });
    await engine.policy('decom', {
      selector: { fleets: ['decom'] },
      strategy: { batches: [50, 100], interval: '1h' },
      health,
    });
    const { uid } = (await engine.rollout('decom-1-28', { policy: 'decom' })).metadata;
    await engine.until('decom-1-28', (r) =>
      expect(r.status?.batches?.[0]?.completedAt).toBeDefined(),
    );
    // Decommission a device of the finished batch 1 and one of batch 2 before it starts.
    const members = await queryRows<{ uuid: string; batch: number }>(
      engine.database.db,
      sql`select device_uuid::text as uuid, batch from rollout_members
          where rollout_uid = ${uid} order by rank`,
    );
    const gone = [1, 2].map((batch) => members.find((m) => m.batch === batch)?.uuid as string);
    for (const uuid of gone) {
      const answer = await engine.deviceApi.app.inject({
        method: 'DELETE',
        url: `/api/v1/devices/${uuid}`,
        headers: ADMIN,
      });
      expect(answer.statusCode).toBe(204);
    }
    await engine.patch('decom-1-28', { spec: { approvedBatches: 2 } });
    await engine.until('decom-1-28', (r) => expect(r.status?.batches?.[1]?.healthy).toBe(2));
    try {
      // The deleted member never reports: offline once the batch ran offlineAfter, and the
      // batch completes at its deadline without counting it as failed.
      engine.clock.offsetMs = 90_000;
      await engine.until('decom-1-28', (r) => {
        const progressing = r.status?.conditions?.find((c) => c.type === 'Progressing');
        expect(progressing?.reason).toBe('BatchWaitingOnOfflineDevices');
      });
      engine.clock.offsetMs = 150_000;
      const done = await engine.until('decom-1-28', (r) =>
        expect(r.status?.phase).toBe('Succeeded'),
      );
      expect(
        done.status?.batches?.map(({ devices, healthy, failed, offline }) => ({
          devices,
          healthy,
          failed,
          offline,
        })),
      ).toEqual([
        { devices: 3, healthy: 3, failed: 0, offline: 0 },
        { devices: 3, healthy: 2, failed: 0, offline: 1 },
      ]);
    } finally {
      engine.clock.offsetMs = 0;
    }
    const kept = simulator.devices().filter((device) => !gone.includes(device.uuid));
    expect(kept.map((device) => device.services['web/nginx']?.image)).toEqual(Array(4).fill(NEW));
    for (const uuid of gone) {
      expect((await engine.log(uuid)).map(({ type, payload }) => ({ type, payload }))).toEqual([
        {
          type: 'device.deleted',
          payload: { uuid, fleet: 'decom', rollouts: ['default/decom-1-28'] },
        },
      ]);
    }
  });

  it('exports rollouts by phase, devices by state and reconcile durations', async () => {
    const metrics = await engine.controller!.registry.metrics();
    expect(metrics).toMatch(/^fleet_rollout_rollouts\{phase="\w+"\} [1-9]/m);
    expect(metrics).toMatch(/^fleet_rollout_rollout_devices\{state="healthy"\} \d+/m);
    expect(metrics).toMatch(
      /^fleet_rollout_reconcile_duration_seconds_count\{kind="ImageRollout",result="success"\} [1-9]/m,
    );
    expect(metrics).toMatch(/^fleet_rollout_workqueue_depth\{name="fleet"\} \d+/m);
  });
});
