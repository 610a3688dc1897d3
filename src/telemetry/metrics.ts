import { readFileSync } from 'node:fs';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';

/** Every metric name of this product starts with this; see DESIGN.md. */
export const METRIC_PREFIX = 'fleet_rollout_';

/** The package version (package.json sits two levels above both src/telemetry and dist/telemetry). */
export const VERSION: string = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
).version;

/**
 * Creates a registry owned by the caller (never prom-client's global one) with
 * `fleet_rollout_build_info` and, unless turned off, the standard process and Node.js metrics
 * under their usual unprefixed names (`process_*`, `nodejs_*`), as stock dashboards expect.
 */
export function createMetricsRegistry(options: { processMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  new Gauge({
    name: `${METRIC_PREFIX}build_info`,
    help: 'Always 1: the version of fleet-rollout this process runs.',
    labelNames: ['version'] as const,
    registers: [registry],
  }).set({ version: VERSION }, 1);
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  return registry;
}
