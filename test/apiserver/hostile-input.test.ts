import { describe, expect, it } from 'vitest';
import { type Answer, POLICIES, policy, serverFixture } from '../support/apiserver.js';
import { databaseBackends } from '../support/database.js';

const APPLY = 'application/apply-patch+yaml';
const MERGE = 'application/merge-patch+json';
const JSON_PATCH = 'application/json-patch+json';

/** `depth` nested arrays around nothing: `[[[…]]]`. */
const arrays = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
/** `depth` nested one-key objects around 1: `{"a":{"a":…1}}`. */
const objects = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
/** A YAML block mapping nested `depth` levels deep. */
const blockMaps = (depth: number) =>
  Array.from({ length: depth }, (_, level) => `${' '.repeat(level)}a:`).join('\n');

const TOO_DEEP = /nested deeper than \d+ levels/;
/** A watch that starts with the current objects (`sendInitialEvents`). */
const WATCH_LIST = `${POLICIES}?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true`;

describe.each(databaseBackends)('local API server refuses hostile input on %s', (backend) => {
  const { api } = serverFixture(backend);

  describe('deeply nested bodies', () => {
    const head =
      'apiVersion: fleet.iotistic.io/v1alpha1\nkind: ImagePolicy\nmetadata: {name: deep}\n';
    it.each([
      ['JSON arrays', 'application/json', `{"metadata":{"name":"deep"},"spec":${arrays(100_000)}}`],
      [
        'JSON objects',
        'application/json',
        `{"metadata":{"name":"deep"},"spec":${objects(10_000)}}`,
      ],
      ['YAML flow collections', 'application/yaml', `${head}spec: ${arrays(100_000)}`],
      ['YAML block mappings', 'application/yaml', `${head}spec:\n${blockMaps(2_000)}`],
    ])('answers 400 to a create with %s', async (_name, contentType, body) => {
      const answer = await api.post(POLICIES, body, { 'content-type': contentType });
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ kind: 'Status', reason: 'BadRequest' });
      expect(answer.body.message).toMatch(TOO_DEEP);
    });

    it.each([
      ['a merge patch', MERGE, `{"spec":${objects(20_000)}}`],
      ['a JSON patch', JSON_PATCH, `[{"op":"add","path":"/spec/x","value":${arrays(50_000)}}]`],
      ['an apply patch', APPLY, `{"metadata":{"name":"target"},"spec":${arrays(50_000)}}`],
    ])('answers 400 to %s nested too deeply', async (_name, contentType, body) => {
      await api.post(POLICIES, policy('target'));
      const answer = await api.patch(`${POLICIES}/target?fieldManager=test`, body, contentType);
      expect(answer.status).toBe(400);
      expect(answer.body.message).toMatch(TOO_DEEP);
    });

    it('answers 400 to a JSON patch whose result would nest too deeply', async () => {
      await api.post(POLICIES, policy('grows'));
      const patch = [{ op: 'add', path: '/spec/selector/x', value: JSON.parse(objects(30)) }];
      const answer = await api.patch(`${POLICIES}/grows`, patch, JSON_PATCH);
      expect(answer.status).toBe(400);
      expect(answer.body.message).toMatch(TOO_DEEP);
    });
  });

  describe('metadata of the wrong JSON type', () => {
    const cases: Array<[string, unknown, string]> = [
      ['labels as a list', { labels: ['x'] }, 'metadata.labels'],
      ['a label value that is a number', { labels: { app: 5 } }, 'metadata.labels.app'],
      ['annotations as a number', { annotations: 5 }, 'metadata.annotations'],
      [
        'an annotation value that is an object',
        { annotations: { a: {} } },
        'metadata.annotations.a',
      ],
      ['a name that is a number', { name: 7 }, 'metadata.name'],
      ['finalizers as a string', { finalizers: 'x' }, 'metadata.finalizers'],
      ['a finalizer that is a number', { finalizers: [5] }, 'metadata.finalizers[0]'],
      ['ownerReferences as a string', { ownerReferences: 'x' }, 'metadata.ownerReferences'],
      ['metadata as a list', [], 'metadata'],
    ];
    /** `metadata` of the policy `name` with `bad` merged in (or `bad` itself when not an object). */
    const withMetadata = (name: string, bad: unknown) =>
      Array.isArray(bad) ? bad : { name, ...(bad as object) };
    let serial = 0;
    /** Creates a fresh valid policy and answers it as stored. */
    const fresh = async () => (await api.post(POLICIES, policy(`meta-${serial++}`))).body;
    const expectInvalid = (answer: Answer, field: string) => {
      expect(answer.status).toBe(422);
      expect(answer.body).toMatchObject({ kind: 'Status', reason: 'Invalid', code: 422 });
      expect(answer.body.details.causes).toContainEqual(
        expect.objectContaining({ field, message: expect.stringMatching(/^Invalid value: /) }),
      );
      expect(answer.body.message).toContain(`${field}: Invalid value: `);
    };

    it.each(cases)('answers 422 to a create with %s', async (_name, bad, field) => {
      const body = { ...policy('m-create'), metadata: withMetadata('m-create', bad) };
      expectInvalid(await api.post(POLICIES, body), field);
    });

    it.each(cases)('answers 422 to an update with %s', async (_name, bad, field) => {
      const current = await fresh();
      const metadata = Array.isArray(bad) ? bad : { ...current.metadata, ...(bad as object) };
      const name = current.metadata.name;
      expectInvalid(await api.put(`${POLICIES}/${name}`, { ...current, metadata }), field);
    });

    it.each(cases)('answers 422 to a merge patch with %s', async (_name, bad, field) => {
      const { name } = (await fresh()).metadata;
      const patch = { metadata: bad };
      expectInvalid(await api.patch(`${POLICIES}/${name}`, patch, MERGE), field);
    });

    it.each(cases)('answers 422 to a JSON patch with %s', async (_name, bad, field) => {
      const { name } = (await fresh()).metadata;
      const patch = Array.isArray(bad)
        ? [{ op: 'replace', path: '/metadata', value: bad }]
        : Object.entries(bad as object).map(([key, value]) => ({
            op: 'add',
            path: `/metadata/${key}`,
            value,
          }));
      expectInvalid(await api.patch(`${POLICIES}/${name}`, patch, JSON_PATCH), field);
    });

    it.each(cases)('answers 422 to a server-side apply with %s', async (_name, bad, field) => {
      const { name } = (await fresh()).metadata;
      const body = { ...policy(name), metadata: withMetadata(name, bad) };
      const answer = await api.patch(`${POLICIES}/${name}?fieldManager=test`, body, APPLY);
      expectInvalid(answer, field);
    });

    it('stores nothing of a refused write', async () => {
      await api.post(POLICIES, policy('m-kept', { labels: { app: 'web' } }));
      await api.patch(`${POLICIES}/m-kept`, { metadata: { labels: ['x'] } }, MERGE);
      const read = await api.get(`${POLICIES}/m-kept`);
      expect(read.body.metadata.labels).toEqual({ app: 'web' });
    });
  });

  describe('list and watch parameters', () => {
    /** The store's current resourceVersion, as a list reports it. */
    const current = async () => Number((await api.get(POLICIES)).body.metadata.resourceVersion);
    const expectTooLarge = (status: unknown, requested: number) => {
      expect(status).toMatchObject({
        kind: 'Status',
        code: 504,
        reason: 'Timeout',
        details: { causes: [{ reason: 'ResourceVersionTooLarge' }], retryAfterSeconds: 1 },
      });
      expect((status as { message: string }).message).toMatch(
        new RegExp(`^Timeout: Too large resource version: ${requested}, current: \\d+$`),
      );
    };

    it.each([
      ['a word', 'abc', 'invalid syntax'],
      ['a negative number', '-1', 'invalid syntax'],
      ['a number past 2^53', '99999999999999999999', 'value out of range'],
    ])('answers 400 to a list or watch from %s', async (_name, version, problem) => {
      for (const path of [`${POLICIES}?`, `${POLICIES}?watch=1&`, `${WATCH_LIST}&`]) {
        const answer = await api.get(`${path}resourceVersion=${version}`);
        expect(answer.status).toBe(400);
        expect(answer.body).toMatchObject({ reason: 'BadRequest' });
        expect(answer.body.message).toBe(
          `resourceVersion: Invalid value: "${version}": strconv.ParseUint: parsing "${version}": ${problem}`,
        );
      }
    });

    it.each([
      ['unset', ''],
      ['NotOlderThan', '&resourceVersionMatch=NotOlderThan'],
      ['Exact', '&resourceVersionMatch=Exact'],
    ])(
      'answers 504 ResourceVersionTooLarge to a list from the future, match %s',
      async (_n, match) => {
        const future = (await current()) + 1000;
        const answer = await api.get(`${POLICIES}?resourceVersion=${future}${match}`);
        expect(answer.status).toBe(504);
        expectTooLarge(answer.body, future);
      },
    );

    it.each([
      ['a watch', `${POLICIES}?watch=1`],
      ['a watch-list', WATCH_LIST],
    ])(
      'ends %s from the future with a 504 ResourceVersionTooLarge ERROR event',
      async (_n, path) => {
        const future = (await current()) + 1000;
        const watch = await api.watch(`${path}&resourceVersion=${future}`);
        await watch.ended;
        expect(watch.events).toHaveLength(1);
        expect(watch.events[0].type).toBe('ERROR');
        expectTooLarge(watch.events[0].object, future);
      },
    );

    it('answers 400 to continue tokens that are garbage or forged', async () => {
      const forged = (rv: number) =>
        Buffer.from(JSON.stringify({ rv, namespace: 'default', name: 'a' })).toString('base64url');
      for (const token of ['garbage', forged(1e30), forged(-5)]) {
        const answer = await api.get(`${POLICIES}?limit=1&continue=${token}`);
        expect(answer.status).toBe(400);
        expect(answer.body.message).toMatch(/^continue key is not valid/);
      }
      const future = await api.get(
        `${POLICIES}?limit=1&continue=${forged((await current()) + 1000)}`,
      );
      expect(future.status).toBe(504);
    });

    it('answers 400 to a continue token with a resourceVersion', async () => {
      await api.post(POLICIES, policy('page-1'));
      await api.post(POLICIES, policy('page-2'));
      const first = await api.get(`${POLICIES}?limit=1`);
      const token = first.body.metadata.continue;
      expect(token).toEqual(expect.any(String));
      const answer = await api.get(`${POLICIES}?limit=1&continue=${token}&resourceVersion=5`);
      expect(answer.status).toBe(400);
      expect(answer.body.message).toBe(
        'specifying resource version is not allowed when using continue',
      );
    });

    it.each([
      [
        'an unknown match',
        '?resourceVersion=1&resourceVersionMatch=Newest',
        'resourceVersionMatch: Unsupported value: "Newest": supported values: "Exact", "NotOlderThan"',
      ],
      [
        'a match without a version',
        '?resourceVersionMatch=Exact',
        'resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided',
      ],
      [
        'Exact at version 0',
        '?resourceVersion=0&resourceVersionMatch=Exact',
        'resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"',
      ],
      [
        'a match on a plain watch',
        '?watch=1&resourceVersion=1&resourceVersionMatch=NotOlderThan',
        'resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided',
      ],
    ])('answers 422 Invalid ListOptions to %s', async (_name, query, cause) => {
      const answer = await api.get(`${POLICIES}${query}`);
      expect(answer.status).toBe(422);
      expect(answer.body.message).toBe(`ListOptions.meta.k8s.io "" is invalid: ${cause}`);
    });

    it.each([
      ['far past any timer', '99999999'],
      ['0, which means the default', '0'],
    ])('keeps a watch open with timeoutSeconds %s', async (_name, timeout) => {
      const from = await current();
      const watch = await api.watch(
        `${POLICIES}?watch=1&resourceVersion=${from}&timeoutSeconds=${timeout}`,
      );
      try {
        await api.post(POLICIES, policy(`timeout-${timeout}`));
        await watch.next(1);
        expect(watch.events[0]).toMatchObject({ type: 'ADDED' });
      } finally {
        watch.close();
      }
    });

    it('answers 400 to a negative or non-numeric timeoutSeconds', async () => {
      for (const timeout of ['-1', 'soon']) {
        const answer = await api.get(`${POLICIES}?watch=1&timeoutSeconds=${timeout}`);
        expect(answer.status).toBe(400);
        expect(answer.body.message).toMatch(/^timeoutSeconds: Invalid value/);
      }
    });
  });

  describe('JSON patches', () => {
    let serial = 0;
    const fresh = async () => {
      const name = `patch-${serial++}`;
      await api.post(POLICIES, policy(name));
      return `${POLICIES}/${name}`;
    };

    it('answers 413 to more than 10000 operations and applies 10000', async () => {
      const path = await fresh();
      const test = { op: 'test', path: '/spec/image', value: 'ghcr.io/acme/web' };
      const tooMany = await api.patch(path, Array(10_001).fill(test), JSON_PATCH);
      expect(tooMany.status).toBe(413);
      expect(tooMany.body).toMatchObject({
        reason: 'RequestEntityTooLarge',
        message:
          'Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001',
      });
      const most = await api.patch(path, Array(10_000).fill(test), JSON_PATCH);
      expect(most.status).toBe(200);
    });

    it('answers 422 once copies would duplicate more than the body limit', async () => {
      const path = await fresh();
      // Each copy doubles the spec: unbounded, 40 of them would need terabytes.
      const patch = Array.from({ length: 40 }, (_, i) => ({
        op: 'copy',
        from: '/spec',
        path: `/spec/copy${i}`,
      }));
      const answer = await api.patch(path, patch, JSON_PATCH);
      expect(answer.status).toBe(422);
      expect(answer.body.message).toMatch(
        /^Unable to complete the copy, the accumulated size increase of copy is \d+, exceeding the limit 3145728$/,
      );
    });

    it.each([
      ['a pointer without a leading slash', { op: 'add', path: 'spec', value: 1 }],
      ['a missing parent', { op: 'add', path: '/spec/nothing/here', value: 1 }],
      ['an index past the end', { op: 'add', path: '/spec/selector/fleets/5', value: 'x' }],
      ['a word as an index', { op: 'replace', path: '/spec/selector/fleets/first', value: 'x' }],
      ['removing the end marker', { op: 'remove', path: '/spec/selector/fleets/-' }],
      ['a move into its own child', { op: 'move', from: '/spec', path: '/spec/inner' }],
      ['a copy from nowhere', { op: 'copy', from: '/spec/nothing', path: '/spec/x' }],
      ['a prototype key', { op: 'add', path: '/metadata/__proto__', value: { a: 1 } }],
      ['a prototype parent', { op: 'add', path: '/__proto__/polluted', value: 1 }],
      ['a failed test', { op: 'test', path: '/spec/image', value: 'other' }],
    ])('answers 422 to %s', async (_name, operation) => {
      const answer = await api.patch(await fresh(), [operation], JSON_PATCH);
      expect(answer.status).toBe(422);
      expect(answer.body).toMatchObject({ kind: 'Status', reason: 'Invalid' });
    });

    it.each([
      ['not a list', { op: 'add' }],
      ['an unknown op', [{ op: 'merge', path: '/spec', value: {} }]],
      ['an op without a path', [{ op: 'remove' }]],
      ['a path that is not a string', [{ op: 'remove', path: 5 }]],
      ['a copy without from', [{ op: 'copy', path: '/spec/x' }]],
      ['an add without a value', [{ op: 'add', path: '/spec/x' }]],
      ['an operation that is not an object', ['remove']],
    ])('answers 400 to a patch with %s', async (_name, patch) => {
      const answer = await api.patch(await fresh(), patch, JSON_PATCH);
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ kind: 'Status', reason: 'BadRequest' });
    });
  });

  it.each([
    ['JSON', 'application/json', '{"metadata":{"name":"proto","__proto__":{"x":1}}}'],
    ['YAML', 'application/yaml', 'metadata:\n  name: proto\n  __proto__: {x: 1}\n'],
  ])('answers 400 to a %s body with a __proto__ key', async (_name, contentType, body) => {
    const answer = await api.post(POLICIES, body, { 'content-type': contentType });
    expect(answer.status).toBe(400);
    expect(answer.body.message).toBe(
      'error decoding request body: object contains forbidden prototype property',
    );
  });

  describe('strings Postgres cannot store', () => {
    const UNSTORABLE =
      'error decoding request body: strings may not contain NUL characters or unpaired surrogates';
    const spec = '"spec":{"image":"x","selector":{"fleets":["a"]}}';

    it.each([
      [
        'a NUL in a value',
        'application/json',
        `{"metadata":{"name":"nul","labels":{"a":"b\\u0000"}},${spec}}`,
      ],
      [
        'a NUL in a key',
        'application/json',
        `{"metadata":{"name":"nul","annotations":{"a\\u0000":"b"}},${spec}}`,
      ],
      [
        'an unpaired surrogate',
        'application/json',
        `{"metadata":{"name":"sur","annotations":{"a":"\\ud800"}},${spec}}`,
      ],
      [
        'an unpaired surrogate in YAML',
        'application/yaml',
        'metadata: {name: sur, annotations: {a: "\\udc00"}}\n',
      ],
    ])('answers 400 to a create with %s', async (_name, contentType, body) => {
      const answer = await api.post(POLICIES, body, { 'content-type': contentType });
      expect(answer.status).toBe(400);
      expect(answer.body.message).toBe(UNSTORABLE);
    });

    it('answers 400 to a merge patch with a NUL and keeps the object', async () => {
      await api.post(POLICIES, policy('nul-patch'));
      const answer = await api.patch(
        `${POLICIES}/nul-patch`,
        '{"spec":{"image":"x\\u0000"}}',
        MERGE,
      );
      expect(answer.status).toBe(400);
      expect(answer.body.message).toBe(UNSTORABLE);
      expect((await api.get(`${POLICIES}/nul-patch`)).body.spec.image).toBe('ghcr.io/acme/web');
    });

    it('answers 400 to a fieldManager with a control character', async () => {
      const answer = await api.post(`${POLICIES}?fieldManager=a%00b`, policy('nul-manager'));
      expect(answer.status).toBe(400);
      expect(answer.body.message).toBe(
        'fieldManager: Invalid value: "a\\u0000b": must only contain printable characters',
      );
    });

    it.each([
      ['GET of a name', 'GET', `${POLICIES}/a%00b`],
      ['PUT of a name', 'PUT', `${POLICIES}/a%00b`],
      [
        'create in a namespace',
        'POST',
        '/apis/fleet.iotistic.io/v1alpha1/namespaces/a%00b/imagepolicies',
      ],
      [
        'list of a namespace',
        'GET',
        '/apis/fleet.iotistic.io/v1alpha1/namespaces/a%00b/imagepolicies',
      ],
    ])('answers 404 to a %s with a NUL in the path', async (_name, method, path) => {
      const answer = await api.send(method, path, method === 'GET' ? undefined : policy('a'));
      expect(answer.status).toBe(404);
      expect(answer.body).toMatchObject({ kind: 'Status', reason: 'NotFound' });
    });

    it('answers 400 to a continue token naming an object with a NUL', async () => {
      const token = Buffer.from(JSON.stringify({ rv: 1, namespace: 'a\u0000', name: 'b' }));
      const answer = await api.get(`${POLICIES}?limit=1&continue=${token.toString('base64url')}`);
      expect(answer.status).toBe(400);
      expect(answer.body.message).toMatch(/^continue key is not valid/);
    });
  });
});
