import type { Registry } from 'prom-client';
import { createApiServerMetrics } from '../../src/apiserver/metrics.js';
import { EngineMetrics } from '../../src/controller/engine-metrics.js';
import { registerFreezeMetrics } from '../../src/controller/freeze-metrics.js';
import { LeaderElector } from '../../src/controller/leader-election.js';
import { queueMetrics } from '../../src/controller/queue-metrics.js';
import { RolloutMetrics } from '../../src/controller/rollout-metrics.js';
import type { Database } from '../../src/db/client.js';
import { startEventLogPruner } from '../../src/db/event-log-retention.js';
import { DeviceCache } from '../../src/devices/device-cache.js';
import { registerFleetMetrics } from '../../src/devices/fleet-metrics.js';
import { createDeviceMetrics } from '../../src/devices/metrics.js';
import { routeTimer } from '../../src/http/request-metrics.js';
import { NotificationMetrics } from '../../src/notifications/metrics.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { createMetricsRegistry } from '../../src/telemetry/metrics.js';
import { createWebhookMetrics } from '../../src/webhooks/metrics.js';
import { MemoryLeaseStore } from './memory-leases.js';

/**
 * One registry holding the metrics of every role, as `start` registers them: what
 * docs/metrics.md must document. The live Prometheus test checks the same against a real process.
 */
export async function registryOfEveryRole(): Promise<Registry> {
  const registry = createMetricsRegistry();
  createApiServerMetrics(registry);
  createDeviceMetrics(registry, new DeviceCache());
  registerFleetMetrics(registry, { query: async () => [] });
  routeTimer(registry, '/metrics');
  createWebhookMetrics(registry);
  new EngineMetrics(registry, () => []);
  new RolloutMetrics(registry, {
    rollouts: () => [],
    policy: () => undefined,
    now: () => new Date(),
  });
  queueMetrics(registry);
  registerFreezeMetrics(registry, { freezes: () => [], now: () => new Date() });
  new NotificationMetrics(registry);
  new LeaderElector({
    leases: new MemoryLeaseStore().client(),
    namespace: 'default',
    name: 'lease',
    identity: 'test',
    onStartedLeading: () => undefined,
    registry,
  });
  const database = { query: async () => [] } as unknown as Database;
  await startEventLogPruner({
    database,
    retentionMs: 1,
    logger: silentLogger(),
    metrics: registry,
  }).stop();
  return registry;
}
