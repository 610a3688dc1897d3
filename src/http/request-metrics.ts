import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Metric, Registry } from 'prom-client';

const DURATION_METRIC = 'fleet_rollout_http_request_duration_seconds';

/** Latency buckets in seconds, from sub-millisecond 304s up to long polls. */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 30, 120, 300];

/**
 * Route `config` of a hot route that records its own latency with `routeTimer`. Fastify only
 * attaches response listeners to routes with onResponse hooks; skipping them measured a fifth
 * more 304s per second.
 */
export const SELF_TIMED = { selfTimed: true } as const;

/** Records one request: method, status and the `performance.now()` at which it started. */
export type RouteTimer = (method: string, status: number, startedAt: number) => void;

/** Bucket counts of one label set, in plain numbers: an observation allocates nothing. */
class Series {
  readonly counts = new Float64Array(BUCKETS.length + 1);
  sum = 0;

  constructor(readonly labels: Record<string, string>) {}

  observe(seconds: number): void {
    let bucket = 0;
    while (bucket < BUCKETS.length && seconds > (BUCKETS[bucket] as number)) bucket++;
    this.counts[bucket] = (this.counts[bucket] as number) + 1;
    this.sum += seconds;
  }
}

/**
 * `fleet_rollout_http_request_duration_seconds{route, method, status}`, a Prometheus histogram
 * (its `_count` is the request count). prom-client's Histogram builds a label hash and converts
 * bucket bounds to strings on every observation, a measurable share of a 304; this one keeps
 * counts per series and builds samples only at scrape. It implements what prom-client's Registry
 * reads of a metric (name, help, type, aggregator, get, reset).
 */
class DurationHistogram {
  readonly name = DURATION_METRIC;
  readonly help = 'HTTP request latency by route pattern, method and status code.';
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series: Series[] = [];

  /** The series of one label set; create once and keep it. */
  seriesOf(labels: Record<string, string>): Series {
    const series = new Series(labels);
    this.series.push(series);
    return series;
  }

  async get() {
    const values = this.series.flatMap((series) => {
      let cumulative = 0;
      const buckets = [...BUCKETS, Number.POSITIVE_INFINITY].map((bound, i) => {
        cumulative += series.counts[i] as number;
        const le = bound === Number.POSITIVE_INFINITY ? '+Inf' : bound;
        return {
          metricName: `${this.name}_bucket`,
          labels: { ...series.labels, le },
          value: cumulative,
        };
      });
      return [
        ...buckets,
        { metricName: `${this.name}_sum`, labels: series.labels, value: series.sum },
        { metricName: `${this.name}_count`, labels: series.labels, value: cumulative },
      ];
    });
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values,
    };
  }

  reset(): void {
    for (const series of this.series) {
      series.counts.fill(0);
      series.sum = 0;
    }
  }
}

function durationHistogram(registry: Registry): DurationHistogram {
  const existing = registry.getSingleMetric(DURATION_METRIC);
  if (existing) return existing as unknown as DurationHistogram;
  const histogram = new DurationHistogram();
  registry.registerMetric(histogram as unknown as Metric);
  return histogram;
}

/**
 * The request timer of one route. Labels are the route pattern, never the URL, so they stay
 * bounded; a request costs two map lookups and a few additions.
 */
export function routeTimer(registry: Registry, route: string): RouteTimer {
  const histogram = durationHistogram(registry);
  const byMethod = new Map<string, Map<number, Series>>();
  return (method, status, startedAt) => {
    let byStatus = byMethod.get(method);
    if (byStatus === undefined) {
      byStatus = new Map();
      byMethod.set(method, byStatus);
    }
    let series = byStatus.get(status);
    if (series === undefined) {
      series = histogram.seriesOf({ route, method, status: String(status) });
      byStatus.set(status, series);
    }
    series.observe((performance.now() - startedAt) / 1000);
  };
}

/**
 * Times every route added after this call (except SELF_TIMED ones) with an onResponse hook.
 * Returns the timer of requests no route matched (route `unmatched`): the 404 handler has no
 * hooks, so it times itself.
 */
export function instrumentRoutes(app: FastifyInstance, registry: Registry) {
  app.addHook('onRoute', (route) => {
    if ((route.config as { selfTimed?: boolean } | undefined)?.selfTimed) return;
    const timer = routeTimer(registry, route.url);
    const hook = (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
      timer(request.method, reply.statusCode, performance.now() - reply.elapsedTime);
      done();
    };
    const existing = route.onResponse;
    route.onResponse = existing === undefined ? [hook] : [...[existing].flat(), hook];
  });
  return routeTimer(registry, 'unmatched');
}
