import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { METRIC_PREFIX } from '../telemetry/metrics.js';

/** The local API server's metrics; labels are bounded (verbs, served resources, status codes). */
export interface ApiServerMetrics {
  requests: Counter<'verb' | 'resource' | 'code'>;
  duration: Histogram<'verb' | 'resource'>;
  watches: Gauge<'resource'>;
  watchEvents: Counter<'resource' | 'type'>;
}

/** Registers the API server metrics in `registry`. */
export function createApiServerMetrics(registry: Registry): ApiServerMetrics {
  return {
    requests: new Counter({
      name: `${METRIC_PREFIX}apiserver_requests_total`,
      help: 'Requests to the local Kubernetes API server by verb, resource and HTTP status code.',
      labelNames: ['verb', 'resource', 'code'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: `${METRIC_PREFIX}apiserver_request_duration_seconds`,
      help: 'Latency of non-watch requests to the local Kubernetes API server.',
      labelNames: ['verb', 'resource'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    watches: new Gauge({
      name: `${METRIC_PREFIX}apiserver_watches`,
      help: 'Open watches on the local Kubernetes API server by resource.',
      labelNames: ['resource'],
      registers: [registry],
    }),
    watchEvents: new Counter({
      name: `${METRIC_PREFIX}apiserver_watch_events_total`,
      help: 'Watch events sent by the local Kubernetes API server by resource and event type.',
      labelNames: ['resource', 'type'],
      registers: [registry],
    }),
  };
}
