import { Counter, Gauge, type Registry } from 'prom-client';
import {
  type BatchStatus,
  ConditionTypes,
  type ImagePolicy,
  type ImageRollout,
  ROLLOUT_PHASES,
  type RolloutPhase,
} from '../api/types.js';
import { findCondition } from '../planner/conditions.js';
import { resolveRolloutSettings } from '../planner/settings.js';
import { METRIC_PREFIX } from '../telemetry/metrics.js';

/** The `reason` of a Progressing rollout whose current batch has run past its deadline. */
export const PROGRESS_DEADLINE_EXCEEDED = 'ProgressDeadlineExceeded';

/** The labels naming one rollout: bounded by the number of ImageRollouts, never by devices. */
type RolloutLabel = 'namespace' | 'name' | 'policy';
const LABELS = ['namespace', 'name', 'policy'] as const;

/** What the rollout metrics read at scrape time: the controller's informer caches. */
export interface RolloutMetricsSource {
  rollouts(): readonly ImageRollout[];
  policy(namespace: string, name: string): ImagePolicy | undefined;
  now(): Date;
}

/** What an earlier status showed, to notice transitions. */
interface Seen {
  phase: RolloutPhase | undefined;
  budgetTripped: boolean;
}

/**
 * Per-rollout metrics. Gauges (phase, batches, device counts, degraded and why) are read from the
 * informer cache at scrape time, so only the leader, whose informers run, exports them. Counters
 * (phase transitions, rollbacks, failure-budget trips) compare each status the informer hears
 * with the one before: a process counts what it heard while leading, so per rollout
 * `sum(increase(...))` over every process is exact across a leader change.
 */
export class RolloutMetrics {
  private readonly seen = new Map<string, Seen>();
  private readonly transitions: Counter<RolloutLabel | 'phase'>;
  private readonly rollbacks: Counter<RolloutLabel>;
  private readonly budgetTrips: Counter<RolloutLabel>;

  constructor(registry: Registry, source: RolloutMetricsSource) {
    const registers = [registry];
    this.transitions = new Counter({
      name: `${METRIC_PREFIX}rollout_phase_transitions_total`,
      help: 'Phase changes of an ImageRollout, by the phase entered (counted by the leader).',
      labelNames: [...LABELS, 'phase'],
      registers,
    });
    this.rollbacks = new Counter({
      name: `${METRIC_PREFIX}rollout_rollbacks_total`,
      help: 'Rollbacks started (phase became RollingBack), counted by the leader.',
      labelNames: LABELS,
      registers,
    });
    this.budgetTrips = new Counter({
      name: `${METRIC_PREFIX}rollout_failure_budget_trips_total`,
      help: 'Times a batch exceeded the failure budget (Degraded became FailureBudgetExceeded).',
      labelNames: LABELS,
      registers,
    });
    registerGauges(registers, source);
  }

  /** Forgets what earlier statuses showed (a new leadership term lists everything again). */
  reset(): void {
    this.seen.clear();
  }

  /**
   * Hears one rollout from the informer (`gone` once deleted). The first sighting only starts
   * the counters at 0, so a restart does not count every rollout's phase again.
   */
  observe(rollout: ImageRollout, gone: boolean): void {
    const labels = labelsOf(rollout);
    const key = `${labels.namespace}/${labels.name}`;
    if (gone) {
      this.seen.delete(key);
      this.forget(labels);
      return;
    }
    const now: Seen = { phase: rollout.status?.phase, budgetTripped: budgetTripped(rollout) };
    const before = this.seen.get(key);
    this.seen.set(key, now);
    if (!before) {
      this.rollbacks.inc(labels, 0);
      this.budgetTrips.inc(labels, 0);
      return;
    }
    if (now.phase !== undefined && now.phase !== before.phase) {
      this.transitions.inc({ ...labels, phase: now.phase });
      if (now.phase === 'RollingBack') this.rollbacks.inc(labels);
    }
    if (now.budgetTripped && !before.budgetTripped) this.budgetTrips.inc(labels);
  }

  private forget(labels: Record<RolloutLabel, string>): void {
    this.rollbacks.remove(labels);
    this.budgetTrips.remove(labels);
    for (const phase of ROLLOUT_PHASES) this.transitions.remove({ ...labels, phase });
  }
}

function budgetTripped(rollout: ImageRollout): boolean {
  const degraded = findCondition(rollout.status?.conditions, ConditionTypes.Degraded);
  return degraded?.status === 'True' && degraded.reason === 'FailureBudgetExceeded';
}

function labelsOf(rollout: ImageRollout): Record<RolloutLabel, string> {
  return {
    namespace: rollout.metadata.namespace ?? '',
    name: rollout.metadata.name ?? '',
    policy: rollout.spec.policyRef?.name ?? '',
  };
}

/** Device counts of a rollout's status and of each batch, by `state`. */
const STATUS_STATES = ['selected', 'updated', 'healthy', 'failed', 'offline', 'pending'] as const;

