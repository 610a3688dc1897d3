import { afterAll, beforeAll, beforeEach } from 'vitest';
import type { WebhookConfig } from '../../src/config.js';
import type { Database } from '../../src/db/client.js';
import { events, webhookDeliveries, webhookRollouts } from '../../src/db/schema/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { MemoryKube } from '../support/memory-kube.js';
import { createTestReceiver, type TestReceiver } from '../support/webhook-receiver.js';
import { testPolicy } from './fixtures.js';

/** What a receiver test works with; replaced before each test. */
export interface ReceiverContext {
  database: Database;
  /** The Kubernetes stand-in: one policy, `everything`, matching every image. */
  kube: MemoryKube;
  receiver: TestReceiver;
  /** What runs before each test: empties the tables, makes a new kube and receiver. */
  reset(): Promise<void>;
  /** POSTs `body` to `/api/v1/webhooks/<path>` as JSON unless `headers` say otherwise. */
  post(
    path: string,
    body: string,
    headers?: Record<string, string>,
  ): ReturnType<TestReceiver['app']['inject']>;
}

/**
 * For one describe block: a fresh database of `backend`, and before each test emptied webhook
 * tables, a new MemoryKube and a new receiver (with `config` over the test configuration).
 */
export function receiverFixture(
  backend: 'pglite' | 'postgres',
  config: Partial<WebhookConfig> = {},
): ReceiverContext {
  let test: TestDatabase | undefined;
  const context = {
    post(path: string, body: string, headers: Record<string, string> = {}) {
      return context.receiver.app.inject({
        method: 'POST',
        url: `/api/v1/webhooks/${path}`,
        headers: { 'content-type': 'application/json', ...headers },
        payload: body,
      });
    },
  } as ReceiverContext;
  beforeAll(async () => {
    test = await createTestDatabase(backend);
    context.database = test.database;
  });
  afterAll(() => test?.drop());
  context.reset = async () => {
    await context.database.db.delete(webhookDeliveries);
    await context.database.db.delete(webhookRollouts);
    await context.database.db.delete(events);
    context.kube = new MemoryKube();
    context.kube.policies = [testPolicy('everything', { image: '**' })];
    const { database, kube } = context;
    context.receiver = await createTestReceiver({ database, kube, config });
  };
  beforeEach(() => context.reset());
  return context;
}
