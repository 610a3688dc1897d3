import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';
import { formatImageReference } from '../api/image-reference.js';
import type { WebhookConfig } from '../config.js';
import type { WebhookStore } from '../db/webhook-store.js';
import { HttpProblem, sendProblem } from '../http/problem.js';
import type { Logger } from '../telemetry/logger.js';
import { createAuthenticator } from './auth.js';
import { createDigestResolver, type DigestResolver } from './digest-resolver.js';
import { parseJson } from './json-reader.js';
import { createWebhookMetrics, type DeliveryOutcomeLabel } from './metrics.js';
import { detectRegistry, PARSERS } from './parsers/index.js';
import {
  type DeliveryOutcome,
  type ProcessDeps,
  processDelivery,
  type WebhookKube,
} from './process-delivery.js';
import { isRegistryKind, type ParsedDelivery, PayloadError, type RegistryKind } from './push.js';
import { RateLimiter } from './rate-limit.js';

/** Where the receiver's routes live. */
export const WEBHOOK_PREFIX = '/api/v1/webhooks';
/** The registry segment of the URL that detects the registry from the delivery. */
const AUTO_DETECT = 'docker-registry';
/** Media types a delivery may have: JSON and any `+json` type (Distribution, CloudEvents). */
const JSON_MEDIA_TYPES = /^application\/(?:[\w.+-]+\+)?json\s*(?:;.*)?$/i;
/** How much of a delivery's body the event log keeps. */
const RECORDED_BODY_CHARS = 16_384;

/** What the receiver needs, all injected: the lead mounts it on the shared HTTP server. */
export interface WebhookReceiverOptions {
  config: WebhookConfig;
  /** A KubePort (or anything with its policy list and rollout create). */
  kube: WebhookKube;
  store: WebhookStore;
  logger: Logger;
  /** The process's metrics registry; the receiver registers its metrics there. */
  metrics: Registry;
  now?: () => Date;
  resolveDigest?: DigestResolver;
}

type Params = { registry: string; token?: string };

/** A delivery refused before processing; `reason` is recorded, never sent. */
class Rejection extends HttpProblem {
  constructor(
    status: number,
    readonly reason: string,
    title: string,
    detail?: string,
    headers?: Record<string, string>,
  ) {
    super(status, title, detail, undefined, headers);
  }
}

/**
 * The registry webhook receiver as a fastify plugin (encapsulated: its body parsing and error
 * handling stay inside). `POST /api/v1/webhooks/<registry>[/<token>]` for each registry and
 * `docker-registry` (auto-detection); `GET /api/v1/webhooks/docker-registry/test`.
 */
export async function webhookReceiver(app: FastifyInstance, options: WebhookReceiverOptions) {
  const { config, store } = options;
  const now = options.now ?? (() => new Date());
  const logger = options.logger.child({ component: 'webhooks' });
  const metrics = createWebhookMetrics(options.metrics);
  const authenticate = createAuthenticator(config);
  const limiter = new RateLimiter({ ...config.rateLimit, now: () => now().getTime() });
  const deps: ProcessDeps = {
    kube: options.kube,
    store,
    resolveDigest: options.resolveDigest ?? createDigestResolver(config.resolve),
    metrics,
    logger,
    now,
    dedupeWindowSeconds: config.dedupeWindowSeconds,
  };
  const labels = new WeakMap<FastifyRequest, string>();
  const labelOf = (request: FastifyRequest) => labels.get(request) ?? 'unknown';

  app.removeAllContentTypeParsers();
  app.addContentTypeParser(JSON_MEDIA_TYPES, { parseAs: 'buffer' }, (_request, body, done) =>
    done(null, body),
  );
  app.setErrorHandler(async (error, request, reply) => {
    const problem = toProblem(error);
    const registry = labelOf(request);
    metrics.deliveries.inc({ registry, outcome: outcomeOfStatus(problem.status) });
    if (problem.status >= 500) {
      logger.error({ err: error, registry }, 'webhook delivery failed; the registry will retry');
    } else if (problem.status !== 404 && problem.status !== 429) {
      const reason = problem instanceof Rejection ? problem.reason : problem.title;
      logger.warn({ registry, status: problem.status, reason, ip: request.ip }, 'webhook rejected');
      await store
        .appendEvent('image.webhook_rejected', registry, {
          status: problem.status,
          reason,
          detail: problem.detail,
          ip: request.ip,
        })
        .catch((cause: unknown) => logger.error({ err: cause }, 'cannot record rejection'));
    }
    return sendProblem(reply, problem);
  });
  app.addHook('onResponse', async (request, reply) => {
    metrics.duration.observe({ registry: labelOf(request) }, reply.elapsedTime / 1000);
  });

  app.get(`${WEBHOOK_PREFIX}/${AUTO_DETECT}/test`, async () => ({ status: 'ok' }));

  const route = { bodyLimit: config.bodyLimitBytes, logSerializers: { req: redactedRequest } };
  const receive = async (request: FastifyRequest<{ Params: Params }>, reply: FastifyReply) => {
    const target = request.params.registry;
    if (!isRegistryKind(target) && target !== AUTO_DETECT) {
      throw new HttpProblem(
        404,
        'Unknown registry',
        `no webhook receiver for "${target.slice(0, 40)}"`,
      );
    }
    labels.set(request, target);
    takeToken(limiter, `${target} ${request.ip}`);
    const raw = bodyOf(request);
    const headers = lowerCaseHeaders(request.headers);
    const { registry, body } = identify(target, raw, headers);
    labels.set(request, registry);
    const auth = await authenticate({
      registry,
      headers,
      rawBody: raw,
      pathToken: request.params.token,
    });
    if (!auth.ok) throw new Rejection(401, auth.reason, 'Unauthorized');
    if (auth.insecure) logger.warn({ registry }, 'accepted an unauthenticated delivery (insecure)');
    const bodyHash = createHash('sha256').update(raw).digest('hex');
    const parsed = PARSERS[registry]({ body: body ?? parseBody(raw), headers, bodyHash });
    await store.appendEvent('image.webhook_received', registry, received(parsed, raw));
    const outcome = await processDelivery(parsed, deps);
    metrics.deliveries.inc({ registry, outcome: outcomeOf(parsed, outcome) });
    return reply.send({ registry, ...outcome, ignored: parsed.ignored, warnings: parsed.warnings });
  };
  app.post(`${WEBHOOK_PREFIX}/:registry`, route, receive);
  app.post(`${WEBHOOK_PREFIX}/:registry/:token`, route, receive);
}

