import {
  createNamespace,
  fleetObject,
  fleetPath,
  http,
  POLICY_SPEC,
  ROLLOUT_SPEC,
  type Step,
} from '../steps.js';

const NS = 'fidelity-patch';
const POLICIES = fleetPath(NS, 'imagepolicies');
const ROLLOUTS = fleetPath(NS, 'imagerollouts');
const LEASES = `/apis/coordination.k8s.io/v1/namespaces/${NS}/leases`;
const JSON_PATCH = 'application/json-patch+json';
const MERGE = 'application/merge-patch+json';
const STRATEGIC = 'application/strategic-merge-patch+json';

const patch = (name: string, path: string, contentType: string, body: unknown) =>
  http(name, { method: 'PATCH', path, contentType, body });

/** Every patch type on custom resources and on a built-in kind, with their errors. */
export const patches: Step[] = [
  createNamespace(NS),
  http('create the policy to patch', {
    method: 'POST',
    path: POLICIES,
    body: fleetObject('ImagePolicy', 'p', POLICY_SPEC, { labels: { a: '1' } }),
  }),
  patch('JSON patch: add a label', `${POLICIES}/p`, JSON_PATCH, [
    { op: 'add', path: '/metadata/labels/b', value: '2' },
  ]),
  patch('JSON patch: replace the image', `${POLICIES}/p`, JSON_PATCH, [
    { op: 'replace', path: '/spec/image', value: 'ghcr.io/acme/api' },
  ]),
  patch('JSON patch: remove a label', `${POLICIES}/p`, JSON_PATCH, [
    { op: 'remove', path: '/metadata/labels/a' },
  ]),
  patch('JSON patch: a failing test op', `${POLICIES}/p`, JSON_PATCH, [
    { op: 'test', path: '/spec/image', value: 'other' },
  ]),
  patch('JSON patch: a passing test op then add', `${POLICIES}/p`, JSON_PATCH, [
    { op: 'test', path: '/spec/image', value: 'ghcr.io/acme/api' },
    { op: 'add', path: '/metadata/annotations', value: { note: 'x' } },
  ]),
  patch('JSON patch: remove a missing path', `${POLICIES}/p`, JSON_PATCH, [
    { op: 'remove', path: '/metadata/labels/nope' },
  ]),
  patch('JSON patch: replace a missing path', `${POLICIES}/p`, JSON_PATCH, [
    { op: 'replace', path: '/spec/nope/deeper', value: 1 },
  ]),
  patch('JSON patch: an unknown op', `${POLICIES}/p`, JSON_PATCH, [
    { op: 'frobnicate', path: '/spec' },
  ]),
  patch('JSON patch: not an array', `${POLICIES}/p`, JSON_PATCH, { op: 'add' }),
  patch('JSON patch: move and copy', `${POLICIES}/p`, JSON_PATCH, [
    { op: 'copy', from: '/metadata/labels', path: '/metadata/annotations/copied' },
  ]),
  patch('JSON patch: an invalid result', `${POLICIES}/p`, JSON_PATCH, [
    { op: 'remove', path: '/spec/image' },
  ]),
  patch('merge patch: add a label, drop an annotation', `${POLICIES}/p`, MERGE, {
    metadata: { labels: { c: '3' }, annotations: { note: null } },
  }),
  patch('merge patch: replace a list', `${POLICIES}/p`, MERGE, {
    spec: { selector: { fleets: ['edge', 'lab'] } },
  }),
  patch('merge patch: a stale resourceVersion', `${POLICIES}/p`, MERGE, {
    metadata: { resourceVersion: '1' },
  }),
  patch('merge patch: change the name', `${POLICIES}/p`, MERGE, { metadata: { name: 'q' } }),
  patch('merge patch: malformed JSON', `${POLICIES}/p`, MERGE, '{"spec":'),
  patch('merge patch: a type error', `${POLICIES}/p`, MERGE, { spec: { image: 5 } }),
  patch('merge patch: a missing object', `${POLICIES}/missing`, MERGE, { spec: {} }),
  patch('strategic merge patch on a custom resource: 415', `${POLICIES}/p`, STRATEGIC, {
    metadata: { labels: { d: '4' } },
  }),
  patch('an unknown patch type: 415', `${POLICIES}/p`, 'application/foo+json', {}),
  http('create a rollout to patch its status', {
    method: 'POST',
    path: ROLLOUTS,
    body: fleetObject('ImageRollout', 'r', ROLLOUT_SPEC),
  }),
  patch('merge patch of /status', `${ROLLOUTS}/r/status`, MERGE, {
    status: { phase: 'Progressing', observedGeneration: 1 },
  }),
  patch('merge patch of /status ignores the spec', `${ROLLOUTS}/r/status`, MERGE, {
    spec: { tag: '9.9.9' },
  }),
  patch('JSON patch of /status', `${ROLLOUTS}/r/status`, JSON_PATCH, [
    { op: 'replace', path: '/status/phase', value: 'Paused' },
  ]),
  patch('merge patch of the main resource ignores status', `${ROLLOUTS}/r`, MERGE, {
    status: { phase: 'Failed' },
    spec: { approvedBatches: 1 },
  }),
  http('create a lease', {
    method: 'POST',
    path: LEASES,
    body: {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'l', labels: { a: '1' }, finalizers: ['x.io/a'] },
      spec: { holderIdentity: 'one', leaseDurationSeconds: 15 },
    },
  }),
  patch('strategic merge patch of a lease', `${LEASES}/l`, STRATEGIC, {
    metadata: { labels: { b: '2' }, finalizers: ['x.io/b'] },
    spec: { holderIdentity: 'two' },
  }),
  patch('strategic merge patch: $patch delete of a label map', `${LEASES}/l`, STRATEGIC, {
    metadata: { labels: { $patch: 'replace', c: '3' } },
  }),
  patch('strategic merge patch: $deleteFromPrimitiveList', `${LEASES}/l`, STRATEGIC, {
    metadata: { '$deleteFromPrimitiveList/finalizers': ['x.io/a'] },
  }),
  patch('strategic merge patch: a type error', `${LEASES}/l`, STRATEGIC, {
    spec: { leaseDurationSeconds: 'long' },
  }),
  patch('merge patch of a lease', `${LEASES}/l`, MERGE, {
    metadata: { finalizers: null },
    spec: { holderIdentity: null },
  }),
  patch('strategic merge patch of a namespace', `/api/v1/namespaces/${NS}`, STRATEGIC, {
    metadata: { labels: { team: 'edge' } },
  }),
  patch('JSON patch of a namespace', `/api/v1/namespaces/${NS}`, JSON_PATCH, [
    { op: 'add', path: '/metadata/annotations', value: { owner: 'fleet' } },
  ]),
  patch('PATCH on a collection: 400', POLICIES, MERGE, {}),
];
