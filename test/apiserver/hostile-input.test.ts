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
});
