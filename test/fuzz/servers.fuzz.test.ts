import { createHmac } from 'node:crypto';
import { Agent, request } from 'node:https';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiServer } from '../../src/apiserver/index.js';
import { loadConfig } from '../../src/config.js';
import { createWebhookStore } from '../../src/db/webhook-store.js';
import { createDeviceApi, type DeviceApi } from '../../src/devices/device-api.js';
import { createHttpServer } from '../../src/http/server.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { createMetricsRegistry } from '../../src/telemetry/metrics.js';
import { createWebhookPlugin } from '../../src/webhooks/receiver.js';
import { startTestServer } from '../support/apiserver.js';
import { createTestDatabase, databaseBackends, type TestDatabase } from '../support/database.js';
import { ADMIN_TOKEN } from '../support/device-api.js';
import { MemoryKube } from '../support/memory-kube.js';
import { TEST_ENV, TEST_SECRETS } from '../support/webhook-receiver.js';
import { fixtureText, testPolicy } from '../webhooks/fixtures.js';
import { fuzzSeed, Random } from './random.js';
import { type Answer, type Attempt, apiServerAttempt, sharedServerAttempt } from './requests.js';

/** Requests per server and database backend; FUZZ_REQUESTS raises it for a longer hunt. */
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 1000);
const SEED = fuzzSeed();

