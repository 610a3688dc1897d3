import { createHmac } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { events } from '../../src/db/schema/index.js';
import { databaseBackends } from '../support/database.js';
import { BEARER, TEST_SECRETS } from '../support/webhook-receiver.js';
import { DIGEST_A, fixtureText, taggedGhcrPackage } from './fixtures.js';
import { receiverFixture } from './receiver-fixture.js';

const FORM = 'application/x-www-form-urlencoded';
/** The sample package event with a tag, pretty-printed as GitHub sends it (spaces, newlines). */
const JSON_BODY = JSON.stringify(taggedGhcrPackage('v1.2.0', DIGEST_A), null, 2);
const IMAGE = 'ghcr.io/codertocat/hello-world:v1.2.0';

/** A form body as GitHub encodes it: one `payload` field, spaces as `+`. */
const formOf = (json: string) => new URLSearchParams({ payload: json }).toString();
const signature = (body: string) =>
  `sha256=${createHmac('sha256', TEST_SECRETS.ghcr).update(body).digest('hex')}`;
/** GitHub's headers for a delivery of `body`, signed over exactly those bytes unless `sign` is given ('' for none). */
const github = (body: string, contentType: string, sign = signature(body)) => ({
  'content-type': contentType,
  'x-github-event': 'package',
  'x-github-delivery': 'gh-form-1',
  ...(sign ? { 'x-hub-signature-256': sign } : {}),
});

