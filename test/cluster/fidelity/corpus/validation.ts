import { createNamespace, fleetPath, http, kubectl, type Step } from '../steps.js';

const NS = 'fidelity-validation';
const POLICIES = fleetPath(NS, 'imagepolicies');
const MODES = ['Strict', 'Warn', 'Ignore'] as const;

/** A policy body with an unknown field in spec and one in metadata. */
const unknownFields = (name: string) =>
  JSON.stringify({
    apiVersion: 'fleet.iotistic.io/v1alpha1',
    kind: 'ImagePolicy',
    metadata: { name, colour: 'blue' },
    spec: { image: 'ghcr.io/acme/web', selector: { fleets: ['edge'] }, extra: 1 },
  });

/** A policy body with duplicate fields (only text can say that). */
const duplicateFields = (name: string) =>
  `{"apiVersion":"fleet.iotistic.io/v1alpha1","kind":"ImagePolicy","metadata":{"name":"${name}","name":"${name}"},"spec":{"image":"ghcr.io/acme/a","image":"ghcr.io/acme/web","selector":{"fleets":["edge"]}}}`;

const yamlDuplicate = (name: string) =>
  `apiVersion: fleet.iotistic.io/v1alpha1\nkind: ImagePolicy\nmetadata:\n  name: ${name}\nspec:\n  image: ghcr.io/acme/web\n  image: ghcr.io/acme/web\n  selector:\n    fleets: [edge]\n  bogus: true\n`;

function perMode(mode: (typeof MODES)[number]): Step[] {
  const lower = mode.toLowerCase();
  const query = `fieldValidation=${mode}`;
  return [
    http(`${mode}: create with unknown fields`, {
      method: 'POST',
      path: `${POLICIES}?${query}`,
      body: unknownFields(`u-${lower}`),
    }),
    http(`${mode}: create with duplicate fields`, {
      method: 'POST',
      path: `${POLICIES}?${query}`,
      body: duplicateFields(`d-${lower}`),
    }),
    http(`${mode}: create from YAML with a duplicate and an unknown field`, {
      method: 'POST',
      path: `${POLICIES}?${query}`,
      contentType: 'application/yaml',
      body: yamlDuplicate(`y-${lower}`),
    }),
    http(`${mode}: merge patch with an unknown field`, {
      method: 'PATCH',
      path: `${POLICIES}/base?${query}`,
      contentType: 'application/merge-patch+json',
      body: { spec: { unknownThing: true } },
    }),
    http(`${mode}: JSON patch adding an unknown field`, {
      method: 'PATCH',
      path: `${POLICIES}/base?${query}`,
      contentType: 'application/json-patch+json',
      body: [{ op: 'add', path: '/spec/other', value: 'x' }],
    }),
    http(`${mode}: apply with an unknown field`, {
      method: 'PATCH',
      path: `${POLICIES}/applied-${lower}?${query}&fieldManager=v`,
      contentType: 'application/apply-patch+yaml',
      body: yamlDuplicate(`applied-${lower}`).replace(
        '  image: ghcr.io/acme/web\n  image',
        '  image',
      ),
    }),
    http(`${mode}: apply with a duplicate field`, {
      method: 'PATCH',
      path: `${POLICIES}/dup-${lower}?${query}&fieldManager=v`,
      contentType: 'application/apply-patch+yaml',
      body: yamlDuplicate(`dup-${lower}`).replace('  bogus: true\n', ''),
    }),
    http(`${mode}: replace with an unknown field`, {
      method: 'PUT',
      path: `${POLICIES}/base?${query}`,
      body: unknownFields('base'),
    }),
  ];
}

/** Field validation: Strict, Warn and Ignore against unknown and duplicate fields, per verb. */
export const validation: Step[] = [
  createNamespace(NS),
  http('create the base policy', {
    method: 'POST',
    path: POLICIES,
    body: {
      apiVersion: 'fleet.iotistic.io/v1alpha1',
      kind: 'ImagePolicy',
      metadata: { name: 'base' },
      spec: { image: 'ghcr.io/acme/web', selector: { fleets: ['edge'] } },
    },
  }),
  ...MODES.flatMap(perMode),
  http('default (no fieldValidation) create with unknown fields', {
    method: 'POST',
    path: POLICIES,
    body: unknownFields('u-default'),
  }),
  http('an unsupported fieldValidation: 400', {
    method: 'POST',
    path: `${POLICIES}?fieldValidation=Lenient`,
    body: unknownFields('u-lenient'),
  }),
  http('unknown fields in a namespace, Strict', {
    method: 'POST',
    path: '/api/v1/namespaces?fieldValidation=Strict',
    body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: `${NS}-x` }, spec: { a: 1 } },
  }),
  kubectl(
    'kubectl create --validate=strict with an unknown field',
    ['create', '--validate=strict', '-f', '-'],
    {
      input: yamlDuplicate('k-strict')
        .replace(/metadata:\n/, `metadata:\n  namespace: ${NS}\n`)
        .replace('  image: ghcr.io/acme/web\n  image', '  image'),
    },
  ),
  kubectl(
    'kubectl create --validate=warn with an unknown field',
    ['create', '--validate=warn', '-f', '-'],
    {
      input: yamlDuplicate('k-warn')
        .replace(/metadata:\n/, `metadata:\n  namespace: ${NS}\n`)
        .replace('  image: ghcr.io/acme/web\n  image', '  image'),
    },
  ),
  kubectl(
    'kubectl create --validate=false with an unknown field',
    ['create', '--validate=false', '-f', '-'],
    {
      input: yamlDuplicate('k-ignore')
        .replace(/metadata:\n/, `metadata:\n  namespace: ${NS}\n`)
        .replace('  image: ghcr.io/acme/web\n  image', '  image'),
    },
  ),
];
