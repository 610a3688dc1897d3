import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../db/client.js';
import { isConnectionError } from '../db/connection-errors.js';
import { loadEffectiveTarget } from '../db/target-store.js';
import { HttpProblem } from '../http/problem.js';
import type { RouteTimer } from '../http/request-metrics.js';
import { apiKeyDigest, bearerToken, sameDigest } from './credentials.js';
import type { DeviceAuth } from './device-auth.js';
import { type DeviceCache, quoteEtag } from './device-cache.js';
import { etagMatches } from './etag.js';
import type { DeviceMetrics } from './metrics.js';
import { unknownDevice } from './problems.js';

/** Response header telling devices how many seconds to wait between polls. */
export const POLL_INTERVAL_HEADER = 'x-poll-interval';

const WAIT = /^[0-9]{1,6}$/;

type Answer = FastifyReply | Promise<FastifyReply>;

/**
 * `GET /api/v1/device/:uuid/state`. The 304 path reads only the in-memory cache: no database,
 * no logging, no promise, no allocation beyond the key digest. Everything else (200, long
 * polls, cache misses, errors) may take its time.
 */
export class PollHandler {
  private readonly pollInterval: string;

  constructor(
    private readonly deps: {
      db: Db;
      cache: DeviceCache;
      auth: DeviceAuth;
      metrics: DeviceMetrics;
      timer: RouteTimer;
      pollIntervalSeconds: number;
      maxLongPollSeconds: number;
    },
  ) {
    this.pollInterval = String(deps.pollIntervalSeconds);
  }

  /** The route handler; times itself (the route is SELF_TIMED). No closure per request. */
  readonly handle = (request: FastifyRequest, reply: FastifyReply): Answer => {
    const started = performance.now();
    let answer: Answer;
    try {
      answer = this.answer(request, reply);
    } catch (error) {
      this.timeFailure(error, started);
      throw error;
    }
    if (answer !== reply) return this.timeAnswer(answer as Promise<FastifyReply>, reply, started);
    this.deps.timer('GET', reply.statusCode, started);
    return reply;
  };

  private async timeAnswer(answer: Promise<FastifyReply>, reply: FastifyReply, started: number) {
    try {
      const sent = await answer;
      this.deps.timer('GET', reply.statusCode, started);
      return sent;
    } catch (error) {
      this.timeFailure(error, started);
      throw error;
    }
  }

  private timeFailure(error: unknown, started: number): void {
    const status =
      error instanceof HttpProblem ? error.status : isConnectionError(error) ? 503 : 500;
    this.deps.timer('GET', status, started);
  }

  private answer(request: FastifyRequest, reply: FastifyReply): Answer {
    const uuid = (request.params as { uuid: string }).uuid;
    const headers = request.raw.headers;
    const token = bearerToken(headers.authorization);
    const match = headers['if-none-match'];
    const wait = (request.query as { wait?: string }).wait;
    const entry = this.deps.cache.get(uuid);
    if (
      entry === undefined ||
      token === undefined ||
      !sameDigest(apiKeyDigest(token), entry.keyHash)
    ) {
      return this.answerUncached(reply, uuid, token, match, wait);
    }
    const matches = match !== undefined && etagMatches(match, entry.etag);
    if (matches && wait === undefined) return this.notModified(reply, entry.etag);
    const seconds = this.waitSeconds(wait);
    if (!matches) return this.sendTarget(reply, uuid, match);
    return seconds > 0
      ? this.longPoll(reply, uuid, entry.etag, seconds)
      : this.notModified(reply, entry.etag);
  }

  /** Cache miss or a wrong key: the database decides (401, 403, 404, or a lagging cache). */
  private async answerUncached(
    reply: FastifyReply,
    uuid: string,
    token: string | undefined,
    match: string | undefined,
    wait: string | undefined,
  ): Promise<FastifyReply> {
    const owner = await this.deps.auth.ownerOf(token);
    await this.deps.auth.requireOwner(owner, uuid);
    this.waitSeconds(wait);
    return this.sendTarget(reply, owner, match);
  }

  private notModified(reply: FastifyReply, etag: string): FastifyReply {
    this.deps.metrics.polls.notModified++;
    return reply
      .code(304)
      .header('etag', etag)
      .header(POLL_INTERVAL_HEADER, this.pollInterval)
      .send();
  }

  /** Answers from the database: 200 with the effective document, or 304 if it matches. */
  private async sendTarget(reply: FastifyReply, uuid: string, match: string | undefined) {
    const target = await loadEffectiveTarget(this.deps.db, uuid);
    if (!target) throw unknownDevice(uuid);
    const etag = quoteEtag(target.etag);
    if (match !== undefined && etagMatches(match, etag)) return this.notModified(reply, etag);
    this.deps.metrics.polls.ok++;
    return reply
      .header('etag', etag)
      .header(POLL_INTERVAL_HEADER, this.pollInterval)
      .send({ [uuid]: { apps: target.apps } });
  }

  /** Holds the request until the device's ETag changes (200) or the wait ends (304). */
  private async longPoll(reply: FastifyReply, uuid: string, etag: string, seconds: number) {
    const gone = new AbortController();
    const onClose = () => gone.abort();
    reply.raw.once('close', onClose);
    const changed = await this.deps.cache.waitForChange(uuid, etag, seconds * 1000, gone.signal);
    reply.raw.off('close', onClose);
    return changed ? this.sendTarget(reply, uuid, etag) : this.notModified(reply, etag);
  }

  /** `?wait=` in seconds, capped by configuration; 400 when it is not a whole number. */
  private waitSeconds(wait: string | undefined): number {
    if (wait === undefined) return 0;
    if (!WAIT.test(wait)) {
      throw new HttpProblem(400, 'Invalid request', 'wait must be a whole number of seconds');
    }
    return Math.min(Number(wait), this.deps.maxLongPollSeconds);
  }
}
