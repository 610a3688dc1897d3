import { kubectl, type Step } from '../steps.js';

const NS = 'fidelity-kubectl';
const n = ['-n', NS];

const POLICY = `apiVersion: fleet.iotistic.io/v1alpha1
kind: ImagePolicy
metadata:
  name: web
  labels:
    app: web
spec:
  image: ghcr.io/acme/web
  selector:
    fleets: [edge]
`;
const ROLLOUT = `apiVersion: fleet.iotistic.io/v1alpha1
kind: ImageRollout
metadata:
  name: web-1
spec:
  policyRef:
    name: web
  image: ghcr.io/acme/web
  tag: 1.0.0
`;

/** kubectl's everyday commands, their tables, errors and structured output. */
export const kubectlCommands: Step[] = [
  kubectl('create namespace', ['create', 'namespace', NS]),
  kubectl('create namespace again', ['create', 'namespace', NS]),
  kubectl('create a policy', ['create', ...n, '-f', '-'], { input: POLICY }),
  kubectl('create a rollout', ['create', ...n, '-f', '-', '-o', 'name'], { input: ROLLOUT }),
  kubectl('create it again', ['create', ...n, '-f', '-'], { input: ROLLOUT }),
  kubectl('get policies', ['get', ...n, 'imagepolicies']),
  kubectl('get policies -o wide', ['get', ...n, 'imagepolicies', '-o', 'wide']),
  kubectl('get by short name', ['get', ...n, 'ipol']),
  kubectl('get rollouts --show-labels', ['get', ...n, 'imagerollouts', '--show-labels']),
  kubectl('get both kinds', ['get', ...n, 'imagepolicies,imagerollouts', '-o', 'name']),
  kubectl('get -o json', ['get', ...n, 'imagepolicy/web', '-o', 'json']),
  kubectl('get -o yaml', ['get', ...n, 'imagepolicy', 'web', '-o', 'yaml']),
  kubectl('get -o jsonpath', ['get', ...n, 'imagepolicy', 'web', '-o', 'jsonpath={.spec.image}']),
  kubectl('get -o custom-columns', [
    'get',
    ...n,
    'imagepolicies',
    '-o',
    'custom-columns=NAME:.metadata.name,IMAGE:.spec.image',
  ]),
  kubectl('get a missing object', ['get', ...n, 'imagepolicy', 'nope']),
  kubectl('get --ignore-not-found', ['get', ...n, 'imagepolicy', 'nope', '--ignore-not-found']),
  kubectl('get an unknown kind', ['get', ...n, 'widgets']),
  kubectl('get with a label selector', [
    'get',
    ...n,
    'imagepolicies',
    '-l',
    'app=web',
    '-o',
    'name',
  ]),
  kubectl('get with a field selector', [
    'get',
    ...n,
    'imagepolicies',
    '--field-selector',
    'metadata.name=web',
    '-o',
    'name',
  ]),
  kubectl('get with an unsupported field selector', [
    'get',
    ...n,
    'imagepolicies',
    '--field-selector',
    'spec.image=x',
  ]),
  kubectl('get --chunk-size=1', ['get', ...n, 'imagepolicies,imagerollouts', '--chunk-size=1']),
  kubectl('get -A by label', ['get', '-A', 'imagepolicies', '-l', 'app=web']),
  kubectl('get namespace', ['get', 'namespace', NS]),
  kubectl('label', ['label', ...n, 'imagepolicy/web', 'tier=front']),
  kubectl('label an existing key without --overwrite', [
    'label',
    ...n,
    'imagepolicy/web',
    'tier=back',
  ]),
  kubectl('annotate', ['annotate', ...n, 'imagepolicy/web', 'note=hello']),
  kubectl('patch --type=merge', [
    'patch',
    ...n,
    'imagerollout/web-1',
    '--type=merge',
    '-p',
    '{"spec":{"approvedBatches":1}}',
  ]),
  kubectl('patch --type=json', [
    'patch',
    ...n,
    'imagerollout/web-1',
    '--type=json',
    '-p',
    '[{"op":"replace","path":"/spec/tag","value":"1.0.1"}]',
  ]),
  kubectl('patch with the default (strategic) type', [
    'patch',
    ...n,
    'imagerollout/web-1',
    '-p',
    '{"spec":{"tag":"1.0.2"}}',
  ]),
  kubectl('patch the status subresource', [
    'patch',
    ...n,
    'imagerollout/web-1',
    '--subresource=status',
    '--type=merge',
    '-p',
    '{"status":{"phase":"Paused"}}',
  ]),
  kubectl('patch an invalid value', [
    'patch',
    ...n,
    'imagerollout/web-1',
    '--type=merge',
    '-p',
    '{"spec":{"approvedBatches":-1}}',
  ]),
  kubectl('replace', ['replace', ...n, '-f', '-'], { input: ROLLOUT.replace('1.0.0', '2.0.0') }),
  kubectl('get the rollout table', ['get', ...n, 'imagerollouts']),
  kubectl('delete with a wait', ['delete', ...n, 'imagerollout/web-1']),
  kubectl('delete a missing object', ['delete', ...n, 'imagerollout/web-1']),
  kubectl('delete --ignore-not-found', [
    'delete',
    ...n,
    'imagerollout/web-1',
    '--ignore-not-found',
  ]),
  kubectl('delete by label', ['delete', ...n, 'imagepolicies', '-l', 'app=web']),
  kubectl('get an empty list', ['get', ...n, 'imagepolicies']),
  kubectl('api-resources of the group', ['api-resources', '--api-group=fleet.iotistic.io']),
  kubectl('api-versions has the group', ['api-versions'], {
    keep: (line) => line.startsWith('fleet.iotistic.io/'),
  }),
  kubectl('explain a field', ['explain', 'imagepolicy.spec.image']),
];
