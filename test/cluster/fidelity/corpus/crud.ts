import {
  createNamespace,
  fleetObject,
  fleetPath,
  http,
  POLICY_SPEC,
  ROLLOUT_SPEC,
  type Step,
} from '../steps.js';

const NS = 'fidelity-crud';
const POLICIES = fleetPath(NS, 'imagepolicies');
const ROLLOUTS = fleetPath(NS, 'imagerollouts');
const policy = (name: string, spec: object = POLICY_SPEC, metadata = {}) =>
  fleetObject('ImagePolicy', name, spec, metadata);

/** Create, read, replace and delete, with the errors each can answer. */
export const crud: Step[] = [
  createNamespace(NS),
  http('create a policy', { method: 'POST', path: POLICIES, body: policy('p1') }),
  http('create it again: 409 AlreadyExists', {
    method: 'POST',
    path: POLICIES,
    body: policy('p1'),
  }),
  http(
    'get it',
    { method: 'GET', path: `${POLICIES}/p1` },
    { save: (body, vars) => Object.assign(vars, { p1: body.metadata.resourceVersion }) },
  ),
  http('get a missing one: 404', { method: 'GET', path: `${POLICIES}/missing` }),
  http('replace with its resourceVersion', (vars) => ({
    method: 'PUT',
    path: `${POLICIES}/p1`,
    body: policy(
      'p1',
      { ...POLICY_SPEC, image: 'ghcr.io/acme/api' },
      {
        resourceVersion: vars.p1,
      },
    ),
  })),
  http('replace with a stale resourceVersion: 409 Conflict', (vars) => ({
    method: 'PUT',
    path: `${POLICIES}/p1`,
    body: policy('p1', POLICY_SPEC, { resourceVersion: vars.p1 }),
  })),
  http('replace without a resourceVersion', {
    method: 'PUT',
    path: `${POLICIES}/p1`,
    body: policy('p1', { ...POLICY_SPEC, image: 'ghcr.io/acme/db' }),
  }),
  http('replace a missing object creates it', {
    method: 'PUT',
    path: `${POLICIES}/p2`,
    body: policy('p2'),
  }),
  http('replace with a name other than the URL: 400', {
    method: 'PUT',
    path: `${POLICIES}/p1`,
    body: policy('other'),
  }),
  http('create in another namespace than the URL: 400', {
    method: 'POST',
    path: POLICIES,
    body: policy('p3', POLICY_SPEC, { namespace: 'default' }),
  }),
  http('create without a required field: 422', {
    method: 'POST',
    path: POLICIES,
    body: policy('bad', { selector: { fleets: ['edge'] } }),
  }),
  http('create breaking a CEL rule: 422', {
    method: 'POST',
    path: POLICIES,
    body: policy('cel', { ...POLICY_SPEC, tags: { includePrerelease: true, pattern: 'v*' } }),
  }),
  http('create with an invalid name: 422', {
    method: 'POST',
    path: POLICIES,
    body: policy('Not_A_Name'),
  }),
  http('create without a name: 422', {
    method: 'POST',
    path: POLICIES,
    body: { apiVersion: 'fleet.iotistic.io/v1alpha1', kind: 'ImagePolicy', spec: POLICY_SPEC },
  }),
  http('create with generateName', {
    method: 'POST',
    path: POLICIES,
    body: policy('', POLICY_SPEC, { name: undefined, generateName: 'gen-' }),
  }),
  http('create with the wrong kind: 400', {
    method: 'POST',
    path: POLICIES,
    body: { ...policy('kind'), kind: 'ImageRollout' },
  }),
  http('create with the wrong apiVersion: 400', {
    method: 'POST',
    path: POLICIES,
    body: { ...policy('version'), apiVersion: 'fleet.iotistic.io/v1' },
  }),
  http('create with malformed JSON: 400', { method: 'POST', path: POLICIES, body: '{"kind":' }),
  http('create from YAML', {
    method: 'POST',
    path: POLICIES,
    contentType: 'application/yaml',
    body: `apiVersion: fleet.iotistic.io/v1alpha1\nkind: ImagePolicy\nmetadata:\n  name: yaml\nspec:\n  image: ghcr.io/acme/web\n  selector:\n    fleets: [edge]\n`,
  }),
  // Dry runs, so neither server keeps an object the other lacks.
  http('create from YAML with explicit tags and a merge key (dry run)', {
    method: 'POST',
    path: `${POLICIES}?dryRun=All`,
    contentType: 'application/yaml',
    body: `apiVersion: fleet.iotistic.io/v1alpha1\nkind: ImagePolicy\nmetadata:\n  name: yaml-tags\n  annotations: &notes\n    note: !!binary aGVsbG8=\n    at: !!timestamp 2026-12-07T10:00:00Z\nspec:\n  image: ghcr.io/acme/web\n  selector:\n    fleets: [edge]\n    matchLabels:\n      <<: {zone: north}\n`,
  }),
  http('create from YAML with a YAML 1.1 boolean as an annotation (dry run)', {
    method: 'POST',
    path: `${POLICIES}?dryRun=All`,
    contentType: 'application/yaml',
    body: `apiVersion: fleet.iotistic.io/v1alpha1\nkind: ImagePolicy\nmetadata:\n  name: yaml-yes\n  annotations:\n    reviewed: yes\nspec:\n  image: ghcr.io/acme/web\n  selector:\n    fleets: [edge]\n`,
  }),
  http('create with an unsupported media type: 415', {
    method: 'POST',
    path: POLICIES,
    contentType: 'application/xml',
    body: '<policy/>',
  }),
  http('get asking only for XML: 406', {
    method: 'GET',
    path: `${POLICIES}/p1`,
    accept: 'application/xml',
  }),
  http('POST on an item: 405', { method: 'POST', path: `${POLICIES}/p1`, body: policy('p1') }),
  http('PUT on a collection: 405', { method: 'PUT', path: POLICIES, body: policy('p1') }),
  http('an unknown resource: 404', {
    method: 'GET',
    path: fleetPath(NS, 'imagepolicies').replace('imagepolicies', 'widgets'),
  }),
  http('an unknown group version: 404', {
    method: 'GET',
    path: '/apis/fleet.iotistic.io/v9/imagepolicies',
  }),
  http('a namespaced resource on a cluster path with a name: 404', {
    method: 'GET',
    path: '/apis/fleet.iotistic.io/v1alpha1/imagepolicies/p1',
  }),
  http('list in the namespace', { method: 'GET', path: POLICIES }),
  http('create a rollout', {
    method: 'POST',
    path: ROLLOUTS,
    body: fleetObject('ImageRollout', 'r1', ROLLOUT_SPEC),
  }),
  http('write its status through /status', {
    method: 'PUT',
    path: `${ROLLOUTS}/r1/status`,
    body: { ...fleetObject('ImageRollout', 'r1', ROLLOUT_SPEC), status: { phase: 'Pending' } },
  }),
  http('status changes to the spec through /status are ignored', {
    method: 'PUT',
    path: `${ROLLOUTS}/r1/status`,
    body: fleetObject('ImageRollout', 'r1', { ...ROLLOUT_SPEC, tag: '2.0.0' }),
  }),
  http('get /status', { method: 'GET', path: `${ROLLOUTS}/r1/status` }),
  http('POST on /status: 405', {
    method: 'POST',
    path: `${ROLLOUTS}/status`,
    body: fleetObject('ImageRollout', 'r1', ROLLOUT_SPEC),
  }),
  http('an unknown subresource: 404', { method: 'GET', path: `${ROLLOUTS}/r1/scale` }),
  http('delete the policy', { method: 'DELETE', path: `${POLICIES}/p1` }),
  http('delete it again: 404', { method: 'DELETE', path: `${POLICIES}/p1` }),
  http('delete with a uid precondition that fails: 409', {
    method: 'DELETE',
    path: `${POLICIES}/p2`,
    body: { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { uid: 'nope' } },
  }),
  http('delete with a malformed DeleteOptions body: 400', {
    method: 'DELETE',
    path: `${POLICIES}/p2`,
    body: '{"kind":',
  }),
  http('delete with an unknown propagationPolicy: 422', {
    method: 'DELETE',
    path: `${POLICIES}/p2?propagationPolicy=Sometimes`,
  }),
  http('delete a collection', { method: 'DELETE', path: POLICIES }),
  http('the collection is empty', { method: 'GET', path: POLICIES }),
];
