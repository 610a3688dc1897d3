import { createHmac } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { events, webhookDeliveries } from '../../src/db/schema/index.js';
import { databaseBackends } from '../support/database.js';
import { PUBSUB, startTokenIssuer, type TokenIssuer } from '../support/google-tokens.js';
import { BEARER, createTestReceiver, TEST_SECRETS } from '../support/webhook-receiver.js';
import { DIGEST_A, fixtureText, taggedGhcrPackage, testPolicy } from './fixtures.js';
import { receiverFixture } from './receiver-fixture.js';

const hmac = (body: string) =>
  `sha256=${createHmac('sha256', TEST_SECRETS.ghcr).update(body).digest('hex')}`;

describe.each(databaseBackends)('webhook receiver on %s', (backend) => {
  const ctx = receiverFixture(backend);

  const ghcrBody = JSON.stringify(taggedGhcrPackage('v1.2.0', DIGEST_A));
  it.each([
    [
      'dockerhub',
      `dockerhub/${TEST_SECRETS.path}`,
      fixtureText('dockerhub.json'),
      {},
      'docker.io/svendowideit/testhook:latest',
    ],
    [
      'quay',
      `quay/${TEST_SECRETS.path}`,
      fixtureText('quay-repo-push.json'),
      {},
      'quay.io/mynamespace/repository:latest',
    ],
    [
      'harbor',
      'harbor',
      fixtureText('harbor-push-artifact.json'),
      BEARER,
      'hub.harbor.com/test-webhook/debian:latest',
    ],
    [
      'harbor CloudEvents',
      'harbor',
      fixtureText('harbor-cloudevents-artifact-pushed.json'),
      { ...BEARER, 'content-type': 'application/cloudevents+json' },
      'harbor.dev/library/busybox:1.36.0',
    ],
    [
      'ecr',
      'ecr',
      fixtureText('ecr-eventbridge-image-push.json'),
      BEARER,
      '123456789012.dkr.ecr.us-west-2.amazonaws.com/my-repository-name:latest',
    ],
    [
      'ghcr',
      'ghcr',
      ghcrBody,
      {
        'x-github-event': 'package',
        'x-github-delivery': 'gh-1',
        'x-hub-signature-256': hmac(ghcrBody),
      },
      'ghcr.io/codertocat/hello-world:v1.2.0',
    ],
    [
      'generic',
      'generic',
      JSON.stringify({ image: 'registry.example.com/acme/app', tag: '2.0.0', digest: DIGEST_A }),
      { ...BEARER, 'content-type': 'application/json; charset=utf-8' },
      'registry.example.com/acme/app:2.0.0',
    ],
    [
      'auto-detected Harbor',
      'docker-registry',
      fixtureText('harbor-push-artifact.json'),
      BEARER,
      'hub.harbor.com/test-webhook/debian:latest',
    ],
    [
      'auto-detected Docker Hub',
      `docker-registry/${TEST_SECRETS.path}`,
      fixtureText('dockerhub.json'),
      {},
      'docker.io/svendowideit/testhook:latest',
    ],
  ])('%s delivery creates a rollout', async (_case, path, body, headers, image) => {
    const response = await ctx.post(path, body, headers);
    expect(response.statusCode).toBe(200);
    const rollouts = [...ctx.kube.rollouts.values()];
    expect(rollouts.map((r) => `${r.spec.image}:${r.spec.tag}`)).toEqual([image]);
    expect(response.json().rollouts).toEqual([
      expect.objectContaining({
        namespace: 'fleet',
        name: rollouts[0]?.metadata.name,
        created: true,
      }),
    ]);
  });

  it('answers the GHCR sample (an untagged manifest) with what it ignored', async () => {
    const body = fixtureText('ghcr-package-published.json');
    const response = await ctx.post('ghcr', body, {
      'x-github-event': 'package',
      'x-hub-signature-256': hmac(body),
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ rollouts: [], ignored: [{ reason: 'Untagged' }] });
    expect(ctx.kube.rollouts.size).toBe(0);
  });

  it('reads a Distribution envelope sent with its own media type', async () => {
    const response = await ctx.post(
      'distribution',
      fixtureText('distribution-notification-envelope.json'),
      {
        ...BEARER,
        'content-type': 'application/vnd.docker.distribution.events.v2+json',
      },
    );
    expect(response.statusCode).toBe(200);
    expect(response.json().ignored).toHaveLength(3);
  });

  it.each([
    ['no credentials', 'harbor', {}, 'harbor', 'MissingCredentials'],
    [
      'a wrong bearer',
      'harbor',
      { authorization: 'Bearer nope-nope-nope-nope' },
      'harbor',
      'InvalidCredentials',
    ],
    ['a wrong path token', 'dockerhub/not-the-token', {}, 'dockerhub', 'InvalidCredentials'],
    ['no path token', 'dockerhub', {}, 'dockerhub', 'MissingCredentials'],
    [
      'a bad signature',
      'ghcr',
      { 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` },
      'ghcr',
      'InvalidCredentials',
    ],
    ['an unconfigured registry', 'gar', BEARER, 'gar', 'NotConfigured'],
  ])(
    'answers 401 to %s without saying why, counts why, and stores nothing',
    async (_case, path, headers, registry, reason) => {
      const response = await ctx.post(path, fixtureText('harbor-push-artifact.json'), headers);
      expect(response.statusCode).toBe(401);
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(response.json()).toEqual({ type: 'about:blank', title: 'Unauthorized', status: 401 });
      expect(ctx.kube.rollouts.size).toBe(0);
      expect(await ctx.database.db.select().from(events)).toEqual([]);
      expect(await ctx.database.db.select().from(webhookDeliveries)).toEqual([]);
      expect(await ctx.receiver.metrics()).toContain(
        `fleet_rollout_webhook_rejections_total{registry="${registry}",reason="${reason}"} 1`,
      );
      const lines = ctx.receiver.logs.filter((line) => line.includes('webhook rejected'));
      expect(lines.map((line) => JSON.parse(line))).toEqual([
        expect.objectContaining({ registry, status: 401, reason, alsoRefused: 0 }),
      ]);
    },
  );

  it('logs a flood of unauthenticated deliveries once a minute and stores none', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const receiver = await createTestReceiver({
      database: ctx.database,
      kube: ctx.kube,
      now: () => new Date(now),
      config: { rateLimit: { perMinute: 100_000, burst: 100_000 } },
    });
    const flood = async (count: number) => {
      for (let i = 0; i < count; i++) {
        const response = await receiver.app.inject({
          method: 'POST',
          url: '/api/v1/webhooks/harbor',
          headers: { 'content-type': 'application/json', authorization: `Bearer guess-${i}` },
          payload: fixtureText('harbor-push-artifact.json'),
        });
        expect(response.statusCode).toBe(401);
        now += 100;
      }
    };
    await flood(600); // one minute
    await flood(300);
    const lines = receiver.logs
      .filter((line) => line.includes('webhook rejected'))
      .map((line) => JSON.parse(line));
    expect(lines.map((line) => line.alsoRefused)).toEqual([0, 599]);
    expect(await ctx.database.db.select().from(events)).toEqual([]);
    expect(await receiver.metrics()).toContain(
      'fleet_rollout_webhook_rejections_total{registry="harbor",reason="InvalidCredentials"} 900',
    );
    await receiver.app.close();
  });

  it.each([
    ['text/plain', 415],
    ['application/x-www-form-urlencoded', 415],
    ['application/xml', 415],
  ])('answers %s with %i', async (contentType, status) => {
    const response = await ctx.post('harbor', fixtureText('harbor-push-artifact.json'), {
      ...BEARER,
      'content-type': contentType,
    });
    expect(response.statusCode).toBe(status);
    expect(response.json()).toMatchObject({ status, title: 'Unsupported media type' });
  });

  it.each([
    ['invalid JSON', '{"type":', /not valid JSON/],
    [
      'a wrong type',
      '{"type":"PUSH_ARTIFACT","event_data":{"resources":"x"}}',
      /resources must be an array/,
    ],
    ['deep nesting', `${'['.repeat(100)}${']'.repeat(100)}`, /nested deeper/],
    ['an empty body', '', /no body/],
    ['a NUL in a field', '{"type":"PUSH_ARTIFACT\\u0000"}', /NUL character/],
  ])('answers %s with 400 and a clear message', async (_case, body, detail) => {
    const response = await ctx.post('harbor', body, BEARER);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      status: 400,
      title: 'Malformed webhook payload',
      detail: expect.stringMatching(detail),
    });
  });

  it('answers an unknown registry with 404 and a body over the limit with 413', async () => {
    expect((await ctx.post('nexus', '{}', BEARER)).statusCode).toBe(404);
    const huge = JSON.stringify({ image: 'a/b', tag: '1', pad: 'x'.repeat(2_000_000) });
    const response = await ctx.post('generic', huge, BEARER);
    expect(response.statusCode).toBe(413);
    expect(response.json()).toMatchObject({ status: 413, title: 'Payload too large' });
  });

  it('answers an undetectable delivery to the auto-detecting URL with 400', async () => {
    const response = await ctx.post('docker-registry', '{"hello":"world"}', BEARER);
    expect(response.statusCode).toBe(400);
    expect(response.json().detail).toMatch(/cannot tell which registry/);
  });

  it('answers the reachability check', async () => {
    const response = await ctx.receiver.app.inject({
      method: 'GET',
      url: '/api/v1/webhooks/docker-registry/test',
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok' });
  });

  it('limits each source, answering 429 with Retry-After', async () => {
    let now = Date.parse('2024-01-01T00:00:00Z');
    ctx.receiver = await createTestReceiver({
      database: ctx.database,
      kube: ctx.kube,
      now: () => new Date(now),
      config: { rateLimit: { perMinute: 60, burst: 2 } },
    });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await ctx.post('generic', '{}', BEARER)).statusCode);
    expect(statuses).toEqual([400, 400, 429]);
    const limited = await ctx.post('generic', '{}', BEARER);
    expect(limited.headers['retry-after']).toBe('1');
    expect((await ctx.post('harbor', '{}', BEARER)).statusCode).toBe(400);
    now += 1000;
    expect((await ctx.post('generic', '{}', BEARER)).statusCode).toBe(400);
  });

  it('keeps secrets out of logs and answers', async () => {
    await ctx.post(`dockerhub/${TEST_SECRETS.path}`, fixtureText('dockerhub.json'));
    await ctx.post('harbor', fixtureText('harbor-push-artifact.json'), BEARER);
    await ctx.post('dockerhub/wrong-token', fixtureText('dockerhub.json'));
    const logs = ctx.receiver.logs.join('\n');
    expect(logs).toContain('/api/v1/webhooks/dockerhub/[redacted]');
    for (const secret of Object.values(TEST_SECRETS)) expect(logs).not.toContain(secret);
    const stored = JSON.stringify(await ctx.database.db.select().from(events));
    for (const secret of Object.values(TEST_SECRETS)) expect(stored).not.toContain(secret);
  });

  it('records what arrived and what it created, keeping a bounded payload', async () => {
    const padded = JSON.stringify({
      image: 'registry.example.com/acme/app',
      tag: '3.0.0',
      pad: 'p'.repeat(40_000),
    });
    await ctx.post('generic', padded, BEARER);
    const rows = await ctx.database.db.select().from(events);
    const received = rows.find((row) => row.type === 'image.webhook_received');
    expect(received?.subject).toBe('generic');
    expect(received?.payload).toMatchObject({
      pushes: ['registry.example.com/acme/app:3.0.0'],
      bytes: padded.length,
      truncated: true,
    });
    expect(String(received?.payload.body).length).toBe(16_384);
    const [rollout] = [...ctx.kube.rollouts.values()];
    const created = rows.find((row) => row.type === 'image.rollout_created');
    expect(created?.subject).toBe(`fleet/${rollout?.metadata.name}`);
    expect(created?.payload).toMatchObject({
      policy: 'everything',
      tag: '3.0.0',
      source: 'generic',
    });
  });

  it('counts deliveries by registry and outcome', async () => {
    await ctx.post('harbor', fixtureText('harbor-push-artifact.json'), BEARER);
    await ctx.post('harbor', fixtureText('harbor-push-artifact.json'), BEARER);
    await ctx.post('harbor', '{}', {});
    const text = await ctx.receiver.metrics();
    expect(text).toContain(
      'fleet_rollout_webhook_deliveries_total{registry="harbor",outcome="created"} 1',
    );
    expect(text).toContain(
      'fleet_rollout_webhook_deliveries_total{registry="harbor",outcome="duplicate"} 1',
    );
    expect(text).toContain(
      'fleet_rollout_webhook_deliveries_total{registry="harbor",outcome="unauthorized"} 1',
    );
    expect(text).toContain('fleet_rollout_webhook_rollouts_created_total{registry="harbor"} 1');
  });

  it('creates nothing for a push no policy matches, or only suspended ones', async () => {
    ctx.kube.policies = [
      testPolicy('other', { image: 'ghcr.io/other/*' }),
      testPolicy('paused', { image: '**', suspend: true }),
    ];
    const response = await ctx.post('harbor', fixtureText('harbor-push-artifact.json'), BEARER);
    expect(response.json()).toMatchObject({
      rollouts: [],
      unmatched: [expect.stringContaining('debian:latest')],
    });
    expect(ctx.kube.rollouts.size).toBe(0);
  });

  it('reports a rollout the API server refuses as invalid, and does not ask for a retry', async () => {
    const image = `registry.example.com/${'a'.repeat(250)}`;
    const response = await ctx.post('generic', JSON.stringify({ image, tag: '1' }), BEARER);
    expect(response.statusCode).toBe(200);
    expect(response.json().rollouts).toEqual([
      expect.objectContaining({ created: false, error: 'spec.image: Too long' }),
    ]);
    const rows = await ctx.database.db
      .select()
      .from(events)
      .where(eq(events.type, 'image.rollout_rejected'));
    expect(rows[0]?.payload).toMatchObject({
      reason: 'spec.image: Too long',
      policy: 'everything',
    });
  });

  describe('Google Artifact Registry through Pub/Sub push', () => {
    let issuer: TokenIssuer;
    beforeAll(async () => {
      issuer = await startTokenIssuer();
    });
    afterAll(() => issuer?.close());

    async function garReceiver(jwksUrl: string) {
      const env = {
        FLEET_ROLLOUT_WEBHOOK_GAR_AUDIENCE: PUBSUB.audience,
        FLEET_ROLLOUT_WEBHOOK_GAR_SERVICE_ACCOUNT: PUBSUB.serviceAccount,
        FLEET_ROLLOUT_WEBHOOK_GAR_JWKS_URL: jwksUrl,
      };
      ctx.receiver = await createTestReceiver({ database: ctx.database, kube: ctx.kube, env });
    }
    const envelope = fixtureText('gar-pubsub-push-envelope.json');

    it('creates a rollout for a push with a valid token, and refuses others', async () => {
      await garReceiver(issuer.jwksUrl);
      const stranger = await issuer.sign({}, { stranger: true });
      expect(
        (await ctx.post('gar', envelope, { authorization: `Bearer ${stranger}` })).statusCode,
      ).toBe(401);
      expect((await ctx.post('gar', envelope)).statusCode).toBe(401);
      const valid = await ctx.post('gar', envelope, {
        authorization: `Bearer ${await issuer.sign()}`,
      });
      expect(valid.statusCode).toBe(200);
      expect([...ctx.kube.rollouts.values()].map((r) => `${r.spec.image}:${r.spec.tag}`)).toEqual([
        'us-west1-docker.pkg.dev/my-project/my-repo/hello-world:1.1',
      ]);
    });

    it('answers 503 when the signing keys cannot be fetched', async () => {
      await garReceiver('http://127.0.0.1:1/certs');
      const response = await ctx.post('gar', envelope, {
        authorization: `Bearer ${await issuer.sign()}`,
      });
      expect(response.statusCode).toBe(503);
      expect(ctx.kube.rollouts.size).toBe(0);
    });
  });

  it('answers 503 when rollouts cannot be created, and processes the retry', async () => {
    ctx.kube.failCreates = true;
    const failed = await ctx.post('harbor', fixtureText('harbor-push-artifact.json'), BEARER);
    expect(failed.statusCode).toBe(503);
    expect(failed.headers['retry-after']).toBe('30');
    // Exactly this body: no cause, no stack trace.
    expect(failed.json()).toEqual({
      type: 'about:blank',
      title: 'Service unavailable',
      status: 503,
      detail: 'cannot process the delivery now; retry',
    });
    ctx.kube.failCreates = false;
    const retried = await ctx.post('harbor', fixtureText('harbor-push-artifact.json'), BEARER);
    expect(retried.statusCode).toBe(200);
    expect(ctx.kube.rollouts.size).toBe(1);
  });
});
