import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { events, webhookDeliveries } from '../../src/db/schema/index.js';
import { databaseBackends } from '../support/database.js';
import { BEARER, TEST_SECRETS } from '../support/webhook-receiver.js';
import { DIGEST_A, fixture, fixtureText, taggedGhcrPackage } from './fixtures.js';
import { receiverFixture } from './receiver-fixture.js';

const HIGH = '\ud800';
const LOW = '\udc00';
const LONE = 'contains an unpaired surrogate';
const NUL = 'contains a NUL character';
const CLOUD_EVENTS = { ...BEARER, 'content-type': 'application/cloudevents+json' };

/** `body` with the value at a dotted path (array indexes as numbers) set, as JSON text. */
function withValue(body: Record<string, unknown>, path: string, value: unknown): string {
  const keys = path.split('.');
  let at = body;
  for (const key of keys.slice(0, -1)) at = at[key] as Record<string, unknown>;
  at[keys.at(-1) as string] = value;
  // JSON.stringify escapes NUL and lone surrogates (`\u0000`, `\ud800`), as senders do.
  return JSON.stringify(body);
}
/** A fixture with one value set, as JSON text. */
const edited = (name: string, path: string, value: unknown) =>
  withValue(fixture(name), path, value);

/** GitHub's headers for `body`, signed. */
const github = (body: string, contentType = 'application/json') => ({
  'content-type': contentType,
  'x-github-event': 'package',
  'x-github-delivery': 'gh-hostile',
  'x-hub-signature-256': `sha256=${createHmac('sha256', TEST_SECRETS.ghcr).update(body).digest('hex')}`,
});
const ghcrWith = (path: string, value: unknown) =>
  withValue(taggedGhcrPackage('v1.2.0', DIGEST_A), path, value);
const garData = (data: object) =>
  edited(
    'gar-pubsub-push-envelope.json',
    'message.data',
    Buffer.from(JSON.stringify(data)).toString('base64'),
  );
const GAR_TAG = 'us-west1-docker.pkg.dev/p/r/app:1.0';

const ghcrForm = ghcrWith('package.name', `hello${HIGH}`);

/**
 * Deliveries holding text Postgres cannot store, to every receiver: the URL path, the body, its
 * headers, and the detail the 400 must give.
 */
const CASES: Array<[string, string, string, Record<string, string>, string]> = [
  [
    'a lone high surrogate in a Harbor event type',
    'harbor',
    edited('harbor-push-artifact.json', 'type', `PUSH_ARTIFACT${HIGH}`),
    BEARER,
    `type in the body ${LONE}`,
  ],
  [
    'a lone low surrogate in a Harbor CloudEvents delivery id',
    'harbor',
    edited('harbor-cloudevents-artifact-pushed.json', 'id', `4b2f89a6${LOW}`),
    CLOUD_EVENTS,
    `id in the body ${LONE}`,
  ],
  [
    'a NUL in a Harbor key',
    'harbor',
    edited('harbor-push-artifact.json', 'event_data.x\u0000', 1),
    BEARER,
    `the property name event_data.x\\u0000 in the body ${NUL}`,
  ],
  [
    'a lone high surrogate in a generic delivery id',
    'generic',
    JSON.stringify({ image: 'registry.example.com/acme/app', tag: '1', id: `build-${HIGH}` }),
    BEARER,
    `id in the body ${LONE}`,
  ],
  [
    'a NUL in a generic key',
    'generic',
    JSON.stringify({ image: 'registry.example.com/acme/app', tag: '1', 'n\u0000te': 'x' }),
    BEARER,
    `the property name n\\u0000te in the body ${NUL}`,
  ],
  [
    'a lone low surrogate in a Distribution event id',
    'distribution',
    edited('distribution-notification-envelope.json', 'events.0.id', `asdf${LOW}`),
    BEARER,
    `events[0].id in the body ${LONE}`,
  ],
  [
    'a lone high surrogate in an ECR event id',
    'ecr',
    edited('ecr-eventbridge-image-push.json', 'id', HIGH),
    BEARER,
    `id in the body ${LONE}`,
  ],
  [
    'a lone low surrogate in a Docker Hub pusher',
    `dockerhub/${TEST_SECRETS.path}`,
    edited('dockerhub.json', 'push_data.pusher', `builder${LOW}`),
    {},
    `push_data.pusher in the body ${LONE}`,
  ],
  [
    'a lone high surrogate in a Quay tag',
    `quay/${TEST_SECRETS.path}`,
    edited('quay-repo-push.json', 'updated_tags', [`v1${HIGH}`]),
    {},
    `updated_tags[0] in the body ${LONE}`,
  ],
  [
    'a lone low surrogate in a GitHub package action',
    'ghcr',
    ghcrWith('action', `published${LOW}`),
    {},
    `action in the body ${LONE}`,
  ],
  [
    'a lone high surrogate in a form-encoded GitHub package name',
    'ghcr',
    new URLSearchParams({ payload: ghcrForm }).toString(),
    {},
    `package.name in the payload form field ${LONE}`,
  ],
  [
    'a lone high surrogate in a Pub/Sub message id',
    'gar',
    edited('gar-pubsub-push-envelope.json', 'message.messageId', `207${HIGH}`),
    {},
    `message.messageId in the body ${LONE}`,
  ],
  [
    'a NUL inside GAR message data',
    'gar',
    garData({ action: 'INSERT', tag: GAR_TAG, 'ex\u0000tra': 1 }),
    {},
    `the property name ex\\u0000tra in message.data ${NUL}`,
  ],
  [
    'a lone low surrogate in an auto-detected Harbor delivery',
    'docker-registry',
    edited('harbor-push-artifact.json', 'event_data.resources.0.tag', `latest${LOW}`),
    BEARER,
    `event_data.resources[0].tag in the body ${LONE}`,
  ],
];

