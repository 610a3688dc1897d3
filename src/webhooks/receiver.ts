import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';
import { formatImageReference } from '../api/image-reference.js';
import { clipWhole } from '../api/storable-text.js';
import type { WebhookConfig } from '../config.js';
import { isConnectionError } from '../db/connection-errors.js';
import type { WebhookStore } from '../db/webhook-store.js';
import { databaseUnavailable, HttpProblem, sendProblem } from '../http/problem.js';
import type { Logger } from '../telemetry/logger.js';
import { type Authenticator, createAuthenticator } from './auth.js';
import { createDigestResolver, type DigestResolver } from './digest-resolver.js';
import { FORM_MEDIA_TYPE, formPayload } from './form-body.js';
import { parseJson } from './json-reader.js';
import { createWebhookMetrics, type DeliveryOutcomeLabel, type WebhookMetrics } from './metrics.js';
import { detectRegistry, PARSERS } from './parsers/index.js';
import {
  type DeliveryOutcome,
  type ProcessDeps,
  processDelivery,
  type WebhookKube,
} from './process-delivery.js';
import {
  isRegistryKind,
  type ParsedDelivery,
  PayloadError,
  REGISTRY_KINDS,
  type RegistryKind,
} from './push.js';
import { RateLimiter } from './rate-limit.js';
import {
  JSON_TYPES,
  outcomeOfStatus,
  Rejection,
  reasonOf,
  toProblem,
  unsupportedMediaType,
} from './rejection.js';
import { RejectionLog } from './rejection-log.js';
import { AUTO_DETECT, deliverySchema, testSchema } from './route-docs.js';

/** Where the receiver's routes live. */
const WEBHOOK_PREFIX = '/api/v1/webhooks';
/** Media types a delivery may have: JSON and any `+json` type (Distribution, CloudEvents). */
const JSON_MEDIA_TYPES = /^application\/(?:[\w.+-]+\+)?json\s*(?:;.*)?$/i;
/** The registries that may send form-encoded deliveries (GitHub's default encoding). */
const FORM_SENDERS: readonly RegistryKind[] = ['ghcr'];
/** How often delivery ids older than twice the de-duplication window are forgotten. */
const PRUNE_INTERVAL_MS = 3_600_000;
/** The path token of a webhook URL (`<prefix>/<registry>/<token>`), as request logs must not show it. */
const REDACTED_TOKEN = new RegExp(`^(${WEBHOOK_PREFIX}/[^/?]+/)[^/?]+`);
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
  /** Match only the policies of this namespace (`--namespace`); every namespace when undefined. */
  namespace?: string;
  now?: () => Date;
  resolveDigest?: DigestResolver;
}

/**
 * The registry webhook receiver as a fastify plugin (encapsulated: its body parsing and error
 * handling stay inside). `POST /api/v1/webhooks/<registry>[/<token>]` for each registry and
 * `docker-registry` (auto-detection); `GET /api/v1/webhooks/docker-registry/test`.
 */
export async function webhookReceiver(app: FastifyInstance, options: WebhookReceiverOptions) {
  const receiver = new Receiver(options);
  app.removeAllContentTypeParsers();
  for (const mediaType of [JSON_MEDIA_TYPES, FORM_MEDIA_TYPE]) {
    app.addContentTypeParser(mediaType, { parseAs: 'buffer' }, (_request, body, done) =>
      done(null, body),
    );
  }
  app.setErrorHandler(receiver.onError);
  app.addHook('onResponse', receiver.onResponse);
  const pruning = setInterval(receiver.prune, PRUNE_INTERVAL_MS).unref();
  app.addHook('onClose', async () => clearInterval(pruning));
  app.get(`${WEBHOOK_PREFIX}/${AUTO_DETECT}/test`, { schema: testSchema }, async () => ({
    status: 'ok',
  }));
  const route = {
    bodyLimit: options.config.bodyLimitBytes,
    logSerializers: { req: redactedRequest },
  };
  const post = (path: string, withToken: boolean) =>
    app.post(path, { ...route, schema: deliverySchema(withToken) }, receiver.receive);
  post(`${WEBHOOK_PREFIX}/:registry`, false);
  post(`${WEBHOOK_PREFIX}/:registry/:token`, true);
}

/** The receiver as an option-less plugin, for `createHttpServer({ plugins: [...] })`. */
export function createWebhookPlugin(options: WebhookReceiverOptions): FastifyPluginAsync {
  return (app) => webhookReceiver(app, options);
}

type Params = { registry: string; token?: string };
type Headers = Record<string, string | undefined>;

