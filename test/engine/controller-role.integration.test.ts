import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { type ControllerRole, startControllerRole } from '../../src/controller/controller-role.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { createMetricsRegistry } from '../../src/telemetry/metrics.js';
import { databaseBackends } from '../support/database.js';
import { type Engine, startEngine } from '../support/engine.js';

/** The leader-elected controller role: one replica reconciles; another takes over. */
describe.each(databaseBackends.slice(-1))('the controller role (%s)', (backend) => {
  let engine: Engine;
  const roles: ControllerRole[] = [];
  beforeAll(async () => {
    engine = await startEngine(backend, { controller: false });
  }, 60_000);
  afterAll(async () => {
    for (const role of roles) await role.stop();
    await engine?.stop();
  });

  const role = (identity: string) => {
    const config = loadConfig({
      FLEET_ROLLOUT_LEADER_IDENTITY: identity,
      FLEET_ROLLOUT_LEASE_DURATION_SECONDS: '4',
      FLEET_ROLLOUT_RENEW_DEADLINE_SECONDS: '2',
      FLEET_ROLLOUT_RETRY_PERIOD_SECONDS: '1',
      FLEET_ROLLOUT_RESYNC_SECONDS: '1',
    });
    const started = startControllerRole(config, {
      database: engine.database,
      kube: engine.kube,
      logger: silentLogger(),
      metrics: createMetricsRegistry({ processMetrics: false }),
    });
    roles.push(started);
    return started;
  };

  it('stops reconciling when the lease is lost; a standby finishes', {
    timeout: 60_000,
  }, async () => {
    await engine.simulate({
      register: {
        count: 4,
        fleet: 'sim',
        apps: { web: { services: { nginx: { image: 'nginx:1' } } } },
      },
    });
    const first = role('first');
    await vi.waitFor(() => expect(first.elector?.isLeader).toBe(true), { timeout: 10_000 });
    const second = role('second');
    await engine.policy('web', {
      strategy: { type: 'Manual', interval: '0s' },
      health: { soakTime: '0s' },
    });
    await engine.rollout('web-1-28', { policy: 'web' });
    await engine.until('web-1-28', (r) => expect(r.status?.phase).toBe('WaitingForApproval'));
    // Someone else takes the lease: the leader steps down at its next renew.
    const lease = (await engine.kube.leases.get('default', 'fleet-rollout-controller'))!;
    await engine.kube.leases.replace({
      ...lease,
      spec: { ...lease.spec, holderIdentity: 'someone-else' },
    });
    await vi.waitFor(() => expect(first.elector?.isLeader).toBe(false), { timeout: 5_000 });
    await first.stop();
    // Once that lease expires the standby leads and carries the rollout on.
    await vi.waitFor(() => expect(second.elector?.isLeader).toBe(true), { timeout: 15_000 });
    await engine.patch('web-1-28', { spec: { approvedBatches: 3 } });
    await engine.until('web-1-28', (r) => expect(r.status?.phase).toBe('Succeeded'));
  });
});
