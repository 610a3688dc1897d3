import { collectDefaultMetrics, Registry } from 'prom-client';

/** Every metric name starts with this; see DESIGN.md. */
export const METRIC_PREFIX = 'fleet_rollout_';

/** Creates a registry owned by the caller (never prom-client's global one), with process metrics. */
export function createMetricsRegistry(options: { processMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  if (options.processMetrics ?? true) {
    collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  }
  return registry;
}