/** The request handlers, sharing the receiver's dependencies. */
class Receiver {
  private readonly logger: Logger;
  private readonly metrics: WebhookMetrics;
  private readonly authenticate: Authenticator;
  private readonly limiter: RateLimiter;
  private readonly deps: ProcessDeps;
  private readonly rejectionLog: RejectionLog;
  /** The registry label of each request, for metrics and records of failures. */
  private readonly labels = new WeakMap<FastifyRequest, string>();

  constructor(private readonly options: WebhookReceiverOptions) {
    const { config } = options;
    const now = options.now ?? (() => new Date());
    this.logger = options.logger.child({ component: 'webhooks' });
    this.metrics = createWebhookMetrics(options.metrics);
    this.authenticate = createAuthenticator(config);
    this.limiter = new RateLimiter({ ...config.rateLimit, now: () => now().getTime() });
    this.rejectionLog = new RejectionLog(this.logger, () => now().getTime());
    this.deps = {
      kube: options.kube,
      store: options.store,
      resolveDigest: options.resolveDigest ?? createDigestResolver(config.resolve),
      metrics: this.metrics,
      logger: this.logger,
      now,
      dedupeWindowSeconds: config.dedupeWindowSeconds,
      namespace: options.namespace,
    };
  }

  /**
   * Limit, authenticate (over the raw bytes), parse, record, then create the rollouts. A form
   * body is decoded only after its signature is checked, then handled as its JSON `payload`.
   */
  readonly receive = async (request: FastifyRequest<{ Params: Params }>, reply: FastifyReply) => {
    const target = this.targetOf(request);
    this.takeToken(`${target} ${request.ip}`);
    const raw = bodyOf(request);
    const headers = lowerCaseHeaders(request.headers);
    const form = FORM_MEDIA_TYPE.test(headers['content-type'] ?? '');
    const { registry, body } = identify(target, raw, headers, form);
    this.labels.set(request, registry);
    const pathToken = request.params.token;
    const auth = await this.authenticate({ registry, headers, rawBody: raw, pathToken });
    if (!auth.ok && auth.reason === 'KeysUnavailable') {
      throw new Error('cannot fetch the token signing keys to verify a delivery');
    }
    if (!auth.ok) throw new Rejection(401, auth.reason, 'Unauthorized');
    if (auth.insecure) this.logger.warn({ registry }, 'accepted an unauthenticated delivery');
    const json = form ? Buffer.from(formPayload(raw), 'utf8') : raw;
    const text = json.toString('utf8');
    const bodyHash = createHash('sha256').update(json).digest('hex');
    const document = body ?? parseJson(text, form ? 'the payload form field' : 'the body');
    const parsed = PARSERS[registry]({ body: document, headers, bodyHash });
    const record = received(parsed, text, raw.length);
    await this.options.store.appendEvent('image.webhook_received', registry, record);
    const outcome = await processDelivery(parsed, this.deps);
    this.metrics.deliveries.inc({ registry, outcome: outcomeOf(outcome) });
    return reply.send({ registry, ...outcome, ignored: parsed.ignored, warnings: parsed.warnings });
  };

  /**
   * Answers a problem and counts it. A refusal (4xx) writes nothing to the database and logs at
   * most a line a minute, so unauthenticated floods cost no storage; failures (5xx) are logged.
   */
  readonly onError = async (error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    // an unreachable database: retry soon; the connection state logs it once, not per delivery
    const unreachable = isConnectionError(error);
    const problem = unreachable
      ? databaseUnavailable()
      : (unknownRegistry(request) ?? toProblem(error));
    const registry = this.labels.get(request) ?? 'unknown';
    this.metrics.deliveries.inc({ registry, outcome: outcomeOfStatus(problem.status) });
    if (unreachable) {
      this.logger.debug({ registry }, 'webhook delivery failed: database unreachable');
    } else if (problem.status >= 500) {
      this.logger.error(
        { err: error, registry },
        'webhook delivery failed; the registry will retry',
      );
    } else {
      const reason = reasonOf(problem);
      this.metrics.rejections.inc({ registry, reason });
      const { status, detail } = problem;
      this.rejectionLog.refused({ registry, status, reason, detail, ip: request.ip });
    }
    return sendProblem(reply, problem);
  };

  /** Forgets deliveries seen more than two de-duplication windows ago. */
  readonly prune = async () => {
    const before = new Date(this.deps.now().getTime() - 2000 * this.deps.dedupeWindowSeconds);
    try {
      const pruned = await this.options.store.pruneDeliveries(before);
      if (pruned > 0) this.logger.info({ pruned }, 'forgot old webhook deliveries');
    } catch (error) {
      this.logger.warn({ err: error }, 'cannot prune webhook deliveries');
    }
  };

