import type { FastifyRequest, onRequestHookHandler } from 'fastify';
import type { Registry } from 'prom-client';
import type { Database } from '../db/client.js';
import { type ReportedApps, saveReport } from '../db/report-store.js';
import { EventLoopLag } from '../http/event-loop-lag.js';
import { routeTimer, SELF_TIMED } from '../http/request-metrics.js';
import type { HttpPlugin } from '../http/server.js';
import { bearerToken } from './credentials.js';
import { DeviceAuth } from './device-auth.js';
import type { DeviceCache } from './device-cache.js';
import type { DeviceMetrics } from './metrics.js';
import { PollHandler } from './poll-handler.js';
import { overloaded, unknownDevice } from './problems.js';
import type { ProgressNotifier } from './progress-notifier.js';
import { pollSchema, reportRouteSchema } from './route-docs.js';

const POLL_ROUTE = '/api/v1/device/:uuid/state';

/** What the device-facing routes need. */
export interface DeviceRoutesDeps {
  database: Database;
  cache: DeviceCache;
  metrics: DeviceMetrics;
  /** Announces rollouts whose progress a report changed. */
  progress: ProgressNotifier;
  /** Where the poll route records its own latency. */
  registry: Registry;
  pollIntervalSeconds: number;
  maxLongPollSeconds: number;
  /**
   * Device requests are answered 503 with Retry-After while this process's event loop runs more
   * than this many milliseconds late; undefined or 0 never sheds.
   */
  shedLagMs?: number;
}

/**
 * Device-facing API: `GET /api/v1/device/:uuid/state` (ETag, 304, long poll) and
 * `PATCH /api/v1/device/state` (report of what the device runs).
 */
export function deviceRoutes(deps: DeviceRoutesDeps): HttpPlugin {
  const { db } = deps.database;
  const auth = new DeviceAuth(db);
  const timer = routeTimer(deps.registry, POLL_ROUTE);
  const poll = new PollHandler({ ...deps, db, auth, timer });
  const reportOwners = new WeakMap<FastifyRequest, string>();
  const shed = overloadGuard(deps);

  return async (app) => {
    app.get(
      POLL_ROUTE,
      { exposeHeadRoute: false, config: SELF_TIMED, schema: pollSchema, onRequest: shed.onRequest },
      poll.handle,
    );
    app.addHook('onClose', async () => shed.stop());

    app.patch<{ Body: Record<string, { apps: ReportedApps }> }>(
      '/api/v1/device/state',
      {
        schema: reportRouteSchema,
        // Authenticate before the body is read: unknown clients never get it parsed.
        onRequest: [
          shed.onRequest,
          async (request) => {
            reportOwners.set(
              request,
              await auth.ownerOf(bearerToken(request.headers.authorization)),
            );
          },
        ],
      },
      async (request, reply) => {
        const owner = reportOwners.get(request) as string;
        const [[claimed, state]] = Object.entries(request.body) as [
          [string, { apps: ReportedApps }],
        ];
        await auth.requireOwner(owner, claimed);
        const saved = await saveReport(db, owner, state.apps);
        if (!saved) throw unknownDevice(owner);
        deps.progress.changed(saved.rollouts);
        return reply.code(204).send();
      },
    );
  };
}

/** Retry-After of a shed request: 5–10 s, spread so that the shed devices do not return at once. */
function shedRetryAfterSeconds(): number {
  return 5 + Math.floor(Math.random() * 6);
}

/**
 * Load shedding for the device routes: while the event loop runs more than `shedLagMs` late, a
 * device request is refused at once with 503 and Retry-After instead of joining the backlog, so
 * the requests already taken (and in a single process, the controller's Lease renewals) finish
 * in time. Devices come back later; nothing they sent is lost, because they send it again.
 */
function overloadGuard(deps: DeviceRoutesDeps) {
  const limitMs = deps.shedLagMs ?? 0;
  const lag = new EventLoopLag();
  if (limitMs > 0) lag.start();
  // A callback hook, not an async one: the poll path creates no promise for it.
  const onRequest: onRequestHookHandler = (request, _reply, done) => {
    if (limitMs === 0 || lag.lateMs() <= limitMs) return done();
    deps.metrics.shed.inc({ route: request.routeOptions.url ?? '' });
    done(overloaded(shedRetryAfterSeconds()));
  };
  return { onRequest, stop: () => lag.stop() };
}
