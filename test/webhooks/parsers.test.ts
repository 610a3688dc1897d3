import { describe, expect, it } from 'vitest';
import { parseJson } from '../../src/webhooks/json-reader.js';
import { detectRegistry, PARSERS } from '../../src/webhooks/parsers/index.js';
import type { ParsedDelivery, RegistryKind } from '../../src/webhooks/push.js';
import { DIGEST_A, fixture, fixtureText, sha256, taggedGhcrPackage } from './fixtures.js';

/** Parses raw text as the receiver does: depth-limited JSON, then the registry's parser. */
function parse(
  registry: RegistryKind,
  text: string,
  headers: Record<string, string | undefined> = {},
) {
  return PARSERS[registry]({ body: parseJson(text), headers, bodyHash: sha256(text) });
}

function summary(delivery: ParsedDelivery) {
  return {
    pushes: delivery.pushes.map((p) => `${p.repository}:${p.tag}${p.digest ? `@${p.digest}` : ''}`),
    ignored: delivery.ignored.map((i) => i.reason),
    warnings: delivery.warnings.length,
  };
}

describe('registry samples', () => {
  it.each([
    {
      file: 'dockerhub.json',
      registry: 'dockerhub',
      headers: {},
      pushes: ['docker.io/svendowideit/testhook:latest'],
      ignored: [],
      warnings: 0,
    },
    {
      file: 'ghcr-package-published.json',
      registry: 'ghcr',
      headers: { 'x-github-event': 'package', 'x-github-delivery': 'd1' },
      pushes: [],
      ignored: ['Untagged'],
      warnings: 0,
    },
    {
      // GitHub's sample with another action name and a tagged version: a push all the same.
      file: 'ghcr-package-created-tagged.json',
      registry: 'ghcr',
      headers: { 'x-github-event': 'package', 'x-github-delivery': 'd2' },
      pushes: [
        'ghcr.io/codertocat/hello-world:2.4.1@sha256:3da1996a8115d7616457760d9920b815241d0a03b34cf5f04e9a0e9d8de37498',
      ],
      ignored: [],
      warnings: 0,
    },
    {
      file: 'ghcr-registry_package-published.json',
      registry: 'ghcr',
      headers: { 'x-github-event': 'registry_package' },
      pushes: [],
      ignored: ['Untagged'],
      warnings: 0,
    },
    {
      file: 'harbor-push-artifact.json',
      registry: 'harbor',
      headers: {},
      pushes: [
        'hub.harbor.com/test-webhook/debian:latest@sha256:8a9e9863dbb6e10edb5adfe917c00da84e1700fa76e7ed02476aa6e6fb8ee0d8',
      ],
      ignored: [],
      warnings: 0,
    },
    {
      file: 'harbor-cloudevents-artifact-pushed.json',
      registry: 'harbor',
      headers: { 'content-type': 'application/cloudevents+json' },
      pushes: [
        'harbor.dev/library/busybox:1.36.0@sha256:dde8e930c7b6a490f728e66292bc9bce42efc9bbb5278bae40e4f30f6e00fe8c',
      ],
      ignored: ['Untagged'],
      warnings: 0,
    },
    {
      file: 'quay-repo-push.json',
      registry: 'quay',
      headers: {},
      pushes: ['quay.io/mynamespace/repository:latest'],
      ignored: [],
      warnings: 0,
    },
    {
      file: 'distribution-notification-envelope.json',
      registry: 'distribution',
      headers: { 'content-type': 'application/vnd.docker.distribution.events.v1+json' },
      pushes: [],
      ignored: ['Untagged', 'NotAPush', 'NotAPush'],
      warnings: 0,
    },
    {
      file: 'distribution-2.8-manifest-push.json',
      registry: 'distribution',
      headers: { 'content-type': 'application/vnd.docker.distribution.events.v1+json' },
      pushes: [
        '127.0.0.1:41499/acme/app:v1@sha256:bbfbd38c9b83195b63dda4927ddba8013ca2b80a27b30525ba0d12a8533afa6a',
      ],
      ignored: [],
      warnings: 0,
    },
    {
      // The documentation truncates the digest ("sha256:6ec128e26cd5..."): dropped with a warning.
      file: 'gar-pubsub-push-envelope.json',
      registry: 'gar',
      headers: {},
      pushes: ['us-west1-docker.pkg.dev/my-project/my-repo/hello-world:1.1'],
      ignored: [],
      warnings: 1,
    },
    {
      // The documentation's digest has 60 hex digits: dropped with a warning.
      file: 'ecr-eventbridge-image-push.json',
      registry: 'ecr',
      headers: {},
      pushes: ['123456789012.dkr.ecr.us-west-2.amazonaws.com/my-repository-name:latest'],
      ignored: [],
      warnings: 1,
    },
  ] as const)(
    '$file parses and is detected as $registry',
    ({ file, registry, headers, ...want }) => {
      const text = fixtureText(file);
      expect(summary(parse(registry, text, headers))).toEqual(want);
      expect(detectRegistry({ body: JSON.parse(text), headers })).toBe(registry);
    },
  );

  it('keeps delivery ids, push times and registry hosts', () => {
    const gar = parse('gar', fixtureText('gar-pubsub-push-envelope.json')).pushes[0];
    expect(gar).toMatchObject({
      registry: 'us-west1-docker.pkg.dev',
      deliveryId: '2070443601311540',
      pushedAt: '2021-02-26T19:13:55.749Z',
    });
    const hubText = fixtureText('dockerhub.json');
    expect(parse('dockerhub', hubText).pushes[0]).toMatchObject({
      registry: 'docker.io',
      deliveryId: `sha256:${sha256(hubText)}`,
      pushedAt: '2014-12-03T00:22:41.000Z',
    });
    const ecr = parse('ecr', fixtureText('ecr-eventbridge-image-push.json')).pushes[0];
    expect(ecr?.deliveryId).toBe('13cde686-328b-6117-af20-0e5566167482');
  });

  it('reads a tagged GHCR push with its digest and lower-cases the owner', () => {
    const text = JSON.stringify(taggedGhcrPackage('v1.2.0', DIGEST_A));
    const delivery = parse('ghcr', text, {
      'x-github-event': 'package',
      'x-github-delivery': 'g1',
    });
    expect(delivery.pushes).toEqual([
      {
        registry: 'ghcr.io',
        repository: 'ghcr.io/codertocat/hello-world',
        tag: 'v1.2.0',
        digest: DIGEST_A,
        pushedAt: '2019-05-09T23:28:29.000Z',
        deliveryId: 'g1',
      },
    ]);
  });

  const withAction = (action: string | undefined, tagged = true) => {
    const body = tagged
      ? taggedGhcrPackage('v1.2.0', DIGEST_A)
      : fixture('ghcr-package-published.json');
    if (action === undefined) delete body.action;
    else body.action = action;
    return JSON.stringify(body);
  };

  it.each([
    ['published', true, 'push'],
    ['updated', true, 'push'],
    ['created', true, 'push'],
    ['create', true, 'push'],
    ['Published', true, 'push'],
    ['a name GitHub may use next', true, 'push'],
    [undefined, true, 'push'],
    ['deleted', true, 'NotAPush'],
    ['removed', true, 'NotAPush'],
    ['DELETED', true, 'NotAPush'],
    ['published', false, 'Untagged'],
    ['created', false, 'NotAPush'],
  ] as const)('a GHCR %s action on a version tagged %s is a %s', (action, tagged, want) => {
    for (const event of ['package', 'registry_package']) {
      const text = withAction(action, tagged).replace('"package":', `"${event}":`);
      const delivery = parse('ghcr', text, { 'x-github-event': event, 'x-github-delivery': 'g2' });
      const got = delivery.pushes.map((push) => `${push.repository}:${push.tag}@${push.digest}`);
      if (want === 'push') {
        expect(got).toEqual([`ghcr.io/codertocat/hello-world:v1.2.0@${DIGEST_A}`]);
        expect(delivery.ignored).toEqual([]);
      } else {
        expect(got).toEqual([]);
        expect(delivery.ignored.map((ignored) => ignored.reason)).toEqual([want]);
      }
    }
  });
});

