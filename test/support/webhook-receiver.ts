import Fastify, { type FastifyInstance } from 'fastify';
import pino from 'pino';
import { loadConfig, type WebhookConfig } from '../../src/config.js';
import type { Database } from '../../src/db/client.js';
import { createWebhookStore } from '../../src/db/webhook-store.js';
import { createMetricsRegistry } from '../../src/telemetry/metrics.js';
import type { DigestResolver } from '../../src/webhooks/digest-resolver.js';
import type { WebhookKube } from '../../src/webhooks/process-delivery.js';
import { webhookReceiver } from '../../src/webhooks/receiver.js';

/** Secrets the test receivers are configured with. */
export const TEST_SECRETS = {
  ghcr: 'ghcr-hmac-secret-for-tests',
  header: 'bearer-token-for-tests-0123',
  path: 'Zk3l-9qP_x2mN8vR4tY7wB1cD5eF0gH6',
};

/** The Authorization header the Harbor, Distribution, ECR and generic receivers accept. */
export const BEARER = { authorization: `Bearer ${TEST_SECRETS.header}` };

/** Environment for the test receivers: every shared-secret registry configured. */
export const TEST_ENV: Record<string, string> = {
  FLEET_ROLLOUT_WEBHOOK_GHCR_SECRET: TEST_SECRETS.ghcr,
  FLEET_ROLLOUT_WEBHOOK_HARBOR_SECRET: TEST_SECRETS.header,
  FLEET_ROLLOUT_WEBHOOK_DISTRIBUTION_SECRET: TEST_SECRETS.header,
  FLEET_ROLLOUT_WEBHOOK_ECR_SECRET: TEST_SECRETS.header,
  FLEET_ROLLOUT_WEBHOOK_GENERIC_SECRET: TEST_SECRETS.header,
  FLEET_ROLLOUT_WEBHOOK_DOCKERHUB_SECRET: TEST_SECRETS.path,
  FLEET_ROLLOUT_WEBHOOK_QUAY_SECRET: TEST_SECRETS.path,
};

/** A fastify app with only the webhook receiver on it, and what it logged. */
export interface TestReceiver {
  app: FastifyInstance;
  logs: string[];
  metrics: () => Promise<string>;
}

/** Builds a receiver over a database and a kube stand-in; `env` adds to TEST_ENV. */
export async function createTestReceiver(options: {
  database: Database;
  kube: WebhookKube;
  env?: Record<string, string>;
  now?: () => Date;
  resolveDigest?: DigestResolver;
  config?: Partial<WebhookConfig>;
  /** Match only this namespace's policies (`--namespace`). */
  namespace?: string;
}): Promise<TestReceiver> {
  const logs: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(line) });
  // Fastify's own request logs go to the same lines, to check they carry no secrets.
  const app = Fastify({ loggerInstance: logger }) as unknown as FastifyInstance;
  const metrics = createMetricsRegistry({ processMetrics: false });
  const config = { ...loadConfig({ ...TEST_ENV, ...options.env }).webhooks, ...options.config };
  await app.register(webhookReceiver, {
    config,
    kube: options.kube,
    store: createWebhookStore(options.database.db),
    logger,
    metrics,
    now: options.now,
    resolveDigest: options.resolveDigest,
    namespace: options.namespace,
  });
  await app.ready();
  return { app, logs, metrics: () => metrics.metrics() };
}