/** What a stack trace or a source location looks like in an answer. */
const STACK = /\n\s+at [^\n]*(?:\(|:\d+:\d+)|node_modules|\.ts:\d+|\.js:\d+:\d+|Error: .*\n\s+at /;

/** What went wrong with one answer, or undefined when it is fine. */
function problemWith(attempt: Attempt, answer: Answer, secrets: string[]): string | undefined {
  const sent = `${attempt.path}\n${JSON.stringify(attempt.headers)}\n${attempt.body?.toString() ?? ''}`;
  const received = `${JSON.stringify(answer.headers)}\n${answer.body}`;
  if (answer.status === 0) return 'no answer within 30 s';
  if (answer.status >= 500) return `answered ${answer.status}`;
  if (STACK.test(received)) return 'answer shows a stack trace or source location';
  const leaked = secrets.find((secret) => received.includes(secret) && !sent.includes(secret));
  if (leaked) return `answer echoes a secret it was not sent (${leaked.slice(0, 4)}…)`;
  return undefined;
}

/** Runs `count` attempts, collecting failures with enough to replay and read them. */
async function fuzz(
  name: string,
  count: number,
  next: (random: Random) => Attempt,
  send: (attempt: Attempt) => Promise<Answer | undefined>,
  secrets: () => string[],
) {
  const random = new Random(SEED ^ name.length);
  const failures: string[] = [];
  const statuses = new Map<number, number>();
  let sent = 0;
  const recent: string[] = [];
  const describe = (attempt: Attempt) =>
    `${attempt.method} ${attempt.path.slice(0, 200)} ${JSON.stringify(attempt.headers).slice(0, 300)} ${JSON.stringify(attempt.body?.toString().slice(0, 300))}`;
  for (let i = 0; i < count; i++) {
    const attempt = next(random);
    const answer = await send(attempt);
    // A request that hangs may be the fault of the one before on the same connection.
    if (answer?.status === 0) console.log(`fuzz: #${i} unanswered, after ${recent.join('\n')}`);
    recent.splice(0, recent.length, describe(attempt));
    if (!answer) continue; // not sent (an invalid URL), or the connection closed mid-body
    sent += 1;
    statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
    const problem = problemWith(attempt, answer, secrets());
    if (problem && failures.length < 10) {
      failures.push(`#${i} ${problem}: ${describe(attempt)} → ${answer.body.slice(0, 300)}`);
    }
  }
  const summary = [...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`);
  console.log(`fuzz ${name}: seed ${SEED}, ${sent} requests sent, answers ${summary.join(' ')}`);
  expect(failures, `seed ${SEED} (replay with FUZZ_SEED=${SEED})`).toEqual([]);
  return { sent, statuses };
}

describe.each(databaseBackends)(
  `fuzzing every route of every server on %s (seed ${SEED})`,
  (backend) => {
    let database: TestDatabase;
    let shared: FastifyInstance;
    let deviceApi: DeviceApi;
    let apiServer: ApiServer;
    let agent: Agent;
    const device = { uuid: '', apiKey: '' };

    beforeAll(async () => {
      console.log(`fuzz seed ${SEED} (replay with FUZZ_SEED=${SEED})`);
      database = await createTestDatabase(backend);
      const logger = silentLogger();
      const metrics = createMetricsRegistry({ processMetrics: false });
      deviceApi = createDeviceApi({
        database: database.database,
        logger,
        metrics,
        adminToken: ADMIN_TOKEN,
        pollIntervalSeconds: 30,
        maxLongPollSeconds: 1,
      });
      await deviceApi.start();
      const kube = new MemoryKube();
      kube.policies = [testPolicy('everything', { image: '**' })];
      const config = loadConfig(TEST_ENV).webhooks;
      const webhooks = createWebhookPlugin({
        config: { ...config, rateLimit: { perMinute: 1_000_000, burst: 1_000_000 } },
        kube,
        store: createWebhookStore(database.database.db),
        logger,
        metrics,
        resolveDigest: async () => {
          throw new Error('registry unreachable');
        },
      });
      shared = await createHttpServer({
        logger,
        metrics,
        database: database.database,
        plugins: [deviceApi.plugin, webhooks],
      });
      const registered = await shared.inject({
        method: 'POST',
        url: '/api/v1/devices',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        payload: { fleet: 'lab', labels: { app: 'web' } },
      });
      Object.assign(device, registered.json());
      apiServer = await startTestServer(database.database);
      agent = new Agent({ keepAlive: true, ca: apiServer.certificate });
    });

    afterAll(async () => {
      agent?.destroy();
      await apiServer?.close();
      await shared?.close();
      await deviceApi?.stop();
      await database?.drop();
    });

    const sharedSecrets = () => [ADMIN_TOKEN, device.apiKey, ...Object.values(TEST_SECRETS)];

    it('the device API, admin routes and every registry webhook answer hostile requests below 500', async () => {
      const ghcrSignature = (body: Buffer | string) =>
        `sha256=${createHmac('sha256', TEST_SECRETS.ghcr).update(body).digest('hex')}`;
      const context = { device, fixtureText, ghcrSignature };
      await fuzz(
        `shared server on ${backend}`,
        REQUESTS,
        (random) => sharedServerAttempt(random, context),
        async (attempt) => {
          try {
            const response = await shared.inject({
              method: attempt.method as 'GET',
              url: attempt.path,
              headers: attempt.headers,
              payload: attempt.body,
            });
            return {
              status: response.statusCode,
              headers: response.headers as Record<string, unknown>,
              body: response.body,
            };
          } catch {
            return undefined;
          }
        },
        sharedSecrets,
      );
    }, 600_000);

    it('the local API server answers hostile requests below 500, on every patch type and YAML', async () => {
      await fuzz(
        `local API server on ${backend}`,
        REQUESTS,
        (random) => apiServerAttempt(random, apiServer.token),
        (attempt) => sendHttps(agent, apiServer, attempt),
        () => [apiServer.token],
      );
    }, 600_000);
  },
);

/** One HTTPS request; undefined when Node refuses to send it (an invalid path or header). */
function sendHttps(agent: Agent, server: ApiServer, attempt: Attempt): Promise<Answer | undefined> {
  return new Promise((resolve) => {
    let call: ReturnType<typeof request>;
    try {
      const headers: Record<string, string> = { ...attempt.headers };
      if (attempt.body !== undefined)
        headers['content-length'] = String(Buffer.byteLength(attempt.body));
      call = request(
        `${server.url}${attempt.path}`,
        { method: attempt.method, agent, headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers as Record<string, unknown>,
              body: Buffer.concat(chunks).toString('utf8'),
            }),
          );
          res.on('error', () => resolve(undefined));
        },
      );
    } catch {
      resolve(undefined);
      return;
    }
    call.setTimeout(30_000, () => {
      resolve({ status: 0, headers: {}, body: '' });
      call.destroy();
    });
    // The server may close while a refused body is still being written (EPIPE, ECONNRESET).
    call.on('error', () => resolve(undefined));
    call.end(attempt.body);
  });
}