/** The scrape-time gauges over the cached rollouts. */
function registerGauges(registers: Registry[], source: RolloutMetricsSource): void {
  const gauge = <L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    fill: (gauge: Gauge<L>, rollout: ImageRollout, labels: Record<RolloutLabel, string>) => void,
  ) =>
    new Gauge<L>({
      name: `${METRIC_PREFIX}${name}`,
      help,
      labelNames,
      registers,
      collect() {
        this.reset();
        for (const rollout of source.rollouts()) fill(this, rollout, labelsOf(rollout));
      },
    });
  gauge(
    'rollout_info',
    'Always 1: the image and tag of each ImageRollout.',
    [...LABELS, 'image', 'tag'],
    (g, r, labels) => g.set({ ...labels, image: r.spec.image, tag: r.spec.tag }, 1),
  );
  gauge(
    'rollout_phase',
    '1 for the phase each ImageRollout is in, 0 for the others.',
    [...LABELS, 'phase'],
    (g, r, labels) => {
      const current = r.status?.phase ?? 'Pending';
      for (const phase of ROLLOUT_PHASES) g.set({ ...labels, phase }, phase === current ? 1 : 0);
    },
  );
  gauge(
    'rollout_current_batch',
    'Latest started batch (1-based); 0 before the first.',
    LABELS,
    (g, r, labels) => g.set(labels, r.status?.currentBatch ?? 0),
  );
  gauge('rollout_batches', 'Number of batches the rollout is planned in.', LABELS, (g, r, labels) =>
    g.set(labels, r.status?.totalBatches ?? 0),
  );
  gauge(
    'rollout_status_devices',
    'Devices of a rollout by state: selected, updated, healthy, failed, offline, pending.',
    [...LABELS, 'state'],
    (g, r, labels) => {
      for (const [state, value] of Object.entries(statusCounts(r)))
        g.set({ ...labels, state }, value);
    },
  );
  gauge(
    'rollout_batch_devices',
    'Devices of each batch by state: selected, updated, healthy, failed, offline, pending.',
    [...LABELS, 'batch', 'state'],
    (g, r, labels) => {
      for (const b of r.status?.batches ?? []) {
        const batch = String(b.batch);
        const counts = {
          ...{ selected: b.devices, updated: b.updated, healthy: b.healthy },
          ...{ failed: b.failed, offline: b.offline, pending: b.pending },
        };
        for (const [state, value] of Object.entries(counts))
          g.set({ ...labels, batch, state }, value);
      }
    },
  );
  gauge(
    'rollout_degraded',
    '1 while a rollout is degraded, with why: its Degraded condition reason, or ProgressDeadlineExceeded.',
    [...LABELS, 'reason'],
    (g, r, labels) => {
      const reason = degradedReason(r, source);
      if (reason !== undefined) g.set({ ...labels, reason }, 1);
    },
  );
  gauge(
    'rollout_batch_transition_timestamp_seconds',
    'When a batch of the rollout last started or completed (or the rollout started), Unix seconds.',
    LABELS,
    (g, r, labels) => {
      const at = lastBatchTransition(r);
      if (at !== undefined) g.set(labels, at / 1000);
    },
  );
}

function statusCounts(rollout: ImageRollout): Record<(typeof STATUS_STATES)[number], number> {
  const status = rollout.status;
  const sum = (pick: (batch: BatchStatus) => number) =>
    (status?.batches ?? []).reduce((total, batch) => total + pick(batch), 0);
  return {
    selected: status?.devices ?? 0,
    updated: status?.updated ?? 0,
    healthy: status?.healthy ?? 0,
    failed: status?.failed ?? 0,
    offline: sum((batch) => batch.offline),
    pending: sum((batch) => batch.pending),
  };
}

/**
 * Why a rollout is degraded: the reason of its Degraded condition while True (generic, so a
 * reason added later shows up too); else ProgressDeadlineExceeded while it is Progressing and
 * its latest batch, unfinished, started longer ago than the progress deadline plus the soak
 * time (its devices would all have been judged by then: the controller is not getting through).
 */
function degradedReason(rollout: ImageRollout, source: RolloutMetricsSource): string | undefined {
  const degraded = findCondition(rollout.status?.conditions, ConditionTypes.Degraded);
  if (degraded?.status === 'True') return degraded.reason;
  const status = rollout.status;
  if (status?.phase !== 'Progressing') return undefined;
  const batch = status.batches?.[(status.currentBatch ?? 0) - 1];
  if (batch?.startedAt === undefined || batch.completedAt !== undefined) return undefined;
  const policy = source.policy(rollout.metadata.namespace ?? '', rollout.spec.policyRef?.name);
  const resolved = resolveRolloutSettings(rollout, policy);
  if (!('settings' in resolved)) return undefined;
  const { progressDeadlineMs, soakMs } = resolved.settings;
  const late = Date.parse(batch.startedAt) + progressDeadlineMs + soakMs;
  return source.now().getTime() > late ? PROGRESS_DEADLINE_EXCEEDED : undefined;
}

/** Milliseconds of the latest batch start or completion, or of the rollout's start. */
function lastBatchTransition(rollout: ImageRollout): number | undefined {
  const status = rollout.status;
  const times = [status?.startedAt];
  for (const batch of status?.batches ?? []) times.push(batch.startedAt, batch.completedAt);
  const parsed = times.filter((t): t is string => t !== undefined).map((t) => Date.parse(t));
  const valid = parsed.filter((t) => Number.isFinite(t));
  return valid.length === 0 ? undefined : Math.max(...valid);
}
