import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Histogram, type Registry } from 'prom-client';

type Observer = { observe(seconds: number): void };

/** Latency buckets in seconds, from sub-millisecond 304s up to long polls. */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 30, 120, 300];

/**
 * Records `fleet_rollout_http_request_duration_seconds{route, method, status}` (its `_count` is
 * the request count) for every route added after this call. Labels are the route pattern, never
 * the URL, so they stay bounded. Each route gets its own onResponse hook with its label children
 * cached, so a request costs two map lookups and one observation.
 */
export function instrumentRoutes(app: FastifyInstance, registry: Registry) {
  const histogram = new Histogram({
    name: 'fleet_rollout_http_request_duration_seconds',
    help: 'HTTP request latency by route pattern, method and status code.',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: BUCKETS,
    registers: [registry],
  });
  const observersFor = (route: string) => {
    const byStatus = new Map<string, Map<number, Observer>>();
    return (method: string, status: number): Observer => {
      let observers = byStatus.get(method);
      if (observers === undefined) {
        observers = new Map();
        byStatus.set(method, observers);
      }
      let observer = observers.get(status);
      if (!observer) {
        observer = histogram.labels({ route, method, status: String(status) });
        observers.set(status, observer);
      }
      return observer;
    };
  };
  app.addHook('onRoute', (route) => {
    const observer = observersFor(route.url);
    const hook = (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
      observer(request.method, reply.statusCode).observe(reply.elapsedTime / 1000);
      done();
    };
    const existing = route.onResponse;
    route.onResponse = existing === undefined ? [hook] : [...[existing].flat(), hook];
  });
  const unmatched = observersFor('unmatched');
  return {
    /** Records a request no route matched (the 404 handler has no onResponse hook). */
    observeUnmatched(request: FastifyRequest, reply: FastifyReply) {
      unmatched(request.method, reply.statusCode).observe(reply.elapsedTime / 1000);
    },
  };
}
