import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Histogram, type Registry } from 'prom-client';

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

/**
 * `fleet_rollout_http_request_duration_seconds{route, method, status}` for one route (its
 * `_count` is the request count). Labels are the route pattern, never the URL, so they stay
 * bounded; label children are cached, so a request costs two map lookups and one observation.
 */
export function routeTimer(registry: Registry, route: string): RouteTimer {
  const histogram = durationHistogram(registry);
  const byMethod = new Map<string, Map<number, { observe(seconds: number): void }>>();
  return (method, status, startedAt) => {
    let byStatus = byMethod.get(method);
    if (byStatus === undefined) {
      byStatus = new Map();
      byMethod.set(method, byStatus);
    }
    let child = byStatus.get(status);
    if (child === undefined) {
      child = histogram.labels({ route, method, status: String(status) });
      byStatus.set(status, child);
    }
    child.observe((performance.now() - startedAt) / 1000);
  };
}

function durationHistogram(registry: Registry): Histogram<'route' | 'method' | 'status'> {
  const existing = registry.getSingleMetric(DURATION_METRIC);
  if (existing) return existing as Histogram<'route' | 'method' | 'status'>;
  return new Histogram({
    name: DURATION_METRIC,
    help: 'HTTP request latency by route pattern, method and status code.',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: BUCKETS,
    registers: [registry],
  });
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
