import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { FleetFreeze, ImageRollout } from '../../src/api/types.js';
import type { TargetApps } from '../../src/devices/target-document.js';
import { freeze, unfreeze } from '../../src/operations/freeze.js';
import type { Simulator } from '../../src/simulator/simulator.js';
import { databaseBackends } from '../support/database.js';
import { type Engine, startEngine } from '../support/engine.js';
import { kubectlFor } from '../support/kubectl.js';
import { BEARER, createTestReceiver, type TestReceiver } from '../support/webhook-receiver.js';

const NGINX = 'docker.io/library/nginx';
const REDIS = 'docker.io/library/redis';
const apps = (fleet: string): TargetApps => ({
  [fleet]: { services: { nginx: { image: `${NGINX}:1.27` }, cache: { image: `${REDIS}:7.0` } } },
});
const progressing = (rollout: ImageRollout) =>
  rollout.status?.conditions?.find((c) => c.type === 'Progressing');
/** How many simulated devices run each image, e.g. `{ 'docker.io/library/nginx:1.28': 2 }`. */
function imageCounts(simulator: Simulator): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const device of simulator.devices()) {
    for (const service of Object.values(device.services)) {
      counts[service.image] = (counts[service.image] ?? 0) + 1;
    }
  }
  return counts;
}
const fast = { interval: '0s' };
const health = { soakTime: '0s' };

/**
 * Fleet freeze end to end: the local API server, the device API, the controller, the webhook
 * receiver and simulated devices, with the freeze made and lifted by src/operations/freeze.ts.
 */
