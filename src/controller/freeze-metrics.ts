import { Gauge, type Registry } from 'prom-client';
import type { FleetFreeze } from '../api/types.js';
import { freezeTiming } from '../planner/freeze.js';
import { METRIC_PREFIX } from '../telemetry/metrics.js';

/** What the freeze metrics read at scrape time: the controller's informer cache and clock. */
export interface FreezeMetricsSource {
  freezes(): readonly FleetFreeze[];
  now(): Date;
}

/**
 * `fleet_rollout_freeze_active` (1 while a FleetFreeze holds, 0 before or after its window) and
 * `fleet_rollout_freeze_held_rollouts`, one series per FleetFreeze, read from the informer cache
 * at scrape time: only the leader exports them, and a deleted freeze's series disappear with it.
 */
export function registerFreezeMetrics(registry: Registry, source: FreezeMetricsSource): void {
  const labelNames = ['namespace', 'name'] as const;
  const labelsOf = (freeze: FleetFreeze) => ({
    namespace: freeze.metadata.namespace ?? '',
    name: freeze.metadata.name ?? '',
  });
  new Gauge({
    name: `${METRIC_PREFIX}freeze_active`,
    help: 'Whether a FleetFreeze holds the rollouts in its scope now (1) or not (0: before or after its window).',
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      const now = source.now();
      for (const freeze of source.freezes()) {
        this.set(labelsOf(freeze), freezeTiming(freeze, now).state === 'Active' ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}freeze_held_rollouts`,
    help: 'Rollouts a FleetFreeze holds, as its status last counted them.',
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const freeze of source.freezes()) {
        this.set(labelsOf(freeze), freeze.status?.heldCount ?? 0);
      }
    },
  });
}
