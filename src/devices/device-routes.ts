import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';
import type { Database } from '../db/client.js';
import { findDeviceByKeyHash, getDevice } from '../db/device-store.js';
import { type ReportedApps, saveReport } from '../db/report-store.js';
import { loadEffectiveTarget } from '../db/target-store.js';
import { HttpProblem } from '../http/problem.js';
import { routeTimer, SELF_TIMED } from '../http/request-metrics.js';
import type { HttpPlugin } from '../http/server.js';
import { apiKeyDigest, bearerToken, hashApiKey, sameDigest } from './credentials.js';
import { type DeviceCache, quoteEtag } from './device-cache.js';
import { etagMatches } from './etag.js';
import type { DeviceMetrics } from './metrics.js';
import { forbidden, unauthorized, unknownDevice } from './problems.js';
import { reportSchema, UUID_PATTERN } from './schemas.js';

const POLL_ROUTE = '/api/v1/device/:uuid/state';

/** Response header telling devices how many seconds to wait between polls. */
export const POLL_INTERVAL_HEADER = 'x-poll-interval';

const UUID = new RegExp(UUID_PATTERN);
const WAIT = /^[0-9]{1,6}$/;

/** What the device-facing routes need. */
export interface DeviceRoutesDeps {
  database: Database;
  cache: DeviceCache;
  metrics: DeviceMetrics;
  /** Where the poll route records its own latency. */
  registry: Registry;
  pollIntervalSeconds: number;
  maxLongPollSeconds: number;
}

/**
 * Device-facing API: `GET /api/v1/device/:uuid/state` (ETag, 304, long poll) and
 * `PATCH /api/v1/device/state` (report). The 304 path reads only the in-memory cache: no
 * database, no logging, no allocation beyond the key digest.
 */
export function deviceRoutes(deps: DeviceRoutesDeps): HttpPlugin {
  const { cache, metrics } = deps;
  const { db } = deps.database;
  const pollInterval = String(deps.pollIntervalSeconds);

  const notModified = (reply: FastifyReply, etag: string) => {
    metrics.polls.notModified++;
    return reply.code(304).header('etag', etag).header(POLL_INTERVAL_HEADER, pollInterval).send();
  };

  /** Answers from the database: 200 with the effective document, or 304 if it matches. */
  const sendTarget = async (reply: FastifyReply, uuid: string, match: string | undefined) => {
    const target = await loadEffectiveTarget(db, uuid);
    if (!target) throw unknownDevice(uuid);
    const etag = quoteEtag(target.etag);
    if (match !== undefined && etagMatches(match, etag)) return notModified(reply, etag);
    metrics.polls.ok++;
    return reply
      .header('etag', etag)
      .header(POLL_INTERVAL_HEADER, pollInterval)
      .send({ [uuid]: { apps: target.apps } });
  };

  /** The uuid of the device the key belongs to; 401 without a known key. */
  const ownerOf = async (token: string | undefined) => {
    const owner =
      token === undefined ? undefined : await findDeviceByKeyHash(db, hashApiKey(token));
    if (owner === undefined) throw unauthorized('device API key');
    return owner;
  };

  /** 403 when the key belongs to another existing device, 404 when there is no such device. */
  const requireOwner = async (owner: string, claimed: string) => {
    if (owner === claimed.toLowerCase()) return;
    if (UUID.test(claimed) && (await getDevice(db, claimed.toLowerCase())))
      throw forbidden(claimed);
    throw unknownDevice(claimed);
  };

  const longPoll = async (reply: FastifyReply, uuid: string, etag: string, seconds: number) => {
    const gone = new AbortController();
    const onClose = () => gone.abort();
    reply.raw.once('close', onClose);
    const changed = await cache.waitForChange(uuid, etag, seconds * 1000, gone.signal);
    reply.raw.off('close', onClose);
    return changed ? sendTarget(reply, uuid, etag) : notModified(reply, etag);
  };

  const waitSeconds = (wait: string | undefined): number => {
    if (wait === undefined) return 0;
    if (!WAIT.test(wait)) {
      throw new HttpProblem(400, 'Invalid request', 'wait must be a whole number of seconds');
    }
    return Math.min(Number(wait), deps.maxLongPollSeconds);
  };

  const answerPoll = (
    request: FastifyRequest,
    reply: FastifyReply,
  ): FastifyReply | Promise<FastifyReply> => {
    const uuid = (request.params as { uuid: string }).uuid;
    const token = bearerToken(request.headers.authorization);
    const entry = cache.get(uuid);
    const match = request.headers['if-none-match'];
    const wait = (request.query as { wait?: string }).wait;
    if (
      entry !== undefined &&
      token !== undefined &&
      sameDigest(apiKeyDigest(token), entry.keyHash)
    ) {
      if (match !== undefined && wait === undefined && etagMatches(match, entry.etag)) {
        return notModified(reply, entry.etag);
      }
      const seconds = waitSeconds(wait);
      if (seconds > 0 && match !== undefined && etagMatches(match, entry.etag)) {
        return longPoll(reply, uuid, entry.etag, seconds);
      }
      return sendTarget(reply, uuid, match);
    }
    // Slow path: cache miss or a wrong key; the database tells 401, 403 and 404 apart.
    return ownerOf(token).then(async (owner) => {
      await requireOwner(owner, uuid);
      waitSeconds(wait);
      return sendTarget(reply, owner, match);
    });
  };

  /** Times the poll itself (SELF_TIMED): from the handler to the answer written or failed. */
  const timePoll = routeTimer(deps.registry, POLL_ROUTE);
  const poll = (request: FastifyRequest, reply: FastifyReply) => {
    const started = performance.now();
    const failed = (error: unknown) => {
      timePoll('GET', error instanceof HttpProblem ? error.status : 500, started);
      throw error;
    };
    let answer: FastifyReply | Promise<FastifyReply>;
    try {
      answer = answerPoll(request, reply);
    } catch (error) {
      return failed(error);
    }
    if (answer === reply) {
      timePoll('GET', reply.statusCode, started);
      return reply;
    }
    return (answer as Promise<FastifyReply>).then((sent) => {
      timePoll('GET', reply.statusCode, started);
      return sent;
    }, failed);
  };

  const reportOwners = new WeakMap<FastifyRequest, string>();

  return async (app) => {
    app.get(POLL_ROUTE, { exposeHeadRoute: false, config: SELF_TIMED }, poll);

    app.patch<{ Body: Record<string, { apps: ReportedApps }> }>(
      '/api/v1/device/state',
      {
        schema: { body: reportSchema },
        // Authenticate before the body is read: unknown clients never get it parsed.
        onRequest: async (request) => {
          reportOwners.set(request, await ownerOf(bearerToken(request.headers.authorization)));
        },
      },
      async (request, reply) => {
        const owner = reportOwners.get(request) as string;
        const [[claimed, state]] = Object.entries(request.body) as [
          [string, { apps: ReportedApps }],
        ];
        await requireOwner(owner, claimed);
        if (!(await saveReport(db, owner, state.apps))) throw unknownDevice(owner);
        return reply.code(204).send();
      },
    );
  };
}