  readonly onResponse = async (request: FastifyRequest, reply: FastifyReply) => {
    const registry = this.labels.get(request) ?? 'unknown';
    this.metrics.duration.observe({ registry }, reply.elapsedTime / 1000);
  };

  /** The URL's registry; its params schema admits only the registries and AUTO_DETECT. */
  private targetOf(request: FastifyRequest<{ Params: Params }>) {
    const target = request.params.registry as RegistryKind | typeof AUTO_DETECT;
    this.labels.set(request, target);
    return target;
  }

  private takeToken(key: string): void {
    const decision = this.limiter.take(key);
    if (decision.allowed) return;
    const retryAfter = String(decision.retryAfterSeconds);
    throw new Rejection(429, 'RateLimited', 'Too many requests', `retry in ${retryAfter} s`, {
      'retry-after': retryAfter,
    });
  }
}

/** 404 naming the receivers there are, for a URL whose registry segment names none. */
function unknownRegistry(request: FastifyRequest): HttpProblem | undefined {
  const target = (request.params as Partial<Params> | undefined)?.registry;
  if (target === undefined || isRegistryKind(target) || target === AUTO_DETECT) return undefined;
  const known = [...REGISTRY_KINDS, AUTO_DETECT].join(', ');
  const detail = `no webhook receiver for "${target.slice(0, 40)}"; there are ${known}`;
  return new HttpProblem(404, 'Unknown registry', detail);
}

function bodyOf(request: FastifyRequest): Buffer {
  const body = request.body;
  if (Buffer.isBuffer(body) && body.length > 0) return body;
  throw new Rejection(400, 'EmptyBody', 'Malformed webhook payload', 'the request has no body');
}

/**
 * The registry a delivery is for: the URL's, or detected from headers and body. A form body
 * must be from a registry that sends forms; on the auto-detecting URL, GitHub's header says so.
 */
function identify(
  target: RegistryKind | typeof AUTO_DETECT,
  raw: Buffer,
  headers: Headers,
  form: boolean,
) {
  if (form) return { registry: formSender(target, headers), body: undefined };
  if (target !== AUTO_DETECT) return { registry: target, body: undefined };
  const body = parseJson(raw.toString('utf8'), 'the body');
  const registry = detectRegistry({ body, headers });
  if (registry === undefined) {
    throw new PayloadError(
      `cannot tell which registry sent this delivery; use ${WEBHOOK_PREFIX}/<registry>`,
    );
  }
  return { registry, body };
}

/** The registry of a form-encoded delivery, or a 415 naming what the URL accepts instead. */
function formSender(target: RegistryKind | typeof AUTO_DETECT, headers: Headers): RegistryKind {
  if (target === AUTO_DETECT) {
    if (headers['x-github-event'] !== undefined) return 'ghcr';
    throw unsupportedMediaType(
      `only GitHub deliveries (with X-GitHub-Event) may be application/x-www-form-urlencoded; send ${JSON_TYPES}`,
    );
  }
  if (FORM_SENDERS.includes(target)) return target;
  throw unsupportedMediaType(
    `the ${target} receiver accepts ${JSON_TYPES}, not application/x-www-form-urlencoded`,
  );
}

function lowerCaseHeaders(headers: FastifyRequest['headers']): Headers {
  const result: Headers = {};
  for (const [name, value] of Object.entries(headers)) {
    result[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return result;
}

/**
 * The `image.webhook_received` event: what arrived (`bytes` of it), with the JSON document (a form
 * body's `payload`) kept up to a bound.
 */
function received(parsed: ParsedDelivery, text: string, bytes: number): Record<string, unknown> {
  return {
    deliveryIds: [...new Set(parsed.pushes.map((push) => push.deliveryId))],
    pushes: parsed.pushes.map(formatImageReference),
    ignored: parsed.ignored,
    warnings: parsed.warnings,
    bytes,
    body: clipWhole(text, RECORDED_BODY_CHARS),
    truncated: text.length > RECORDED_BODY_CHARS,
  };
}

/** The metrics outcome of a processed delivery; every claimed push has rollouts or is unmatched. */
function outcomeOf(outcome: DeliveryOutcome): DeliveryOutcomeLabel {
  if (outcome.rollouts.some((rollout) => rollout.created)) return 'created';
  if (outcome.rollouts.length > 0) return 'existing';
  if (outcome.unmatched.length > 0) return 'unmatched';
  if (outcome.duplicates.length > 0) return 'duplicate';
  return 'ignored';
}

/** Request log fields without the URL's path token (Docker Hub and Quay secrets live there). */
function redactedRequest(request: FastifyRequest) {
  const url = request.url.replace(REDACTED_TOKEN, '$1[redacted]');
  return { method: request.method, url, remoteAddress: request.ip };
}
