import type { Metric } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { registryOfEveryRole } from '../support/all-metrics.js';
import { documentedMetrics } from '../support/metrics-doc.js';

describe('docs/metrics.md', async () => {
  const registry = await registryOfEveryRole();
  const documented = documentedMetrics();

  it('documents every metric any role registers, with its type and labels', async () => {
    const registered = await registry.getMetricsAsJSON();
    expect(registered.length).toBeGreaterThan(60);
    const missing = registered.filter((metric) => !documented.has(metric.name));
    expect(missing.map((metric) => metric.name)).toEqual([]);
    for (const metric of registered) {
      expect(documented.get(metric.name)?.type, metric.name).toBe(String(metric.type));
      const declared = (registry.getSingleMetric(metric.name) as Metric & { labelNames?: string[] })
        ?.labelNames;
      if (declared) expect(documented.get(metric.name)?.labels, metric.name).toEqual(declared);
    }
  });

  it('lists no metric that no role registers', async () => {
    const registered = new Set((await registry.getMetricsAsJSON()).map((metric) => metric.name));
    expect([...documented.keys()].filter((name) => !registered.has(name))).toEqual([]);
  });

  it('names no standard process or Node.js metric with the product prefix', async () => {
    const names = (await registry.getMetricsAsJSON()).map((metric) => metric.name);
    expect(names).toContain('process_cpu_seconds_total');
    expect(names).toContain('nodejs_heap_size_used_bytes');
    expect(names.filter((name) => /^fleet_rollout_(process|nodejs)_/.test(name))).toEqual([]);
  });
});