const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
const huge = 'x'.repeat(100_000);
const hub = (repoName: unknown, tag: unknown) =>
  JSON.stringify({ push_data: { tag, pushed_at: 1 }, repository: { repo_name: repoName } });
const envelope = (events: unknown) => JSON.stringify({ events });
const pubsub = (data: string) =>
  JSON.stringify({ message: { data, messageId: '1' }, subscription: 'projects/p/subscriptions/s' });
const gar = (data: unknown) => pubsub(Buffer.from(JSON.stringify(data)).toString('base64'));
const quay = (tags: string) => `{"docker_url":"quay.io/a/b","updated_tags":${tags}}`;
const harbor = (data: string) => `{"type":"PUSH_ARTIFACT","event_data":${data}}`;
const generic = (fields: object) =>
  JSON.stringify({ image: 'ghcr.io/acme/app', tag: '1', ...fields });

describe('malformed and hostile bodies', () => {
  it.each([
    ['not JSON', 'dockerhub', 'not json', /not valid JSON/],
    ['an empty body', 'dockerhub', '', /not valid JSON/],
    ['5000 nested arrays', 'dockerhub', deep, /nested deeper than 32 levels/],
    ['deep nesting inside a field', 'generic', `{"image":${deep}}`, /nested deeper than 32/],
    ['an array', 'dockerhub', '[]', /must be a JSON object/],
    ['null', 'dockerhub', 'null', /must be a JSON object/],
    ['a string', 'dockerhub', '"a string"', /must be a JSON object/],
    ['an empty object', 'dockerhub', '{}', /repository.repo_name is required/],
    ['a number for a name', 'dockerhub', hub(42, 'v'), /repo_name must be a string, got number/],
    ['an array for a tag', 'dockerhub', hub('a/b', ['v']), /tag must be a string, got an array/],
    ['a 100 kB tag', 'dockerhub', hub('a/b', huge), /push_data.tag is longer than 1024 characters/],
    ['a 100 kB name', 'dockerhub', hub(huge, 'v'), /repository.repo_name is longer than 1024/],
    ['an invalid tag', 'dockerhub', hub('a/b', 'bad tag!'), /"bad tag!" is not a valid tag/],
    ['a path in a name', 'dockerhub', hub('Acme/../app', 'v'), /invalid repository/],
    [
      'an object for a name',
      'dockerhub',
      hub({ __proto__: 'x' }, 'v'),
      /must be a string, got object/,
    ],
    ['Quay tags as a string', 'quay', quay('"latest"'), /must be an array, got string/],
    ['Quay tags of numbers', 'quay', quay('[1]'), /updated_tags\[0\] must be a string/],
    ['1001 Quay tags', 'quay', quay(JSON.stringify(Array(1001).fill('x'))), /more than 1000 items/],
    ['events as an object', 'distribution', '{"events":{}}', /events must be an array/],
    [
      'an event as a number',
      'distribution',
      '{"events":[42]}',
      /events\[0\] must be a JSON object/,
    ],
    [
      'a manifest push without repository',
      'distribution',
      envelope([
        {
          action: 'push',
          target: { mediaType: 'application/vnd.oci.image.manifest.v1+json', tag: 'v1' },
          request: { host: 'r.example' },
        },
      ]),
      /events\[0\].target.repository is required/,
    ],
    ['Harbor data as an array', 'harbor', harbor('[]'), /event_data must be a JSON object/],
    ['Harbor without resources', 'harbor', harbor('{"resources":[]}'), /lists no resources/],
    [
      'a Harbor resource URL that is no image',
      'harbor',
      harbor('{"resources":[{"tag":"v1","resource_url":"::"}]}'),
      /resources\[0\].resource_url: invalid/,
    ],
    ['Pub/Sub data not base64', 'gar', pubsub('%%%'), /message.data must be base64/],
    [
      'Pub/Sub data not JSON',
      'gar',
      pubsub(Buffer.from('no').toString('base64')),
      /not valid JSON/,
    ],
    ['a GAR tag without tag', 'gar', gar({ action: 'INSERT', tag: 'x' }), /must be <image>:<tag>/],
    [
      'a GAR digest of another image',
      'gar',
      gar({ action: 'INSERT', tag: 'r.example/a:1', digest: `r.example/b@${DIGEST_A}` }),
      /name different images/,
    ],
    [
      'a GAR digest without digest',
      'gar',
      gar({ action: 'INSERT', tag: 'r.example/a:1', digest: 'r.example/a' }),
      /must be <image>@<digest>/,
    ],
    [
      'an ECR event with a bad account',
      'ecr',
      JSON.stringify({
        id: '1',
        source: 'aws.ecr',
        'detail-type': 'ECR Image Action',
        account: 'me',
        region: 'us-east-1',
        detail: { 'action-type': 'PUSH', result: 'SUCCESS', 'repository-name': 'a' },
      }),
      /account must be a 12-digit AWS account id/,
    ],
    ['generic without tag', 'generic', '{"image":"ghcr.io/acme/app"}', /tag is required/],
    ['generic with two tags', 'generic', generic({ image: 'a/b:1', tag: '2' }), /disagrees/],
    ['generic with a short digest', 'generic', generic({ digest: 'sha256:abc' }), /64 hex digits/],
    ['generic with a bad time', 'generic', generic({ pushedAt: 'yesterday' }), /RFC 3339/],
    ['generic with a URL', 'generic', generic({ image: 'HTTP://evil/../x' }), /invalid/],
    [
      'a NUL in a key',
      'generic',
      '{"image":"ghcr.io/acme/app","tag":"1","x\\u0000":1}',
      /^the property name x\\u0000 in the body contains a NUL character$/,
    ],
    [
      'a NUL in a value',
      'dockerhub',
      hub('a/b', 'v\u0000'),
      /^push_data.tag in the body contains a NUL/,
    ],
    [
      'a lone high surrogate in a delivery id',
      'generic',
      generic({ id: '\ud800' }),
      /^id in the body contains an unpaired surrogate$/,
    ],
    [
      'a lone low surrogate in a Harbor event type',
      'harbor',
      '{"type":"PUSH_ARTIFACT\\udc00"}',
      /^type in the body contains an unpaired surrogate$/,
    ],
    [
      'a lone surrogate in a Distribution event id',
      'distribution',
      envelope([{ id: '\udbff', action: 'push' }]),
      /^events\[0\].id in the body contains an unpaired surrogate$/,
    ],
    [
      'a lone surrogate in a Quay tag',
      'quay',
      quay('["v1\\udfff"]'),
      /^updated_tags\[0\] in the body contains an unpaired surrogate$/,
    ],
    [
      'a lone surrogate inside GAR data',
      'gar',
      gar({ action: 'INSERT', tag: 'r.example/a:1\ud800' }),
      /^tag in message.data contains an unpaired surrogate$/,
    ],
  ] as const)('%s → 400', (_case, registry, text, message) => {
    expect(() => parse(registry, text)).toThrow(message);
  });

  it.each([
    ['a GitHub ping', 'ghcr', '{"zen":"Keep it logically awesome."}', 'ping', 'NotAPush'],
    ['a deleted package', 'ghcr', '{"action":"deleted","package":{}}', 'package', 'NotAPush'],
    ['a Harbor pull', 'harbor', '{"type":"PULL_ARTIFACT","event_data":{}}', '', 'NotAPush'],
    ['a GAR tag delete', 'gar', gar({ action: 'DELETE', tag: 'r.example/a:1' }), '', 'NotAPush'],
    ['an untagged GAR push', 'gar', gar({ action: 'INSERT' }), '', 'Untagged'],
    ['a Quay push of no tags', 'quay', quay('[]'), '', 'Untagged'],
    ['a cosign signature', 'quay', quay('["sha256-abc.sig"]'), '', 'ArtifactTag'],
    ['an attestation', 'dockerhub', hub('acme/app', 'v1.att'), '', 'ArtifactTag'],
    ['an SBOM', 'dockerhub', hub('acme/app', 'v1.sbom'), '', 'ArtifactTag'],
  ] as const)('%s is ignored', (_case, registry, text, event, reason) => {
    const delivery = parse(registry, text, event ? { 'x-github-event': event } : {});
    expect(delivery.pushes).toEqual([]);
    expect(delivery.ignored.map((i) => i.reason)).toEqual([reason]);
  });

  it('reads the legacy Quay map of tags', () => {
    const text = '{"docker_url":"quay.io/a/b","updated_tags":{"v1":"abc","v2":"def"}}';
    expect(parse('quay', text).pushes.map((p) => p.tag)).toEqual(['v1', 'v2']);
  });

  it.each([
    [{ image: 'nginx', tag: '1' }, {}, 'generic'],
    [{ anything: true }, {}, undefined],
    [[1, 2], {}, undefined],
    [{}, { 'x-github-event': 'ping' }, 'ghcr'],
    [{}, { 'content-type': 'application/vnd.docker.distribution.events.v2+json' }, 'distribution'],
  ] as const)('detects %j with %j as %s', (body, headers, registry) => {
    expect(detectRegistry({ body, headers })).toBe(registry);
  });
});