describe.each(databaseBackends.slice(-1))('fleet freeze (%s)', (backend) => {
  let engine: Engine;
  let receiver: TestReceiver;
  beforeAll(async () => {
    engine = await startEngine(backend);
    receiver = await createTestReceiver({ database: engine.database, kube: engine.kube });
  }, 60_000);
  afterAll(async () => {
    await receiver?.app.close();
    await engine?.stop();
  });

  /** A generic registry push of `image:tag`, as the webhook role receives it. */
  async function push(image: string, tag: string, id: string) {
    const answer = await receiver.app.inject({
      method: 'POST',
      url: '/api/v1/webhooks/generic',
      headers: { 'content-type': 'application/json', ...BEARER },
      payload: JSON.stringify({ image, tag, id }),
    });
    expect(answer.statusCode, answer.body).toBeLessThan(300);
  }

  it('holds a running rollout and a pushed one, keeps a hand pause, and unfreeze resumes exactly what it held', {
    timeout: 120_000,
  }, async () => {
    const simulator = await engine.simulate({
      register: { count: 10, fleet: 'line', apps: apps('line') },
      seed: 'line',
    });
    const selector = { fleets: ['line'] };
    await engine.policy('web', {
      selector,
      strategy: { type: 'Manual', batches: [20, 60, 100], ...fast },
      health,
    });
    await engine.policy('cache', { image: REDIS, selector, strategy: fast, health });
    await engine.policy('agent', { image: 'docker.io/library/busybox', selector, health });
    // An operator paused this one by hand before anything was frozen.
    await engine.rollout('agent-1-37', {
      policy: 'agent',
      image: 'docker.io/library/busybox',
      tag: '1.37',
      paused: true,
    });
    await engine.until('agent-1-37', (r) => expect(r.status?.phase).toBe('Paused'));
    // web runs: batch 1 (2 devices) updated, then it waits for approval.
    await engine.rollout('web-1-28', { policy: 'web', approvedBatches: 1 });
    await engine.until('web-1-28', (r) => expect(r.status?.phase).toBe('WaitingForApproval'));
    await vi.waitFor(() => expect(imageCounts(simulator)[`${NGINX}:1.28`]).toBe(2), {
      timeout: 30_000,
      interval: 100,
    });

    // Stop the line.
    await freeze(engine.kube, { namespace: 'default', name: 'incident', reason: 'INC-42' });
    const held = await engine.until('web-1-28', (r) => expect(r.status?.phase).toBe('Frozen'));
    expect(progressing(held)).toMatchObject({
      reason: 'Frozen',
      message: 'Frozen by FleetFreeze incident (INC-42): batch 2/3 waits',
    });
    // Approving every batch during the freeze starts none of them.
    await engine.patch('web-1-28', { spec: { approvedBatches: 3 } });
    await engine.until('web-1-28', (r) => {
      expect(r.status?.observedGeneration).toBe(r.metadata.generation);
      expect(r.status?.phase).toBe('Frozen');
    });
    // A push during the freeze still creates its rollout, which waits before selecting devices.
    await push(REDIS, '7.2', 'push-during-freeze');
    const [pushed] = (await engine.kube.imageRollouts.list('default')).filter(
      (r) => r.spec.policyRef.name === 'cache',
    );
    expect(pushed).toBeDefined();
    const pushedName = pushed?.metadata.name ?? '';
    const waiting = await engine.until(pushedName, (r) => expect(r.status?.phase).toBe('Frozen'));
    expect(waiting.status?.currentBatch).toBe(0);
    expect(waiting.status?.devices).toBeUndefined();
    // The freeze shows what it holds; the hand-paused rollout is not among them.
    const status = await vi.waitFor(
      async () => {
        const current = await engine.kube.fleetFreezes.get('default', 'incident');
        expect(current?.status?.heldRollouts).toEqual([pushedName, 'web-1-28'].sort());
        return current?.status;
      },
      { timeout: 15_000, interval: 100 },
    );
    expect(status?.heldCount).toBe(2);
    expect(status?.conditions?.[0]).toMatchObject({
      type: 'Active',
      status: 'True',
      reason: 'Active',
    });
    const metrics = await engine.controller?.registry.metrics();
    expect(metrics).toContain('fleet_rollout_freeze_active{namespace="default",name="incident"} 1');
    expect(metrics).toContain(
      'fleet_rollout_freeze_held_rollouts{namespace="default",name="incident"} 2',
    );
    const kubectl = await kubectlFor(engine.server);
    const table = await kubectl.run(['get', 'fleetfreezes', '--namespace', 'default']);
    expect(table.stderr).toBe('');
    expect(table.stdout).toMatch(/^NAME\s+ACTIVE\s+HELD\s+START\s+END\s+REASON\s+AGE\n/);
    // No window: the Start and End cells are empty, as kubectl prints a missing value.
    expect(table.stdout).toMatch(/\nincident\s+True\s+2\s+INC-42\s+\S+\n$/);
    await kubectl.cleanup();
    // Nothing changed on any device while frozen: 2 on the new nginx, none on the new redis.
    expect(imageCounts(simulator)).toEqual({
      [`${NGINX}:1.27`]: 8,
      [`${NGINX}:1.28`]: 2,
      [`${REDIS}:7.0`]: 10,
    });

    // Lift it: both held rollouts go on to the end; the hand-paused one stays paused.
    await unfreeze(engine.kube, { namespace: 'default', name: 'incident' });
    await engine.until('web-1-28', (r) => expect(r.status?.phase).toBe('Succeeded'), 60_000);
    await engine.until(pushedName, (r) => expect(r.status?.phase).toBe('Succeeded'), 60_000);
    await vi.waitFor(
      () =>
        expect(imageCounts(simulator)).toEqual({
          [`${NGINX}:1.28`]: 10,
          [`${REDIS}:7.2`]: 10,
        }),
      { timeout: 30_000, interval: 100 },
    );
    const agent = await engine.get('agent-1-37');
    expect(agent.spec.paused).toBe(true);
    expect(progressing(agent)?.reason).toBe('PausedByUser');
    expect(agent.status?.currentBatch).toBe(0);
    const reasons = async (name: string) =>
      (await engine.events(name)).map((event) => event.reason);
    expect(await reasons('web-1-28')).toEqual(
      expect.arrayContaining(['FreezeStarted', 'FreezeLifted', 'RolloutSucceeded']),
    );
    expect(await reasons(pushedName)).toEqual(
      expect.arrayContaining(['FreezeStarted', 'FreezeLifted', 'RolloutStarted']),
    );
    expect(await reasons('agent-1-37')).not.toContain('FreezeStarted');
    expect(await reasons('incident')).toContain('FreezeStarted');
    const after = await engine.controller?.registry.metrics();
    expect(after).not.toContain('fleet_rollout_freeze_active{');
  });

  it('activates and lifts a windowed freeze on its own, by the controller clock', {
    timeout: 120_000,
  }, async () => {
    const simulator = await engine.simulate({
      register: { count: 5, fleet: 'window', apps: apps('window') },
      seed: 'window',
    });
    await engine.policy('win', {
      selector: { fleets: ['window'] },
      strategy: { type: 'Manual', batches: [20, 100], ...fast },
      health,
    });
    const hour = 3600_000;
    const now = engine.clock.now();
    const window = {
      start: new Date(now.getTime() + hour),
      end: new Date(now.getTime() + 2 * hour),
    };
    const holiday: FleetFreeze = await freeze(
      engine.kube,
      {
        namespace: 'default',
        name: 'holiday',
        reason: 'Holiday change freeze',
        scope: { policies: ['win'] },
        window,
      },
      now,
    );
    const freezeCondition = async () =>
      (await engine.kube.fleetFreezes.get('default', holiday.metadata.name ?? ''))?.status
        ?.conditions?.[0];
    await vi.waitFor(async () => expect((await freezeCondition())?.reason).toBe('Scheduled'), {
      timeout: 15_000,
      interval: 100,
    });
    // Before the window the rollout runs its first batch.
    await engine.rollout('win-1-28', { policy: 'win', approvedBatches: 1 });
    await engine.until('win-1-28', (r) => expect(r.status?.phase).toBe('WaitingForApproval'));
    try {
      // Inside the window: held, even once approved.
      engine.clock.offsetMs = hour + 60_000;
      await engine.until('win-1-28', (r) => expect(r.status?.phase).toBe('Frozen'));
      await engine.patch('win-1-28', { spec: { approvedBatches: 2 } });
      await engine.until('win-1-28', (r) => {
        expect(r.status?.observedGeneration).toBe(r.metadata.generation);
        expect(r.status?.phase).toBe('Frozen');
      });
      await vi.waitFor(async () => expect((await freezeCondition())?.status).toBe('True'), {
        timeout: 15_000,
        interval: 100,
      });
      expect(imageCounts(simulator)[`${NGINX}:1.28`]).toBe(1);
      // After the window: it goes on by itself; the freeze stays, Ended, as a record.
      engine.clock.offsetMs = 2 * hour + 60_000;
      await engine.until('win-1-28', (r) => expect(r.status?.phase).toBe('Succeeded'), 60_000);
      await vi.waitFor(async () => expect((await freezeCondition())?.reason).toBe('Ended'), {
        timeout: 15_000,
        interval: 100,
      });
      const reasons = (await engine.events('holiday')).map((event) => event.reason);
      expect(reasons).toEqual(expect.arrayContaining(['FreezeStarted', 'FreezeLifted']));
    } finally {
      engine.clock.offsetMs = 0;
    }
  });
});
