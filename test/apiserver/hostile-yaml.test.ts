import { describe, expect, it } from 'vitest';
import { POLICIES, policy, serverFixture } from '../support/apiserver.js';
import { databaseBackends } from '../support/database.js';

const APPLY = 'application/apply-patch+yaml';
const YAML = { 'content-type': 'application/yaml' };

/** A YAML ImagePolicy `name` with `spec` (lines indented by two), plus a selector unless it has one. */
const yamlPolicy = (name: string, spec: string) => {
  const selector = spec.includes('selector:') ? '' : '  selector: {fleets: [edge]}\n';
  return `apiVersion: fleet.iotistic.io/v1alpha1\nkind: ImagePolicy\nmetadata: {name: ${name}}\nspec:\n${selector}${spec}\n`;
};

/** Warning header values as a UTF-8 client (client-go) reads their bytes (Node joins them). */
const warningsOf = (headers: Record<string, string | string[] | undefined>) =>
  [headers.warning ?? []]
    .flat()
    .flatMap((value) => value.split(/, (?=299 )/))
    .map((value) => Buffer.from(value, 'latin1').toString('utf8'));

/** A YAML document of `levels` anchors, each aliasing the one before nine times. */
const billionLaughs = (levels: number) =>
  Array.from({ length: levels }, (_, level) =>
    level === 0
      ? '  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]'
      : `  l${level}: &l${level} [${Array(9)
          .fill(`*l${level - 1}`)
          .join(', ')}]`,
  ).join('\n');