/** The receiver as an option-less plugin, for `createHttpServer({ plugins: [...] })`. */
export function createWebhookPlugin(options: WebhookReceiverOptions): FastifyPluginAsync {
  return (app) => webhookReceiver(app, options);
}

function takeToken(limiter: RateLimiter, key: string): void {
  const decision = limiter.take(key);
  if (decision.allowed) return;
  const retryAfter = String(decision.retryAfterSeconds);
  throw new Rejection(429, 'RateLimited', 'Too many requests', `retry in ${retryAfter} s`, {
    'retry-after': retryAfter,
  });
}

function bodyOf(request: FastifyRequest): Buffer {
  const body = request.body;
  if (Buffer.isBuffer(body) && body.length > 0) return body;
  throw new Rejection(400, 'EmptyBody', 'Malformed webhook payload', 'the request has no body');
}

function parseBody(raw: Buffer): unknown {
  return parseJson(raw.toString('utf8'));
}

/** The registry a delivery is for: the URL's, or detected from headers and body. */
function identify(target: RegistryKind | typeof AUTO_DETECT, raw: Buffer, headers: Headers) {
  if (target !== AUTO_DETECT) return { registry: target, body: undefined };
  const body = parseBody(raw);
  const registry = detectRegistry({ body, headers });
  if (registry === undefined) {
    throw new PayloadError(
      'cannot tell which registry sent this delivery; use /api/v1/webhooks/<registry>',
    );
  }
  return { registry, body };
}

type Headers = Record<string, string | undefined>;

function lowerCaseHeaders(headers: FastifyRequest['headers']): Headers {
  const result: Headers = {};
  for (const [name, value] of Object.entries(headers)) {
    result[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return result;
}

/** The `image.webhook_received` event: what arrived, with the body kept up to a bound. */
function received(parsed: ParsedDelivery, raw: Buffer): Record<string, unknown> {
  const text = raw.toString('utf8');
  return {
    deliveryIds: [...new Set(parsed.pushes.map((push) => push.deliveryId))],
    pushes: parsed.pushes.map(formatImageReference),
    ignored: parsed.ignored,
    warnings: parsed.warnings,
    bytes: raw.length,
    body: text.slice(0, RECORDED_BODY_CHARS),
    truncated: text.length > RECORDED_BODY_CHARS,
  };
}

function outcomeOf(parsed: ParsedDelivery, outcome: DeliveryOutcome): DeliveryOutcomeLabel {
  if (outcome.rollouts.some((rollout) => rollout.created)) return 'created';
  if (outcome.rollouts.length > 0) return 'existing';
  if (outcome.unmatched.length > 0) return 'unmatched';
  if (outcome.duplicates.length > 0) return 'duplicate';
  return parsed.pushes.length === 0 ? 'ignored' : 'unmatched';
}

const STATUS_OUTCOMES: Record<number, DeliveryOutcomeLabel> = {
  400: 'bad_request',
  401: 'unauthorized',
  404: 'not_found',
  413: 'too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
};

function outcomeOfStatus(status: number): DeliveryOutcomeLabel {
  return STATUS_OUTCOMES[status] ?? (status < 500 ? 'bad_request' : 'unavailable');
}

/** Maps anything thrown while receiving to the problem answer the sender gets. */
function toProblem(error: unknown): HttpProblem {
  if (error instanceof HttpProblem) return error;
  if (error instanceof PayloadError) {
    return new Rejection(400, 'MalformedPayload', 'Malformed webhook payload', error.message);
  }
  const status = (error as { statusCode?: number }).statusCode;
  if (status === 413) {
    return new Rejection(413, 'TooLarge', 'Payload too large', (error as Error).message);
  }
  if (status === 415) {
    const detail = 'send application/json (or a +json media type)';
    return new Rejection(415, 'UnsupportedMediaType', 'Unsupported media type', detail);
  }
  if (status !== undefined && status >= 400 && status < 500) {
    return new Rejection(status, 'BadRequest', 'Bad request', (error as Error).message);
  }
  return new HttpProblem(
    503,
    'Service unavailable',
    'cannot process the delivery now; retry',
    undefined,
    {
      'retry-after': '30',
    },
  );
}

/** Request log fields without the URL's path token (Docker Hub and Quay secrets live there). */
function redactedRequest(request: FastifyRequest) {
  const url = request.url.replace(/^(\/api\/v1\/webhooks\/[^/?]+\/)[^/?]+/, '$1[redacted]');
  return { method: request.method, url, remoteAddress: request.ip };
}
