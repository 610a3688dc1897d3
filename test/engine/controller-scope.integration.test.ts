import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { type ControllerRole, startControllerRole } from '../../src/controller/controller-role.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { createMetricsRegistry } from '../../src/telemetry/metrics.js';
import { clientOf } from '../support/apiserver.js';
import { databaseBackends } from '../support/database.js';
import { type Engine, startEngine } from '../support/engine.js';

/** `controller --namespace default --leader-elect=false`: one namespace, no Lease. */
describe.each(databaseBackends.slice(-1))(
  'a controller scoped to one namespace (%s)',
  (backend) => {
    let engine: Engine;
    let role: ControllerRole | undefined;
    beforeAll(async () => {
      engine = await startEngine(backend, { controller: false });
    }, 60_000);
    afterAll(async () => {
      await role?.stop();
      await engine?.stop();
    });

    it('reconciles only its namespace and takes no Lease', { timeout: 60_000 }, async () => {
      await engine.simulate({
        register: {
          count: 2,
          fleet: 'sim',
          apps: { web: { services: { nginx: { image: 'nginx:1' } } } },
        },
      });
      const manual = {
        strategy: { type: 'Manual' as const, interval: '0s' },
        health: { soakTime: '0s' },
      };
      await engine.policy('web', manual);
      await engine.rollout('web-1-28', { policy: 'web' });
      // The same policy and rollout in another namespace, created before the controller starts.
      const [policy, rollout] = [
        await engine.kube.imagePolicies.get('default', 'web'),
        await engine.kube.imageRollouts.get('default', 'web-1-28'),
      ];
      const created = await clientOf(engine.server).post('/api/v1/namespaces', {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: 'elsewhere' },
      });
      expect(created.status).toBe(201);
      await engine.kube.imagePolicies.create({
        ...policy!,
        metadata: { name: 'web', namespace: 'elsewhere' },
      });
      await engine.kube.imageRollouts.create({
        ...rollout!,
        metadata: { name: 'web-1-28', namespace: 'elsewhere' },
        status: undefined,
      });

      const metrics = createMetricsRegistry({ processMetrics: false });
      role = startControllerRole(
        loadConfig({
          FLEET_ROLLOUT_NAMESPACE: 'default',
          FLEET_ROLLOUT_LEADER_ELECT: 'false',
          FLEET_ROLLOUT_RESYNC_SECONDS: '1',
        }),
        { database: engine.database, kube: engine.kube, logger: silentLogger(), metrics },
      );
      expect(role.elector).toBeUndefined();
      await engine.until('web-1-28', (r) => expect(r.status?.phase).toBe('WaitingForApproval'));

      // The controller's cache holds the one rollout of its namespace (a gauge over the cache).
      const rollouts = await metrics.getSingleMetric('fleet_rollout_rollouts')?.get();
      expect(rollouts?.values.reduce((sum, { value }) => sum + value, 0)).toBe(1);
      const other = await engine.kube.imageRollouts.get('elsewhere', 'web-1-28');
      expect(other?.status).toBeUndefined();
      expect(other?.metadata.finalizers ?? []).toEqual([]);
      expect(await engine.kube.leases.get('default', 'fleet-rollout-controller')).toBeUndefined();

      // Running without a Lease, it carries the rollout on as a leader would.
      await engine.patch('web-1-28', { spec: { approvedBatches: 3 } });
      await engine.until('web-1-28', (r) => expect(r.status?.phase).toBe('Succeeded'));
      await role.stop();
      role = undefined;
    });
  },
);
