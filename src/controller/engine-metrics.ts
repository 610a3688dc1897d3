import { Gauge, Histogram, type Registry } from 'prom-client';
import type { ImageRollout, RolloutPhase } from '../api/types.js';
import type { BatchProgress } from '../planner/types.js';
import { METRIC_PREFIX } from '../telemetry/metrics.js';

/** Device states counted across running rollouts: a bounded label. */
const DEVICE_STATES = [
  'pending',
  'scheduled',
  'updating',
  'soaking',
  'healthy',
  'failed',
  'offline',
] as const;

type DeviceState = (typeof DEVICE_STATES)[number];

/** What a reconcile ended with, as the `result` label. */
export type ReconcileResult = 'success' | 'error';

/**
 * The rollout engine's metrics: rollouts by phase (from the cache at scrape time), devices by
 * state across rollouts that are not terminal, and reconcile durations. Labels are bounded:
 * phases, states, kinds and results — never a rollout or device name.
 */
export class EngineMetrics {
  private readonly reconcileSeconds: Histogram<'kind' | 'result'>;
  private readonly counts = new Map<string, Record<DeviceState, number>>();
  private readonly deviceApiAvailable: Gauge;

  constructor(registry: Registry, rollouts: () => readonly ImageRollout[]) {
    const registers = [registry];
    this.reconcileSeconds = new Histogram({
      name: `${METRIC_PREFIX}reconcile_duration_seconds`,
      help: 'Time one reconcile takes, by resource kind and result.',
      labelNames: ['kind', 'result'] as const,
      buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120],
      registers,
    });
    // Every series exists from the start, so `increase()` sees the first error.
    for (const kind of ['ImageRollout', 'ImagePolicy']) {
      for (const result of ['success', 'error']) this.reconcileSeconds.zero({ kind, result });
    }
    new Gauge({
      name: `${METRIC_PREFIX}rollouts`,
      help: 'ImageRollouts by phase.',
      labelNames: ['phase'] as const,
      registers,
      collect() {
        this.reset();
        for (const rollout of rollouts()) {
          this.inc({ phase: rollout.status?.phase ?? ('Pending' satisfies RolloutPhase) });
        }
      },
    });
    this.deviceApiAvailable = new Gauge({
      name: `${METRIC_PREFIX}device_api_available`,
      help: 'Whether devices can report (a device-API replica beats and Postgres answers), as the leader sees it.',
      registers,
    });
    const counts = this.counts;
    new Gauge({
      name: `${METRIC_PREFIX}rollout_devices`,
      help: 'Devices of rollouts that are not finished, by state.',
      labelNames: ['state'] as const,
      registers,
      collect() {
        for (const state of DEVICE_STATES) {
          let total = 0;
          for (const byState of counts.values()) total += byState[state];
          this.set({ state }, total);
        }
      },
    });
  }

  /** Times one reconcile of `kind`. */
  observe(kind: 'ImageRollout' | 'ImagePolicy', result: ReconcileResult, seconds: number): void {
    this.reconcileSeconds.observe({ kind, result }, seconds);
  }

  /** Records whether the device API can take reports (1) or rollouts wait for it (0). */
  setDeviceApiAvailable(available: boolean): void {
    this.deviceApiAvailable.set(available ? 1 : 0);
  }

  /** Forgets every rollout's device counts (this process stopped reconciling). */
  clearDevices(): void {
    this.counts.clear();
  }

  /** Records the device counts of a running rollout; `undefined` forgets it (finished, deleted). */
  setDevices(key: string, progress: readonly BatchProgress[] | undefined): void {
    if (!progress) {
      this.counts.delete(key);
      return;
    }
    const sum = Object.fromEntries(DEVICE_STATES.map((state) => [state, 0])) as Record<
      DeviceState,
      number
    >;
    for (const batch of progress) for (const state of DEVICE_STATES) sum[state] += batch[state];
    this.counts.set(key, sum);
  }
}
