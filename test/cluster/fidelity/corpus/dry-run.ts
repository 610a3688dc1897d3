import {
  createNamespace,
  fleetObject,
  fleetPath,
  http,
  kubectl,
  POLICY_SPEC,
  type Step,
} from '../steps.js';

const NS = 'fidelity-dry-run';
const POLICIES = fleetPath(NS, 'imagepolicies');
const policy = (name: string, image = 'ghcr.io/acme/web') =>
  fleetObject('ImagePolicy', name, { ...POLICY_SPEC, image });
const check = (name: string) => http(name, { method: 'GET', path: `${POLICIES}/kept` });

const MANIFEST = `apiVersion: fleet.iotistic.io/v1alpha1
kind: ImagePolicy
metadata:
  name: kept
  namespace: ${NS}
spec:
  image: ghcr.io/acme/kubectl
  selector:
    fleets: [edge]
`;

/** A dry run of every verb answers as the real write would, and changes nothing. */
export const dryRuns: Step[] = [
  createNamespace(NS),
  http('dry-run create', { method: 'POST', path: `${POLICIES}?dryRun=All`, body: policy('dry') }),
  http('the dry-run create left nothing', { method: 'GET', path: `${POLICIES}/dry` }),
  http('dry-run create of an invalid object: 422', {
    method: 'POST',
    path: `${POLICIES}?dryRun=All`,
    body: fleetObject('ImagePolicy', 'bad', { image: 'x' }),
  }),
  http('create the kept policy', { method: 'POST', path: POLICIES, body: policy('kept') }),
  http(
    'read it',
    { method: 'GET', path: `${POLICIES}/kept` },
    { save: (body, vars) => Object.assign(vars, { kept: body.metadata.resourceVersion }) },
  ),
  http('dry-run update', (vars) => ({
    method: 'PUT',
    path: `${POLICIES}/kept?dryRun=All`,
    body: {
      ...policy('kept', 'ghcr.io/acme/dry'),
      metadata: { name: 'kept', resourceVersion: vars.kept },
    },
  })),
  check('the dry-run update changed nothing'),
  http('dry-run merge patch', {
    method: 'PATCH',
    path: `${POLICIES}/kept?dryRun=All`,
    contentType: 'application/merge-patch+json',
    body: { metadata: { labels: { dry: 'yes' } } },
  }),
  http('dry-run JSON patch', {
    method: 'PATCH',
    path: `${POLICIES}/kept?dryRun=All`,
    contentType: 'application/json-patch+json',
    body: [{ op: 'replace', path: '/spec/image', value: 'ghcr.io/acme/jp' }],
  }),
  http('dry-run apply', {
    method: 'PATCH',
    path: `${POLICIES}/kept?dryRun=All&fieldManager=dry`,
    contentType: 'application/apply-patch+yaml',
    body: MANIFEST.replace('kubectl', 'applied'),
  }),
  http('dry-run apply that creates', {
    method: 'PATCH',
    path: `${POLICIES}/fresh?dryRun=All&fieldManager=dry`,
    contentType: 'application/apply-patch+yaml',
    body: MANIFEST.replace('name: kept', 'name: fresh'),
  }),
  check('the dry-run patches and apply changed nothing'),
  http('dry-run delete (query)', { method: 'DELETE', path: `${POLICIES}/kept?dryRun=All` }),
  http('dry-run delete (DeleteOptions body)', {
    method: 'DELETE',
    path: `${POLICIES}/kept`,
    body: { kind: 'DeleteOptions', apiVersion: 'v1', dryRun: ['All'] },
  }),
  http('dry-run delete of a collection', {
    method: 'DELETE',
    path: `${POLICIES}?dryRun=All`,
  }),
  check('the dry-run deletes left it'),
  http('an unsupported dryRun value: 400', {
    method: 'POST',
    path: `${POLICIES}?dryRun=Some`,
    body: policy('odd'),
  }),
  http('an unsupported dryRun in DeleteOptions', {
    method: 'DELETE',
    path: `${POLICIES}/kept`,
    body: { kind: 'DeleteOptions', apiVersion: 'v1', dryRun: ['Some'] },
  }),
  kubectl(
    'kubectl create --dry-run=server',
    ['create', '--dry-run=server', '-f', '-', '-o', 'json'],
    {
      input: MANIFEST.replace('name: kept', 'name: kubectl-dry'),
    },
  ),
  kubectl('kubectl apply --dry-run=server', ['apply', '--dry-run=server', '-f', '-'], {
    input: MANIFEST,
  }),
  kubectl(
    'kubectl apply --server-side --dry-run=server',
    ['apply', '--server-side', '--dry-run=server', '-f', '-', '-o', 'json'],
    { input: MANIFEST },
  ),
  kubectl('kubectl patch --dry-run=server', [
    'patch',
    '-n',
    NS,
    'imagepolicy/kept',
    '--type=merge',
    '-p',
    '{"spec":{"image":"ghcr.io/acme/patched"}}',
    '--dry-run=server',
  ]),
  kubectl('kubectl label --dry-run=server', [
    'label',
    '-n',
    NS,
    'imagepolicy/kept',
    'x=y',
    '--dry-run=server',
  ]),
  kubectl('kubectl delete --dry-run=server', [
    'delete',
    '-n',
    NS,
    'imagepolicy/kept',
    '--dry-run=server',
  ]),
  kubectl('kubectl delete --all --dry-run=server', [
    'delete',
    '-n',
    NS,
    'imagepolicies',
    '--all',
    '--dry-run=server',
  ]),
  kubectl('kubectl delete namespace --dry-run=server', [
    'delete',
    'namespace',
    NS,
    '--dry-run=server',
  ]),
  kubectl('kubectl get after all the dry runs', [
    'get',
    '-n',
    NS,
    'imagepolicy/kept',
    '-o',
    'json',
  ]),
  http('the namespace is still active', { method: 'GET', path: `/api/v1/namespaces/${NS}` }),
];
