import {
  createNamespace,
  effect,
  fleetObject,
  fleetPath,
  http,
  type Json,
  POLICY_SPEC,
  type Step,
} from '../steps.js';

const NS = 'fidelity-lists';
const OTHER = 'fidelity-lists-b';
const POLICIES = fleetPath(NS, 'imagepolicies');
const ALL = '/apis/fleet.iotistic.io/v1alpha1/imagepolicies';
const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io';
const policy = (name: string, labels: Record<string, string>) =>
  fleetObject('ImagePolicy', name, POLICY_SPEC, { labels: { 'fidelity-list': 'yes', ...labels } });

const list = (name: string, query: string, options: Parameters<typeof http>[2] = {}) =>
  http(name, { method: 'GET', path: `${POLICIES}?${query}` }, options);
const saveRv = (key: string) => (body: Json, vars: Record<string, string>) => {
  vars[key] = body.metadata.resourceVersion;
};
const saveContinue = (key: string) => (body: Json, vars: Record<string, string>) => {
  vars[key] = encodeURIComponent(body.metadata?.continue ?? '');
};

const SELECTORS = [
  'tier=web',
  'tier==web',
  'tier!=web',
  'tier in (web,db)',
  'tier notin (web)',
  'tier',
  '!tier',
  'tier=web,zone=a',
  'zone in (a),tier!=db',
  'tier=',
  'tier in (web',
  'Bad Key=x',
];
const FIELD_SELECTORS = [
  'metadata.name=p1',
  'metadata.name!=p1',
  'metadata.namespace=fidelity-lists',
  'metadata.name=p1,metadata.name=p2',
  'spec.image=ghcr.io/acme/web',
  'metadata.name',
];

