import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { secretResource } from '../../src/apiserver/resources/secrets.js';
import {
  admitCustomResource,
  type JSONSchemaProps,
  loadServedCrds,
} from '../../src/apiserver/schema/index.js';
import { crdOf } from '../support/resources.js';

const crds = loadServedCrds();

/** Every schema node below the root, with its path (`spec.strategy.batches[]`). */
function nodes(schema: JSONSchemaProps, path = ''): Array<[string, JSONSchemaProps]> {
  const children: Array<[string, JSONSchemaProps]> = [];
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    children.push([path ? `${path}.${name}` : name, child]);
  }
  if (schema.items) children.push([`${path}[]`, schema.items]);
  if (typeof schema.additionalProperties === 'object') {
    children.push([`${path}{}`, schema.additionalProperties]);
  }
  return children.flatMap(([childPath, child]) => [
    [childPath, child] as [string, JSONSchemaProps],
    ...nodes(child, childPath),
  ]);
}

const allNodes = crds.flatMap((crd) =>
  nodes(crd.schema)
    .filter(([path]) => path !== 'metadata')
    .map(([path, node]) => [`${crd.kind} ${path}`, node] as const),
);

describe('CRD schemas', () => {
  it('are structural: every node has a type, and a description', () => {
    const missing = allNodes
      .filter(([, node]) => !node.type || !node.description)
      .map(([path]) => path);
    expect(missing).toEqual([]);
  });

  it('bound every string and list, so CEL cost estimates stay within budget', () => {
    const unbounded = allNodes
      .filter(([path]) => !/ (apiVersion|kind)$/.test(path))
      .filter(
        ([, node]) =>
          (node.type === 'string' && node.maxLength === undefined) ||
          (node.type === 'array' && node.maxItems === undefined),
      )
      .map(([path]) => path);
    expect(unbounded).toEqual([]);
  });

  it.each(['selector', 'strategy', 'health', 'failurePolicy'])(
    'share the %s schema between ImagePolicy and ImageRollout',
    (field) => {
      const strip = ({ description, default: _default, ...rest }: JSONSchemaProps) => rest;
      const policy = crdOf('ImagePolicy').schema.properties?.spec?.properties?.[field];
      const rollout = crdOf('ImageRollout').schema.properties?.spec?.properties?.[field];
      expect(policy).toBeDefined();
      expect(strip(rollout ?? {})).toEqual(strip(policy ?? {}));
    },
  );

  it.each([
    [
      'ImagePolicy',
      ['Image', 'Selected', 'Latest', 'Rolled Back', 'Ready', 'Strategy', 'Rollout', 'Age'],
    ],
    [
      'ImageRollout',
      [
        'Image',
        'Tag',
        'Phase',
        'Batch',
        'Devices',
        'Updated',
        'Healthy',
        'Failed',
        'Batches',
        'Policy',
        'Message',
        'Age',
      ],
    ],
  ] as const)('give %s printer columns that point at schema fields', (kind, names) => {
    const crd = crdOf(kind);
    expect(crd.printerColumns.map((column) => column.name)).toEqual(names);
    const paths = new Set(nodes(crd.schema).map(([path]) => path));
    for (const { jsonPath } of crd.printerColumns) {
      const path = jsonPath.replace(/^\./, '').replace(/\[\?\(@\.\w+=="\w+"\)\]/g, '[]');
      expect(paths.has(path) || path === 'metadata.creationTimestamp', jsonPath).toBe(true);
    }
  });
});

const examplesDir = fileURLToPath(new URL('../../examples/', import.meta.url));
const examples = readdirSync(examplesDir)
  .filter((file) => file.endsWith('.yaml'))
  .flatMap((file) =>
    parseAllDocuments(readFileSync(join(examplesDir, file), 'utf8')).map(
      (document) =>
        [
          file,
          document.toJS() as {
            kind: 'ImagePolicy' | 'ImageRollout' | 'NotificationChannel' | 'FleetFreeze' | 'Secret';
          },
        ] as const,
    ),
  );

describe('examples/', () => {
  it('holds a staged, a manual-approval, a rollback and the walkthrough policy, a rollout, a Slack channel and a holiday freeze', () => {
    expect(examples.map(([file, object]) => `${file} ${object.kind}`).sort()).toEqual([
      'holiday-freeze.yaml FleetFreeze',
      'imagerollout.yaml ImageRollout',
      'manual-approval-policy.yaml ImagePolicy',
      'nginx-demo-policy.yaml ImagePolicy',
      'rollback-policy.yaml ImagePolicy',
      'slack-notifications.yaml NotificationChannel',
      'slack-notifications.yaml Secret',
      'staged-policy.yaml ImagePolicy',
    ]);
  });

  it.each(examples)(
    '%s is valid against its CRD schema, with no unknown field',
    (_file, object) => {
      const options = { fieldValidation: 'Strict' } as const;
      const result =
        object.kind === 'Secret'
          ? secretResource.admit(object, options)
          : admitCustomResource(crdOf(object.kind), object, options);
      expect(result.errors).toEqual([]);
      expect(result.unknownFields).toEqual([]);
    },
  );
});
