import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { METRIC_PREFIX } from '../telemetry/metrics.js';

/** The work-queue metrics of one registry, labelled by queue name (one per controller). */
export interface QueueMetrics {
  depth: Gauge<'name'>;
  adds: Counter<'name'>;
  retries: Counter<'name'>;
  errors: Counter<'name' | 'kind'>;
  queueDuration: Histogram<'name'>;
  workDuration: Histogram<'name'>;
}

const BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** Registers the queue metrics on `registry`, or returns the ones a previous queue registered. */
export function queueMetrics(registry: Registry): QueueMetrics {
  const registers = [registry];
  const labelNames = ['name'] as const;
  const seconds = (name: string, help: string) =>
    reuse(
      registry,
      name,
      (fullName) =>
        new Histogram({ name: fullName, help, labelNames, buckets: BUCKETS, registers }),
    );
  const count = (name: string, help: string) =>
    reuse(
      registry,
      name,
      (fullName) => new Counter({ name: fullName, help, labelNames, registers }),
    );
  return {
    depth: reuse(
      registry,
      'workqueue_depth',
      (name) => new Gauge({ name, help: 'Keys ready to be processed.', labelNames, registers }),
    ),
    adds: count('workqueue_adds_total', 'Keys added (a key already queued counts once).'),
    retries: count('workqueue_retries_total', 'Keys requeued with backoff.'),
    errors: reuse(
      registry,
      'workqueue_errors_total',
      (name) =>
        new Counter({
          name,
          help: 'Failed processing; kind is retried or terminal.',
          labelNames: ['name', 'kind'] as const,
          registers,
        }),
    ),
    queueDuration: seconds(
      'workqueue_queue_duration_seconds',
      'Time a key waits before processing.',
    ),
    workDuration: seconds('workqueue_work_duration_seconds', 'Time processing one key takes.'),
  };
}

/** The metric registered as `name` (prefixed), created by `create` the first time. */
function reuse<M>(registry: Registry, name: string, create: (fullName: string) => M): M {
  const fullName = METRIC_PREFIX + name;
  return (registry.getSingleMetric(fullName) as M | undefined) ?? create(fullName);
}