/** Lists: resourceVersion semantics, selectors, pagination and Table output. */
export const lists: Step[] = [
  createNamespace(NS),
  createNamespace(OTHER),
  ...[
    ['p1', { tier: 'web', zone: 'a' }],
    ['p2', { tier: 'web', zone: 'b' }],
    ['p3', { tier: 'db', zone: 'a' }],
    ['p4', { zone: 'c' }],
  ].map(([name, labels]) =>
    http(`create ${name}`, {
      method: 'POST',
      path: POLICIES,
      body: policy(name as string, labels as Record<string, string>),
    }),
  ),
  list('list with resourceVersion unset', '', { save: saveRv('before') }),
  http('create p5 after the saved version', {
    method: 'POST',
    path: POLICIES,
    body: policy('p5', { tier: 'web' }),
  }),
  http('create p6 in the other namespace', {
    method: 'POST',
    path: fleetPath(OTHER, 'imagepolicies'),
    body: policy('p6', { tier: 'web' }),
  }),
  list('list at resourceVersion 0', 'resourceVersion=0'),
  http('list at the saved version, Exact', (vars) => ({
    method: 'GET',
    path: `${POLICIES}?resourceVersion=${vars.before}&resourceVersionMatch=Exact`,
  })),
  http('list at the saved version, NotOlderThan', (vars) => ({
    method: 'GET',
    path: `${POLICIES}?resourceVersion=${vars.before}&resourceVersionMatch=NotOlderThan`,
  })),
  http('list at the saved version, no match (legacy: not older than)', (vars) => ({
    method: 'GET',
    path: `${POLICIES}?resourceVersion=${vars.before}`,
  })),
  list('resourceVersionMatch without resourceVersion: 400', 'resourceVersionMatch=Exact'),
  list(
    'resourceVersionMatch=Exact with resourceVersion 0: 400',
    'resourceVersion=0&resourceVersionMatch=Exact',
  ),
  list('an unknown resourceVersionMatch: 400', 'resourceVersion=1&resourceVersionMatch=Newest'),
  list('a resourceVersion that is not a number: 400', 'resourceVersion=abc'),
  list(
    'a too-large resourceVersion, NotOlderThan: 504',
    'resourceVersion=999999999&resourceVersionMatch=NotOlderThan',
  ),
  list(
    'a too-large resourceVersion, Exact',
    'resourceVersion=999999999&resourceVersionMatch=Exact',
  ),
  ...SELECTORS.map((selector) =>
    list(`label selector ${selector}`, `labelSelector=${encodeURIComponent(selector)}`),
  ),
  ...FIELD_SELECTORS.map((selector) =>
    list(`field selector ${selector}`, `fieldSelector=${encodeURIComponent(selector)}`),
  ),
  http('a cluster-wide list by label', {
    method: 'GET',
    path: `${ALL}?labelSelector=fidelity-list%3Dyes,tier%3Dweb`,
  }),
  http('a cluster-wide list by namespace field', {
    method: 'GET',
    path: `${ALL}?fieldSelector=metadata.namespace%3D${OTHER}`,
  }),
  list('page 1 of limit 2', 'limit=2', { save: saveContinue('page2') }),
  http(
    'page 2',
    (vars) => ({ method: 'GET', path: `${POLICIES}?limit=2&continue=${vars.page2}` }),
    {
      save: saveContinue('page3'),
    },
  ),
  http('page 3 (the last)', (vars) => ({
    method: 'GET',
    path: `${POLICIES}?limit=2&continue=${vars.page3}`,
  })),
  list('limit with a label selector', 'limit=1&labelSelector=tier%3Dweb', {
    save: saveContinue('web2'),
  }),
  http('continue with a label selector', (vars) => ({
    method: 'GET',
    path: `${POLICIES}?limit=1&labelSelector=tier%3Dweb&continue=${vars.web2}`,
  })),
  list('a garbage continue token: 400', 'continue=garbage'),
  http('continue with a resourceVersion: 400', (vars) => ({
    method: 'GET',
    path: `${POLICIES}?limit=2&continue=${vars.page2}&resourceVersion=${vars.before}`,
  })),
  list('limit 0 is no limit', 'limit=0'),
  list('a negative limit', 'limit=-1'),
  list('limit with resourceVersion 0 (served whole)', 'limit=1&resourceVersion=0'),
  http('a Table', { method: 'GET', path: POLICIES, accept: TABLE }),
  http('a Table with includeObject=Object', {
    method: 'GET',
    path: `${POLICIES}?includeObject=Object&labelSelector=tier%3Ddb`,
    accept: TABLE,
  }),
  http('a Table with includeObject=None', {
    method: 'GET',
    path: `${POLICIES}?includeObject=None&labelSelector=tier%3Ddb`,
    accept: TABLE,
  }),
  http('a Table of one object', { method: 'GET', path: `${POLICIES}/p1`, accept: TABLE }),
  http('a Table, paged', { method: 'GET', path: `${POLICIES}?limit=1`, accept: TABLE }),
  http('a Table of namespaces by label', {
    method: 'GET',
    path: '/api/v1/namespaces?labelSelector=kubernetes.io%2Fmetadata.name%3Dfidelity-lists',
    accept: TABLE,
  }),
  http('Table or JSON: the server picks the Table', {
    method: 'GET',
    path: `${POLICIES}/p1`,
    accept: `${TABLE},application/json`,
  }),
  http('PartialObjectMetadataList', {
    method: 'GET',
    path: `${POLICIES}?labelSelector=tier%3Ddb`,
    accept: 'application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io',
  }),
  http('an unknown Table version: 406', {
    method: 'GET',
    path: POLICIES,
    accept: 'application/json;as=Table;v=v2;g=meta.k8s.io',
  }),
  list('save a page before compaction', 'limit=2', { save: saveContinue('old') }),
  effect('compact both servers', (endpoint) => endpoint.compact()),
  http('create p7 after compaction', { method: 'POST', path: POLICIES, body: policy('p7', {}) }),
  http('list at a compacted version, Exact: 410', (vars) => ({
    method: 'GET',
    path: `${POLICIES}?resourceVersion=${vars.before}&resourceVersionMatch=Exact`,
  })),
  http('continue a compacted list: 410', (vars) => ({
    method: 'GET',
    path: `${POLICIES}?limit=2&continue=${vars.old}`,
  })),
];
