import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadServedCrds } from '../../../src/apiserver/schema/index.js';

describe('loadServedCrds', () => {
  const crds = loadServedCrds();

  it('serves every kind from the repository crds/ folder', () => {
    expect(crds.map(({ kind, group, version }) => `${kind}.${group}/${version}`)).toEqual([
      'FleetFreeze.fleet.iotistic.io/v1alpha1',
      'ImagePolicy.fleet.iotistic.io/v1alpha1',
      'ImageRollout.fleet.iotistic.io/v1alpha1',
      'NotificationChannel.fleet.iotistic.io/v1alpha1',
    ]);
  });

  it.each([
    ['ImagePolicy', 'imagepolicies', 'imagepolicy', 'ImagePolicyList', ['ipol']],
    ['ImageRollout', 'imagerollouts', 'imagerollout', 'ImageRolloutList', ['iro']],
  ])('names %s', (kind, plural, singular, listKind, shortNames) => {
    const crd = crds.find((entry) => entry.kind === kind);
    expect(crd).toMatchObject({
      plural,
      singular,
      listKind,
      shortNames,
      categories: ['fleet'],
      namespaced: true,
      statusSubresource: true,
    });
    expect(crd?.schema.properties?.spec?.type).toBe('object');
    expect(crd?.printerColumns.at(-1)).toMatchObject({ name: 'Age', type: 'date' });
  });

  describe('from another folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'crds-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('reads multi-document files, skips other kinds and unserved versions', () => {
      writeFileSync(
        join(dir, 'gadgets.yaml'),
        `apiVersion: v1
kind: ConfigMap
metadata: {name: x}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.example.com}
spec:
  group: example.com
  scope: Cluster
  names: {kind: Gadget, plural: gadgets}
  versions:
    - {name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}
    - {name: v0, served: false, storage: false, schema: {openAPIV3Schema: {type: object}}}
`,
      );
      expect(loadServedCrds(dir)).toEqual([
        {
          group: 'example.com',
          version: 'v1',
          kind: 'Gadget',
          listKind: 'GadgetList',
          plural: 'gadgets',
          singular: 'gadget',
          shortNames: [],
          categories: [],
          namespaced: false,
          printerColumns: [{ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' }],
          statusSubresource: false,
          schema: { type: 'object' },
        },
      ]);
    });

    it('fails with the file name on a CRD without a schema', () => {
      writeFileSync(
        join(dir, 'broken.yaml'),
        'apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: b.x}\nspec: {group: x, scope: Cluster, names: {kind: B, plural: bs}, versions: [{name: v1, served: true, storage: true}]}\n',
      );
      expect(() => loadServedCrds(dir)).toThrow(/broken\.yaml: b\.x v1 has no openAPIV3Schema/);
    });
  });
});