describe.each(databaseBackends)('webhook receiver against hostile text on %s', (backend) => {
  const ctx = receiverFixture(backend, { insecureRegistries: ['gar'] });

  function post(path: string, body: string, headers: Record<string, string>) {
    const signed = path === 'ghcr' ? github(body, contentTypeOf(body)) : {};
    return ctx.receiver.app.inject({
      method: 'POST',
      url: `/api/v1/webhooks/${path}`,
      headers: { 'content-type': 'application/json', ...signed, ...headers },
      payload: body,
    });
  }
  const contentTypeOf = (body: string) =>
    body.startsWith('payload=') ? 'application/x-www-form-urlencoded' : 'application/json';

  it.each(CASES)(
    '%s → 400 naming the field, no retry, nothing stored',
    async (_c, path, body, headers, detail) => {
      const response = await post(path, body, headers);
      expect(response.statusCode).toBe(400);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.headers['retry-after']).toBeUndefined();
      expect(response.json()).toEqual({
        type: 'about:blank',
        title: 'Malformed webhook payload',
        status: 400,
        detail,
      });
      expect(ctx.kube.rollouts.size).toBe(0);
      expect(await ctx.database.db.select().from(webhookDeliveries)).toEqual([]);
      // A refusal writes nothing: it is counted and (at most once a minute) logged.
      expect(await ctx.database.db.select().from(events)).toEqual([]);
      expect(await ctx.receiver.metrics()).toMatch(
        /fleet_rollout_webhook_rejections_total\{registry="[a-z-]+",reason="MalformedPayload"\} 1/,
      );
    },
  );

  it('records a body whose kept excerpt would end inside a surrogate pair', async () => {
    const head = '{"image":"registry.example.com/acme/app","tag":"1","pad":"';
    const body = `${head}${'p'.repeat(16_383 - head.length)}😀"}`;
    expect(body.charCodeAt(16_383)).toBe(0xd83d);
    const response = await post('generic', body, BEARER);
    expect(response.statusCode).toBe(200);
    expect(ctx.kube.rollouts.size).toBe(1);
    const received = (await ctx.database.db.select().from(events)).find(
      (row) => row.type === 'image.webhook_received',
    );
    expect(received?.payload).toMatchObject({ truncated: true, body: body.slice(0, 16_383) });
  });

  it('records a warning quoting a malformed digest cut inside a surrogate pair', async () => {
    const digest = `sha256:${'f'.repeat(69)}😀tail`;
    const body = edited('harbor-push-artifact.json', 'event_data.resources.0.digest', digest);
    const response = await post('harbor', body, BEARER);
    expect(response.statusCode).toBe(200);
    const warning = `resources[0]: ignored malformed digest "${digest.slice(0, 76)}..."`;
    expect(response.json().warnings).toEqual([warning]);
    const received = (await ctx.database.db.select().from(events)).find(
      (row) => row.type === 'image.webhook_received',
    );
    expect(received?.payload.warnings).toEqual([warning]);
  });

  it('rolls out a GHCR version pushed under another action name, and ignores its deletion', async () => {
    const created = fixtureText('ghcr-package-created-tagged.json');
    const response = await post('ghcr', created, {});
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ ignored: [], rollouts: [{ created: true }] });
    expect([...ctx.kube.rollouts.values()].map((r) => `${r.spec.image}:${r.spec.tag}`)).toEqual([
      'ghcr.io/codertocat/hello-world:2.4.1',
    ]);
    const deleted = created.replace('"action": "created"', '"action": "deleted"');
    const ignored = await post('ghcr', deleted, { 'x-github-delivery': 'gh-deleted' });
    expect(ignored.statusCode).toBe(200);
    expect(ignored.json()).toMatchObject({
      rollouts: [],
      ignored: [{ reason: 'NotAPush', detail: 'package action "deleted"' }],
    });
    expect(ctx.kube.rollouts.size).toBe(1);
  });
});
