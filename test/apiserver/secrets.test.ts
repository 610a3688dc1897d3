import { describe, expect, it } from 'vitest';
import { base64ErrorOffset } from '../../src/apiserver/resources/secrets.js';
import { serverFixture } from '../support/apiserver.js';
import { kubectlFixture } from '../support/kubectl.js';

const SECRETS = '/api/v1/namespaces/default/secrets';
const b64 = (text: string) => Buffer.from(text).toString('base64');
const secret = (name: string, extra: object = {}) => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name },
  ...extra,
});

describe('core v1 Secrets on the local API server', () => {
  const { api } = serverFixture('pglite');

  it('merges write-only stringData into data and defaults type to Opaque', async () => {
    const created = await api.post(
      SECRETS,
      secret('merge', { data: { a: b64('from data'), b: b64('old') }, stringData: { b: 'new' } }),
    );
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      type: 'Opaque',
      data: { a: b64('from data'), b: b64('new') },
    });
    expect(created.body.stringData).toBeUndefined();
    const read = await api.get(`${SECRETS}/merge`);
    expect(read.body.data).toEqual({ a: b64('from data'), b: b64('new') });
    expect(read.body.stringData).toBeUndefined();
  });

  it('answers 400 for data that is not base64, naming the byte like kube-apiserver', async () => {
    const answer = await api.post(SECRETS, secret('bad', { data: { a: 'not base64' } }));
    expect(answer.status).toBe(400);
    expect(answer.body.message).toBe(
      'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 3',
    );
  });

  it('answers 422 for invalid keys and for missing keys of a typed Secret', async () => {
    const keys = await api.post(SECRETS, secret('keys', { stringData: { 'a b': 'x' } }));
    expect(keys.status).toBe(422);
    expect(keys.body.details.causes).toEqual([
      expect.objectContaining({ field: 'data[a b]', reason: 'FieldValueInvalid' }),
    ]);
    const tls = await api.post(
      SECRETS,
      secret('tls', { type: 'kubernetes.io/tls', stringData: { 'tls.crt': 'x' } }),
    );
    expect(tls.status).toBe(422);
    expect(tls.body.message).toContain('data[tls.key]: Required value');
  });

  it('keeps type and, once immutable is set, data unchanged', async () => {
    const created = await api.post(SECRETS, secret('frozen', { stringData: { k: 'v' } }));
    expect(created.status).toBe(201);
    const retype = await api.patch(
      `${SECRETS}/frozen`,
      { type: 'kubernetes.io/basic-auth' },
      'application/merge-patch+json',
    );
    expect(retype.status).toBe(422);
    expect(retype.body.message).toContain(
      'type: Invalid value: "kubernetes.io/basic-auth": field is immutable',
    );
    const freeze = await api.patch(
      `${SECRETS}/frozen`,
      { immutable: true },
      'application/merge-patch+json',
    );
    expect(freeze.status).toBe(200);
    const change = await api.patch(
      `${SECRETS}/frozen`,
      { stringData: { k: 'changed' } },
      'application/merge-patch+json',
    );
    expect(change.status).toBe(422);
    expect(change.body.message).toContain(
      'data: Forbidden: field is immutable when `immutable` is set',
    );
    const labels = await api.patch(
      `${SECRETS}/frozen`,
      { metadata: { labels: { team: 'a' } } },
      'application/merge-patch+json',
    );
    expect(labels.status).toBe(200);
  });
});

describe('kubectl and Secrets on the local API server', () => {
  const { kubectl } = kubectlFixture();

  it('creates a generic secret from literals and prints TYPE and DATA', async () => {
    const created = await kubectl().run([
      'create',
      'secret',
      'generic',
      'slack',
      '--from-literal=url=https://hooks.slack.com/services/T/B/x',
    ]);
    expect(created.stderr).toBe('');
    const listed = await kubectl().run(['get', 'secrets']);
    expect(listed.stdout).toMatch(/NAME\s+TYPE\s+DATA\s+AGE\nslack\s+Opaque\s+1\s+/);
    const url = await kubectl().run(['get', 'secret', 'slack', '-o', 'jsonpath={.data.url}']);
    expect(Buffer.from(url.stdout, 'base64').toString()).toBe(
      'https://hooks.slack.com/services/T/B/x',
    );
  });
});

describe('base64ErrorOffset', () => {
  it.each([
    ['', undefined],
    ['YQ==', undefined],
    ['YWI=', undefined],
    ['YWJj', undefined],
    ['YWJj\nZA==', undefined],
    ['not base64', 3],
    ['abc', 0],
    ['abcde', 4],
    ['Y===', 1],
    ['YQ==YQ==', 4],
    ['YQ=x', 2],
  ])('%j fails at %s', (text, offset) => {
    expect(base64ErrorOffset(text)).toBe(offset);
  });
});