describe.each(databaseBackends)('GitHub form-encoded deliveries on %s', (backend) => {
  const ctx = receiverFixture(backend);

  const images = () => [...ctx.kube.rollouts.values()].map((r) => `${r.spec.image}:${r.spec.tag}`);
  const received = async () => {
    const rows = await ctx.database.db
      .select()
      .from(events)
      .where(eq(events.type, 'image.webhook_received'));
    return rows.map((row) => row.payload);
  };

  it.each([
    ['the GHCR URL, spaces as +', 'ghcr', formOf(JSON_BODY), FORM],
    ['the GHCR URL, spaces as %20', 'ghcr', `payload=${encodeURIComponent(JSON_BODY)}`, FORM],
    ['the GHCR URL, with a charset', 'ghcr', formOf(JSON_BODY), `${FORM}; charset=utf-8`],
    ['the auto-detecting URL', 'docker-registry', formOf(JSON_BODY), FORM],
  ])('a signed form delivery to %s creates the rollout', async (_case, path, body, type) => {
    const response = await ctx.post(path, body, github(body, type));
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ registry: 'ghcr', duplicates: [], unmatched: [] });
    expect(images()).toEqual([IMAGE]);
  });

  it('answers and records a form delivery as it does the same delivery in JSON', async () => {
    const asJson = await ctx.post('ghcr', JSON_BODY, github(JSON_BODY, 'application/json'));
    const jsonRollouts = [...ctx.kube.rollouts.values()];
    const [jsonRecord] = await received();
    await ctx.reset();
    const form = formOf(JSON_BODY);
    const asForm = await ctx.post('ghcr', form, github(form, FORM));
    expect(asForm.statusCode).toBe(200);
    expect(asForm.json()).toEqual(asJson.json());
    expect([...ctx.kube.rollouts.values()]).toEqual(jsonRollouts);
    expect(await received()).toEqual([{ ...jsonRecord, bytes: Buffer.byteLength(form) }]);
    expect(jsonRollouts.map((r) => r.metadata.annotations)).toEqual([
      expect.objectContaining({ 'fleet.iotistic.io/delivery-id': 'gh-form-1' }),
    ]);
    expect(jsonRecord).toMatchObject({
      body: JSON_BODY.slice(0, 16_384),
      pushes: [`${IMAGE}@${DIGEST_A}`],
    });
  });

  it('treats a form delivery whose id was seen in JSON as a duplicate', async () => {
    await ctx.post('ghcr', JSON_BODY, github(JSON_BODY, 'application/json'));
    const form = formOf(JSON_BODY);
    const again = await ctx.post('ghcr', form, github(form, FORM));
    expect(again.json()).toMatchObject({ rollouts: [], duplicates: ['gh-form-1'] });
    expect(images()).toEqual([IMAGE]);
  });

  it('reads the sample registry_package event sent as a form, ignoring its untagged manifest', async () => {
    const form = formOf(fixtureText('ghcr-registry_package-published.json'));
    const headers = { ...github(form, FORM), 'x-github-event': 'registry_package' };
    const response = await ctx.post('ghcr', form, headers);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ rollouts: [], ignored: [{ reason: 'Untagged' }] });
  });

  it.each([
    ['no payload field', `data=${encodeURIComponent(JSON_BODY)}`, /has no payload field/],
    ['two payload fields', `${formOf(JSON_BODY)}&${formOf('{}')}`, /has 2 payload fields/],
    ['a payload that is not JSON', formOf('{"action":'), /payload form field is not valid JSON/],
    ['an empty payload', 'payload=', /payload form field is not valid JSON/],
    [
      'a payload nested too deep',
      formOf(`${'['.repeat(100)}${']'.repeat(100)}`),
      /payload form field is nested deeper than/,
    ],
    ['a payload that is not an object', formOf('[1]'), /must be a JSON object/],
    ['a body that is not a form', JSON_BODY, /has no payload field/],
  ])('answers a signed form body with %s with 400 and says why', async (_case, body, detail) => {
    const response = await ctx.post('ghcr', body, github(body, FORM));
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      status: 400,
      title: 'Malformed webhook payload',
      detail: expect.stringMatching(detail),
    });
    expect(ctx.kube.rollouts.size).toBe(0);
  });

  it('answers an empty form body with 400 and one over the body limit with 413', async () => {
    const empty = await ctx.post('ghcr', '', github('', FORM));
    expect(empty.statusCode).toBe(400);
    expect(empty.json().detail).toMatch(/no body/);
    const huge = formOf(JSON.stringify({ ...JSON.parse(JSON_BODY), pad: 'x'.repeat(1_100_000) }));
    const tooLarge = await ctx.post('ghcr', huge, github(huge, FORM));
    expect(tooLarge.statusCode).toBe(413);
    expect(ctx.kube.rollouts.size).toBe(0);
  });

  const form = formOf(JSON_BODY);
  it.each([
    ['no signature', ''],
    ['a signature of the decoded JSON, not of the form', signature(JSON_BODY)],
    ['a signature of another form', signature(formOf('{}'))],
    ['a signature made with another secret', `sha256=${'0'.repeat(64)}`],
  ])('answers a form body with %s with 401, as a JSON body', async (_case, sign) => {
    const response = await ctx.post('ghcr', form, github(form, FORM, sign));
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual({ type: 'about:blank', title: 'Unauthorized', status: 401 });
    expect(ctx.kube.rollouts.size).toBe(0);
  });

  it.each([
    [
      'to a registry that never sends forms',
      'harbor',
      { ...BEARER, 'content-type': FORM },
      /harbor receiver accepts application\/json \(or a \+json media type\), not application\/x-www-form-urlencoded/,
    ],
    [
      'to the auto-detecting URL without X-GitHub-Event',
      'docker-registry',
      { ...BEARER, 'content-type': FORM },
      /only GitHub deliveries \(with X-GitHub-Event\) may be application\/x-www-form-urlencoded/,
    ],
    [
      'in a type no registry sends',
      'ghcr',
      github(form, 'text/plain'),
      /send application\/json .*GitHub deliveries may also be application\/x-www-form-urlencoded/,
    ],
  ])(
    'answers a delivery %s with 415 naming the accepted types',
    async (_c, path, headers, detail) => {
      const response = await ctx.post(path, form, headers);
      expect(response.statusCode).toBe(415);
      expect(response.json()).toMatchObject({
        status: 415,
        title: 'Unsupported media type',
        detail: expect.stringMatching(detail),
      });
      expect(ctx.kube.rollouts.size).toBe(0);
    },
  );
});
