import {
  createNamespace,
  effect,
  fleetObject,
  fleetPath,
  http,
  type Json,
  POLICY_SPEC,
  type Step,
  type Vars,
} from '../steps.js';

const NS = 'fidelity-watch';
const POLICIES = fleetPath(NS, 'imagepolicies');
const MERGE = 'application/merge-patch+json';

/** A watch that the server ends after a second: every event it sent until then. */
const watch = (name: string, query: string | ((vars: Vars) => string), accept?: string) =>
  http(name, (vars) => ({
    method: 'GET',
    path: `${POLICIES}?watch=1&timeoutSeconds=1&${typeof query === 'string' ? query : query(vars)}`,
    ...(accept ? { accept } : {}),
  }));

const saveRv = (key: string) => (body: Json, vars: Vars) => {
  vars[key] = body.metadata.resourceVersion;
};

/** Watches: every resourceVersion semantic, selectors, bookmarks, Tables and expiry. */
export const watches: Step[] = [
  createNamespace(NS),
  http('create w1', {
    method: 'POST',
    path: POLICIES,
    body: fleetObject('ImagePolicy', 'w1', POLICY_SPEC, { labels: { watched: 'yes' } }),
  }),
  http('list to start from', { method: 'GET', path: POLICIES }, { save: saveRv('start') }),
  http('create w2', {
    method: 'POST',
    path: POLICIES,
    body: fleetObject('ImagePolicy', 'w2', POLICY_SPEC, { labels: { watched: 'yes' } }),
  }),
  http('label w1 away from the selector', {
    method: 'PATCH',
    path: `${POLICIES}/w1`,
    contentType: MERGE,
    body: { metadata: { labels: { watched: 'no' } } },
  }),
  http('change w2', {
    method: 'PATCH',
    path: `${POLICIES}/w2`,
    contentType: MERGE,
    body: { spec: { image: 'ghcr.io/acme/changed' } },
  }),
  http('delete w2', { method: 'DELETE', path: `${POLICIES}/w2` }),
  watch('watch from the saved version', (vars) => `resourceVersion=${vars.start}`),
  watch(
    'watch from the saved version with a label selector',
    (vars) => `resourceVersion=${vars.start}&labelSelector=watched%3Dyes`,
  ),
  watch(
    'watch from the saved version with a field selector',
    (vars) => `resourceVersion=${vars.start}&fieldSelector=metadata.name%3Dw2`,
  ),
  watch('watch with resourceVersion unset (current state first)', ''),
  watch('watch at resourceVersion 0', 'resourceVersion=0'),
  watch('watch with a label selector and no version', 'labelSelector=watched%3Dno'),
  watch(
    'watch with initial events and bookmarks',
    'sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&resourceVersion=',
  ),
  watch(
    'sendInitialEvents without bookmarks: 422',
    'sendInitialEvents=true&resourceVersionMatch=NotOlderThan',
  ),
  watch(
    'sendInitialEvents without resourceVersionMatch: 422',
    'sendInitialEvents=true&allowWatchBookmarks=true',
  ),
  watch('watch a too-large version', 'resourceVersion=999999999'),
  watch(
    'watch with resourceVersionMatch=Exact: 422',
    (vars) => `resourceVersion=${vars.start}&resourceVersionMatch=Exact`,
  ),
  watch(
    'watch as Table',
    (vars) => `resourceVersion=${vars.start}`,
    'application/json;as=Table;v=v1;g=meta.k8s.io',
  ),
  http('watch one object by name (path form)', (vars) => ({
    method: 'GET',
    path: `/apis/fleet.iotistic.io/v1alpha1/watch/namespaces/${NS}/imagepolicies/w1?timeoutSeconds=1&resourceVersion=${vars.start}`,
  })),
  http('watch a collection (path form)', (vars) => ({
    method: 'GET',
    path: `/apis/fleet.iotistic.io/v1alpha1/watch/namespaces/${NS}/imagepolicies?timeoutSeconds=1&resourceVersion=${vars.start}`,
  })),
  effect('compact both servers', (endpoint) => endpoint.compact()),
  http('write after compaction', {
    method: 'PATCH',
    path: `${POLICIES}/w1`,
    contentType: MERGE,
    body: { metadata: { labels: { after: 'compaction' } } },
  }),
  watch('watch from a compacted version: 410', (vars) => `resourceVersion=${vars.start}`),
];
