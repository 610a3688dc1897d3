import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageRollout } from '../../src/api/types.js';
import { queryRows } from '../../src/db/rows.js';
import { batchSizes } from '../../src/planner/membership.js';
import type { Simulator } from '../../src/simulator/simulator.js';
import { spawnControllerChild } from '../support/controller-process.js';
import { databaseBackends } from '../support/database.js';
import { type Engine, startEngine } from '../support/engine.js';

const OLD = 'docker.io/library/nginx:1.27';
const NEW = 'docker.io/library/nginx:1.28';
const DEVICES = 60;
const BATCHES = [10, 50, 100];
const INTERVAL_MS = 1000;

/** What an end state is compared by: status without times and names, log counts, members. */
async function endState(engine: Engine, name: string) {
  const rollout = await engine.get(name);
  const status = rollout.status!;
  const [members] = await queryRows<Record<string, number>>(
    engine.database.db,
    sql`select count(*)::int as rows, count(distinct device_uuid)::int as devices,
          count(distinct rank)::int as ranks, min(rank) as first, max(rank) as last
        from rollout_members where rollout_uid = ${rollout.metadata.uid}`,
  );
  const log = await engine.log(`default/${name}`);
  const types: Record<string, number> = {};
  for (const entry of log) types[entry.type] = (types[entry.type] ?? 0) + 1;
  return {
    phase: status.phase,
    totals: [status.devices, status.updated, status.healthy, status.failed],
    batches: status.batches?.map(({ batch, percent, devices, healthy, failed, pending }) => ({
      ...{ batch, percent, devices, healthy, failed, pending },
    })),
    conditions: status.conditions?.map(({ type, status: value, reason }) => [type, value, reason]),
    members,
    types,
    scheduled: log
      .filter((entry) => entry.type === 'image.device_scheduled')
      .map((entry) => [entry.payload.batch, entry.payload.devices]),
  };
}

/** No batch started before the one before it completed plus the interval. */
async function expectNoEarlyBatch(engine: Engine, rollout: ImageRollout) {
  const log = await engine.log(`default/${rollout.metadata.name}`);
  const at = (type: string, batch: number) =>
    log.find((entry) => entry.type === type && entry.payload.batch === batch)?.at ?? Number.NaN;
  const batches = rollout.status!.batches!;
  for (let k = 2; k <= batches.length; k++) {
    const started = at('image.device_scheduled', k);
    expect(started).toBeGreaterThanOrEqual(at('image.batch_completed', k - 1));
    expect(started).toBeGreaterThanOrEqual(Date.parse(batches[k - 2]!.completedAt!) + INTERVAL_MS);
  }
}

/**
 * The controller killed at many points of a rollout and restarted: the end state equals an
 * uninterrupted run's, no device is scheduled twice or skipped, no batch starts early.
 */
describe.each(databaseBackends.slice(-1))('a controller that crashes (%s)', (backend) => {
  let engine: Engine;
  let uninterrupted: Awaited<ReturnType<typeof endState>>;
  beforeAll(async () => {
    engine = await startEngine(backend, { controller: false, resyncMs: 1_000 });
    await engine.policy('calm', policySpec('calm'));
    await fleet('calm');
    const controller = engine.startController();
    await engine.rollout('calm-1-28', { policy: 'calm' });
    await succeeded('calm-1-28');
    await controller.stop();
    uninterrupted = await endState(engine, 'calm-1-28');
  }, 120_000);
  afterAll(() => engine?.stop());

  function policySpec(name: string) {
    return {
      selector: { fleets: [name] },
      strategy: { batches: BATCHES, interval: `${INTERVAL_MS}ms` },
      health: { soakTime: '0s', offlineAfter: '60s', progressDeadline: '120s' },
    };
  }
  const fleet = (name: string): Promise<Simulator> =>
    engine.simulate({
      register: {
        count: DEVICES,
        fleet: name,
        apps: { web: { services: { nginx: { image: OLD } } } },
      },
      seed: name,
    });
  const succeeded = (name: string) =>
    engine.until(name, (r) => expect(r.status?.phase).toBe('Succeeded'), 60_000);
  const isDone = async (name: string) => (await engine.get(name)).status?.phase === 'Succeeded';

  async function expectLikeUninterrupted(name: string, simulator: Simulator) {
    const done = await succeeded(name);
    const state = await endState(engine, name);
    expect(state).toEqual(uninterrupted);
    expect(state.members).toEqual({
      rows: DEVICES,
      devices: DEVICES,
      ranks: DEVICES,
      first: 0,
      last: DEVICES - 1,
    });
    const sizes = batchSizes(DEVICES, BATCHES);
    expect(state.scheduled).toEqual(sizes.map((size, i) => [i + 1, size]));
    await expectNoEarlyBatch(engine, done);
    expect(simulator.summary().images).toEqual({ [NEW]: { healthy: DEVICES } });
  }

  it('in process, failing right after every step boundary', { timeout: 120_000 }, async () => {
    await engine.policy('boundary', policySpec('boundary'));
    const simulator = await fleet('boundary');
    await engine.rollout('boundary-1-28', { policy: 'boundary' });
    let lives = 0;
    while (!(await isDone('boundary-1-28'))) {
      lives++;
      expect(lives).toBeLessThan(60);
      // Each life fails after its first write (an effect step or a status write).
      let crashed = false;
      const life = engine.startController({
        onStep(step) {
          if (step === 'read' || crashed) return;
          crashed = true;
          throw new Error(`crash after ${step}`);
        },
      });
      while (!crashed && !(await isDone('boundary-1-28'))) await pause(50);
      await life.stop();
    }
    expect(lives).toBeGreaterThanOrEqual(6);
    await expectLikeUninterrupted('boundary-1-28', simulator);
  });

  it.runIf(backend === 'postgres')(
    'in a child process killed with SIGKILL at many points',
    { timeout: 180_000 },
    async () => {
      await engine.policy('killed', policySpec('killed'));
      const simulator = await fleet('killed');
      await engine.rollout('killed-1-28', { policy: 'killed' });
      let kills = 0;
      for (let life = 1; ; life++) {
        // Lives 1…12 die: right after their first write, or (every third) at a random moment
        // but no later than right after their third write, so no life can finish the rollout.
        const dies = life <= 12;
        const child = spawnControllerChild(engine, { at: dies ? (life % 3 === 0 ? 3 : 1) : 0 });
        if (dies && life % 3 === 0) {
          child.ready.then(() =>
            setTimeout(() => child.process.kill('SIGKILL'), 100 + Math.random() * 500),
          );
        }
        let exit: string | undefined;
        void child.exited.then((signal) => {
          exit = signal;
        });
        while (exit === undefined && !(await isDone('killed-1-28'))) await pause(100);
        const outcome = exit ?? 'done';
        if (outcome === 'done') {
          child.process.kill('SIGTERM');
          await child.exited;
          break;
        }
        expect(outcome, child.stderr()).toBe('SIGKILL');
        kills++;
      }
      expect(kills).toBeGreaterThanOrEqual(6);
      await expectLikeUninterrupted('killed-1-28', simulator);
    },
  );
});

function pause(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
