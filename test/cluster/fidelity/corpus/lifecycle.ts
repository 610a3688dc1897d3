import {
  createNamespace,
  fleetObject,
  fleetPath,
  http,
  type Json,
  POLICY_SPEC,
  ROLLOUT_SPEC,
  type Step,
  type Vars,
} from '../steps.js';

const NS = 'fidelity-lifecycle';
const DOOMED = 'fidelity-doomed';
const POLICIES = fleetPath(NS, 'imagepolicies');
const ROLLOUTS = fleetPath(NS, 'imagerollouts');
const MERGE = 'application/merge-patch+json';
const FINALIZER = 'fleet.iotistic.io/hold';

const gone = (answer: { status: number }) => answer.status === 404;
const saveOwner = (key: string) => (body: Json, vars: Vars) => {
  vars[key] = body.metadata.uid;
};
const ownedRollout = (name: string, key: string) => (vars: Vars) => ({
  method: 'POST',
  path: ROLLOUTS,
  body: fleetObject('ImageRollout', name, ROLLOUT_SPEC, {
    ownerReferences: [
      {
        apiVersion: 'fleet.iotistic.io/v1alpha1',
        kind: 'ImagePolicy',
        name: key,
        uid: vars[key],
        blockOwnerDeletion: true,
      },
    ],
  }),
});

/** One owner and its dependent, deleted with a propagation policy; the dependent's fate read. */
function propagation(policy: 'Background' | 'Foreground' | 'Orphan'): Step[] {
  const owner = `owner-${policy.toLowerCase()}`;
  const child = `child-${policy.toLowerCase()}`;
  return [
    http(
      `${policy}: create the owner`,
      { method: 'POST', path: POLICIES, body: fleetObject('ImagePolicy', owner, POLICY_SPEC) },
      { save: saveOwner(owner) },
    ),
    http(`${policy}: create the dependent`, ownedRollout(child, owner)),
    http(`${policy}: delete the owner`, {
      method: 'DELETE',
      path: `${POLICIES}/${owner}`,
      body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: policy },
    }),
    http(
      `${policy}: the owner is gone`,
      { method: 'GET', path: `${POLICIES}/${owner}` },
      { until: gone },
    ),
    http(
      `${policy}: the dependent`,
      { method: 'GET', path: `${ROLLOUTS}/${child}` },
      // Orphaned dependents lose the reference; the others are collected.
      policy === 'Orphan'
        ? { until: (_answer, body) => !body.metadata?.ownerReferences }
        : { until: gone },
    ),
  ];
}

/** Finalizers, garbage collection by ownerReferences, and a namespace's termination. */
export const lifecycle: Step[] = [
  createNamespace(NS),
  http('create a rollout with a finalizer', {
    method: 'POST',
    path: ROLLOUTS,
    body: fleetObject('ImageRollout', 'held', ROLLOUT_SPEC, { finalizers: [FINALIZER] }),
  }),
  http('delete it: marked, not gone', { method: 'DELETE', path: `${ROLLOUTS}/held` }),
  http('it is still there, with a deletionTimestamp', { method: 'GET', path: `${ROLLOUTS}/held` }),
  http('delete it again', { method: 'DELETE', path: `${ROLLOUTS}/held` }),
  http('a new finalizer while deleting: 422', {
    method: 'PATCH',
    path: `${ROLLOUTS}/held`,
    contentType: MERGE,
    body: { metadata: { finalizers: [FINALIZER, 'other.io/x'] } },
  }),
  http('a spec change while deleting', {
    method: 'PATCH',
    path: `${ROLLOUTS}/held`,
    contentType: MERGE,
    body: { spec: { approvedBatches: 2 } },
  }),
  http('clearing deletionTimestamp is ignored', {
    method: 'PATCH',
    path: `${ROLLOUTS}/held`,
    contentType: MERGE,
    body: { metadata: { deletionTimestamp: null } },
  }),
  http('remove the finalizer: deleted', {
    method: 'PATCH',
    path: `${ROLLOUTS}/held`,
    contentType: MERGE,
    body: { metadata: { finalizers: null } },
  }),
  http('it is gone', { method: 'GET', path: `${ROLLOUTS}/held` }),
  http('create with a malformed finalizer: 422', {
    method: 'POST',
    path: ROLLOUTS,
    body: fleetObject('ImageRollout', 'badfin', ROLLOUT_SPEC, { finalizers: ['no slash'] }),
  }),
  http('create with a duplicate ownerReference controller: 422', {
    method: 'POST',
    path: ROLLOUTS,
    body: fleetObject('ImageRollout', 'two-controllers', ROLLOUT_SPEC, {
      ownerReferences: ['a', 'b'].map((name) => ({
        apiVersion: 'v1',
        kind: 'Namespace',
        name,
        uid: `11111111-1111-1111-1111-11111111111${name === 'a' ? '1' : '2'}`,
        controller: true,
      })),
    }),
  }),
  ...propagation('Background'),
  ...propagation('Foreground'),
  ...propagation('Orphan'),
  createNamespace(DOOMED),
  http('a held rollout in the doomed namespace', {
    method: 'POST',
    path: fleetPath(DOOMED, 'imagerollouts'),
    body: fleetObject('ImageRollout', 'stuck', ROLLOUT_SPEC, { finalizers: [FINALIZER] }),
  }),
  http('delete the namespace', { method: 'DELETE', path: `/api/v1/namespaces/${DOOMED}` }),
  http(
    'the namespace is Terminating',
    { method: 'GET', path: `/api/v1/namespaces/${DOOMED}` },
    {
      select: (body) => ({
        phase: body.status?.phase,
        deleting: !!body.metadata?.deletionTimestamp,
      }),
    },
  ),
  http(
    'a create in the terminating namespace: 403',
    {
      method: 'POST',
      path: fleetPath(DOOMED, 'imagepolicies'),
      body: fleetObject('ImagePolicy', 'late', POLICY_SPEC),
    },
    // The real namespace controller sets the phase a moment after the delete.
    { until: (answer) => answer.status === 403 },
  ),
  http(
    'the held rollout is marked for deletion',
    { method: 'GET', path: `${fleetPath(DOOMED, 'imagerollouts')}/stuck` },
    {
      until: (_answer, body) => !!body.metadata?.deletionTimestamp,
      select: (body) => ({
        deleting: !!body.metadata.deletionTimestamp,
        finalizers: body.metadata.finalizers,
      }),
    },
  ),
  http('release it', {
    method: 'PATCH',
    path: `${fleetPath(DOOMED, 'imagerollouts')}/stuck`,
    contentType: MERGE,
    body: { metadata: { finalizers: null } },
  }),
  http(
    'the namespace goes away',
    { method: 'GET', path: `/api/v1/namespaces/${DOOMED}` },
    { until: gone },
  ),
  http('deleting the default namespace: 403', {
    method: 'DELETE',
    path: '/api/v1/namespaces/default',
  }),
  http('a create in a missing namespace: 404', {
    method: 'POST',
    path: fleetPath('fidelity-missing', 'imagepolicies'),
    body: fleetObject('ImagePolicy', 'p', POLICY_SPEC),
  }),
];
