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
  return {
    depth: gauge(registry, 'workqueue_depth', 'Keys ready to be processed.'),
    adds: counter(registry, 'workqueue_adds_total', 'Keys added (deduplicated adds count once).'),
    retries: counter(registry, 'workqueue_retries_total', 'Keys requeued with backoff.'),
    errors: counter(
      registry,
      'workqueue_errors_total',
      'Failed processing; kind is retried or terminal.',
      ['name', 'kind'],
    ) as Counter<'name' | 'kind'>,
    queueDuration: histogram(
      registry,
      'workqueue_queue_duration_seconds',
      'Time a key waits in the queue before processing starts.',
    ),
    workDuration: histogram(
      registry,
      'workqueue_work_duration_seconds',
      'Time processing one key takes.',
    ),
  };
}

function gauge(registry: Registry, name: string, help: string): Gauge<'name'> {
  const fullName = METRIC_PREFIX + name;
  const existing = registry.getSingleMetric(fullName);
  if (existing) return existing as Gauge<'name'>;
  return new Gauge({ name: fullName, help, labelNames: ['name'], registers: [registry] });
}

function counter(registry: Registry, name: string, help: string, labelNames = ['name']) {
  const fullName = METRIC_PREFIX + name;
  const existing = registry.getSingleMetric(fullName);
  if (existing) return existing as Counter<'name'>;
  return new Counter({
    name: fullName,
    help,
    labelNames,
    registers: [registry],
  }) as Counter<'name'>;
}

function histogram(registry: Registry, name: string, help: string): Histogram<'name'> {
  const fullName = METRIC_PREFIX + name;
  const existing = registry.getSingleMetric(fullName);
  if (existing) return existing as Histogram<'name'>;
  return new Histogram({
    name: fullName,
    help,
    labelNames: ['name'],
    buckets: BUCKETS,
    registers: [registry],
  });
}