describe.each(databaseBackends)(
  'local API server on hostile YAML and field names, %s',
  (backend) => {
    const { api } = serverFixture(backend);
    let serial = 0;
    const fresh = (prefix: string) => `${prefix}-${serial++}`;

    describe('unknown fields named outside Latin-1', () => {
      const names = ['日本', 'ü', 'a"b\\c', '🚀'];
      const withUnknown = (name: string) => {
        const body = policy(name);
        return { ...body, spec: { ...body.spec, ...Object.fromEntries(names.map((n) => [n, 1])) } };
      };

      it('creates the object once, 201 with upstream Warning headers', async () => {
        const name = fresh('warn');
        const created = await api.post(POLICIES, withUnknown(name));
        expect(created.status).toBe(201);
        // The order and the escaping are kube-apiserver's for the same body.
        expect(warningsOf(created.headers)).toEqual([
          '299 - "unknown field \\"spec.a\\"b\\\\c\\""',
          '299 - "unknown field \\"spec.ü\\""',
          '299 - "unknown field \\"spec.日本\\""',
          '299 - "unknown field \\"spec.🚀\\""',
        ]);
        expect(created.body.spec).not.toHaveProperty('日本');
        expect((await api.post(POLICIES, withUnknown(name))).status).toBe(409);
      });

      it('answers 400 and stores nothing under fieldValidation=Strict', async () => {
        const name = fresh('strict');
        const answer = await api.post(`${POLICIES}?fieldValidation=Strict`, withUnknown(name));
        expect(answer.status).toBe(400);
        expect(answer.body.message).toContain('unknown field "spec.日本"');
        expect((await api.get(`${POLICIES}/${name}`)).status).toBe(404);
      });

      it('answers an update and a server-side apply with the warnings too', async () => {
        const name = fresh('warn-update');
        const created = (await api.post(POLICIES, policy(name))).body;
        const updated = await api.put(`${POLICIES}/${name}`, {
          ...created,
          spec: { ...created.spec, 日本: 1 },
        });
        expect(updated.status).toBe(200);
        expect(warningsOf(updated.headers)).toEqual(['299 - "unknown field \\"spec.日本\\""']);
        const applied = await api.patch(
          `${POLICIES}/${name}?fieldManager=test`,
          yamlPolicy(name, '  image: ghcr.io/acme/web\n  "ü": 1'),
          APPLY,
        );
        expect(applied.status).toBe(200);
        expect(warningsOf(applied.headers)).toEqual(['299 - "unknown field \\"spec.ü\\""']);
      });
    });

    it.each([
      [
        'an object apiVersion',
        { apiVersion: { toString: 'x' } },
        'object into Go struct field .apiVersion',
      ],
      ['a numeric apiVersion', { apiVersion: 5 }, 'number into Go struct field .apiVersion'],
      ['a list as kind', { kind: ['ImagePolicy'] }, 'array into Go struct field .kind'],
      ['a boolean kind', { kind: true }, 'bool into Go struct field .kind'],
    ])('answers 400 to %s, as upstream', async (_case, override, message) => {
      const answer = await api.post(POLICIES, { ...policy(fresh('typed-meta')), ...override });
      expect(answer.status).toBe(400);
      expect(answer.body.message).toBe(
        `the object provided is unrecognized (must be of type ImagePolicy): couldn't get version/kind; json parse error: json: cannot unmarshal ${message} of type string`,
      );
    });

    // Each outcome is what kube-apiserver answered to the same body.
    describe.each([
      ['a create', 'create'],
      ['a server-side apply', 'apply'],
    ])('YAML tags and anchors in %s', (_name, how) => {
      const send = (name: string, spec: string) =>
        how === 'create'
          ? api.post(POLICIES, yamlPolicy(name, spec), YAML)
          : api.patch(`${POLICIES}/${name}?fieldManager=test`, yamlPolicy(name, spec), APPLY);

      it.each([
        [
          '!!binary, decoded to text',
          '  image: !!binary Z2hjci5pby9hY21lL3dlYg==',
          'ghcr.io/acme/web',
        ],
        [
          '!!binary split over lines',
          '  image: !!binary |\n    Z2hjci5pby9h\n    Y21lL3dlYg==',
          'ghcr.io/acme/web',
        ],
        ['!!timestamp, kept as written', '  image: !!timestamp 2001-12-14', '2001-12-14'],
        ['!!str', '  image: !!str ghcr.io/acme/web', 'ghcr.io/acme/web'],
        ['a local tag', '  image: !custom ghcr.io/acme/web', 'ghcr.io/acme/web'],
      ])('stores %s', async (_case, spec, image) => {
        const answer = await send(fresh('tag'), spec);
        expect(answer.status, answer.text).toBeLessThan(300);
        expect(answer.body.spec.image).toBe(image);
      });

      it('merges << keys, one map or a list of maps', async () => {
        const spec = [
          '  image: x',
          '  base: &base {interval: 5m}',
          '  strategy: {<<: [*base, {type: AllAtOnce}], onNewImage: Queue}',
        ].join('\n');
        const answer = await send(fresh('merge'), spec);
        expect(answer.status, answer.text).toBeLessThan(300);
        expect(answer.body.spec.strategy).toMatchObject({
          interval: '5m',
          type: 'AllAtOnce',
          onNewImage: 'Queue',
        });
      });

      it.each([
        ['!!binary of invalid base64', '  image: !!binary "not base64!"', /invalid base64 data/],
        ['!!binary of a NUL', '  image: !!binary AA==', /NUL characters/],
        ['.inf', '  image: x\n  minSample: .inf', /numbers must be finite/],
        ['.nan', '  image: x\n  minSample: .nan', /numbers must be finite/],
        ['a sequence as a key', '  image: x\n  k: {[a]: b}', /invalid map key/],
        ['a null key', '  image: x\n  k: {~: b}', /unsupported map key: null/],
        ['an empty key', '  image: x\n  k: {? : b}', /unsupported map key: null/],
        ['a merge of a scalar', '  image: x\n  k: {<<: 5}', /Merge sources must be maps/],
        ['an unknown alias', '  image: *nowhere', /Unresolved alias/],
        ['nine levels of nine aliases', `  image: x\n${billionLaughs(9)}`, /Excessive alias count/],
      ])('answers 400 to %s', async (_case, spec, message) => {
        const name = fresh('bad');
        const answer = await send(name, spec);
        expect(answer.status, answer.text).toBe(400);
        expect(answer.body).toMatchObject({ kind: 'Status', reason: 'BadRequest' });
        expect(answer.body.message).toMatch(message);
        expect((await api.get(`${POLICIES}/${name}`)).status).toBe(404);
      });

      it.each([
        ['!!set', '  image: x\n  selector: {fleets: !!set {a, b}}', 'spec.selector.fleets'],
        ['!!omap', '  image: x\n  selector: {fleets: !!omap [a: 1]}', 'spec.selector.fleets[0]'],
        ['!!int', '  image: !!int "5"', 'spec.image'],
      ])('answers 422 to %s where the schema wants strings', async (_case, spec, field) => {
        const answer = await send(fresh('typed'), spec);
        expect(answer.status, answer.text).toBe(422);
        expect(answer.body.details.causes).toContainEqual(expect.objectContaining({ field }));
      });
    });
  },
);
