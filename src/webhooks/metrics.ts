import { Counter, Histogram, type Registry } from 'prom-client';
import { METRIC_PREFIX } from '../telemetry/metrics.js';

/** What became of a delivery; the `outcome` label of the deliveries counter. */
export type DeliveryOutcomeLabel =
  | 'created'
  | 'existing'
  | 'duplicate'
  | 'ignored'
  | 'unmatched'
  | 'bad_request'
  | 'unauthorized'
  | 'not_found'
  | 'rate_limited'
  | 'too_large'
  | 'unsupported_media_type'
  | 'unavailable';

/** The receiver's metrics, registered on the caller's registry. Labels are bounded. */
export interface WebhookMetrics {
  deliveries: Counter<'registry' | 'outcome'>;
  /** Refused deliveries by registry (`unknown` before it is known) and a constant reason. */
  rejections: Counter<'registry' | 'reason'>;
  rolloutsCreated: Counter<'registry'>;
  digestResolutions: Counter<'result'>;
  duration: Histogram<'registry'>;
}

/** Creates and registers the receiver's metrics. */
export function createWebhookMetrics(registry: Registry): WebhookMetrics {
  return {
    deliveries: new Counter({
      name: `${METRIC_PREFIX}webhook_deliveries_total`,
      help: 'Registry webhook deliveries by registry and outcome.',
      labelNames: ['registry', 'outcome'],
      registers: [registry],
    }),
    rejections: new Counter({
      name: `${METRIC_PREFIX}webhook_rejections_total`,
      help: 'Registry webhook deliveries refused with a 4xx (nothing stored), by registry and reason.',
      labelNames: ['registry', 'reason'],
      registers: [registry],
    }),
    rolloutsCreated: new Counter({
      name: `${METRIC_PREFIX}webhook_rollouts_created_total`,
      help: 'ImageRollouts created from registry webhooks, by registry.',
      labelNames: ['registry'],
      registers: [registry],
    }),
    digestResolutions: new Counter({
      name: `${METRIC_PREFIX}webhook_digest_resolutions_total`,
      help: 'Tag to digest resolutions against registries, by result (resolved, failed).',
      labelNames: ['result'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: `${METRIC_PREFIX}webhook_request_duration_seconds`,
      help: 'Time to answer a registry webhook delivery, by registry.',
      labelNames: ['registry'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
  };
}
