import { describe, expect, it } from 'vitest';
import { POLICIES, policy, serverFixture } from '../support/apiserver.js';
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
});
