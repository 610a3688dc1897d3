import { createNamespace, http, kubectl, type Step } from '../steps.js';

const NS = 'fidelity-builtins';
const LEASES = `/apis/coordination.k8s.io/v1/namespaces/${NS}/leases`;
const CORE_EVENTS = `/api/v1/namespaces/${NS}/events`;
const EVENTS = `/apis/events.k8s.io/v1/namespaces/${NS}/events`;
const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io';
const SECRETS = `/api/v1/namespaces/${NS}/secrets`;

const secret = (name: string, extra: object = {}) => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name },
  ...extra,
});
const MERGE = 'application/merge-patch+json';

/** Secrets: stringData merged into data, base64, keys, typed Secrets, immutability, kubectl. */
const secrets: Step[] = [
  http('create a secret from data and stringData', {
    method: 'POST',
    path: SECRETS,
    body: secret('s1', { data: { a: 'YQ==', b: 'b2xk' }, stringData: { b: 'new', c: 'see' } }),
  }),
  http('get the secret: no stringData', { method: 'GET', path: `${SECRETS}/s1` }),
  http('a Table of secrets by name', {
    method: 'GET',
    path: `${SECRETS}?fieldSelector=metadata.name%3Ds1`,
    accept: TABLE,
  }),
  http('a secret with data that is not base64: 400', {
    method: 'POST',
    path: SECRETS,
    body: secret('s2', { data: { a: 'not base64' } }),
  }),
  http('a secret with an invalid key: 422', {
    method: 'POST',
    path: SECRETS,
    body: secret('s3', { stringData: { 'a b': 'x' } }),
  }),
  http('a TLS secret without tls.key: 422', {
    method: 'POST',
    path: SECRETS,
    body: secret('s4', { type: 'kubernetes.io/tls', stringData: { 'tls.crt': 'x' } }),
  }),
  http('change the type of a secret: 422', {
    method: 'PATCH',
    path: `${SECRETS}/s1`,
    contentType: MERGE,
    body: { type: 'kubernetes.io/basic-auth' },
  }),
  http('make a secret immutable', {
    method: 'PATCH',
    path: `${SECRETS}/s1`,
    contentType: MERGE,
    body: { immutable: true },
  }),
  http('change the data of an immutable secret: 422', {
    method: 'PATCH',
    path: `${SECRETS}/s1`,
    contentType: MERGE,
    body: { stringData: { a: 'changed' } },
  }),
  kubectl('kubectl create secret generic', [
    ...['create', 'secret', 'generic', 'k1', '--namespace', NS],
    ...['--from-literal=url=https://hooks.example.com/x', '--from-literal=token=t'],
  ]),
  kubectl('kubectl get the secret as JSON', [
    'get',
    'secret',
    'k1',
    '--namespace',
    NS,
    '-o',
    'json',
  ]),
  kubectl('kubectl get secret k1', ['get', 'secret', 'k1', '--namespace', NS]),
];

const lease = (name: string, spec: object = { holderIdentity: 'a', leaseDurationSeconds: 15 }) => ({
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  metadata: { name },
  spec,
});

const REGARDING = {
  apiVersion: 'fleet.iotistic.io/v1alpha1',
  kind: 'ImageRollout',
  namespace: NS,
  name: 'r',
};

const eventsV1 = (name: string, extra: object = {}) => ({
  apiVersion: 'events.k8s.io/v1',
  kind: 'Event',
  metadata: { name },
  eventTime: '2025-01-02T03:04:05.123456Z',
  reportingController: 'fleet.iotistic.io/controller',
  reportingInstance: 'controller-0',
  action: 'Reconcile',
  reason: 'DevicesSelected',
  type: 'Normal',
  note: 'selected 3 devices',
  regarding: REGARDING,
  ...extra,
});

const coreEvent = (name: string, extra: object = {}) => ({
  apiVersion: 'v1',
  kind: 'Event',
  metadata: { name },
  involvedObject: REGARDING,
  reason: 'BatchStarted',
  message: 'batch 1 started',
  type: 'Normal',
  source: { component: 'fleet-rollout' },
  firstTimestamp: '2025-01-02T03:04:05Z',
  lastTimestamp: '2025-01-02T03:04:05Z',
  count: 1,
  ...extra,
});

/** The built-in kinds the local server serves: Namespaces, Leases, Events in both groups. */
export const builtins: Step[] = [
  createNamespace(NS, { team: 'fleet' }),
  ...secrets,
  http('create a namespace with an invalid name: 422', {
    method: 'POST',
    path: '/api/v1/namespaces',
    body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'Not.Valid' } },
  }),
  http('create a namespace that exists: 409', {
    method: 'POST',
    path: '/api/v1/namespaces',
    body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
  }),
  http('get the namespace', { method: 'GET', path: `/api/v1/namespaces/${NS}` }),
  http('the namespace /status', { method: 'GET', path: `/api/v1/namespaces/${NS}/status` }),
  http('list namespaces by label', {
    method: 'GET',
    path: '/api/v1/namespaces?labelSelector=team%3Dfleet',
  }),
  http('list namespaces by name field', {
    method: 'GET',
    path: `/api/v1/namespaces?fieldSelector=metadata.name%3D${NS}`,
  }),
  http('list namespaces by status.phase and label', {
    method: 'GET',
    path: '/api/v1/namespaces?fieldSelector=status.phase%3DActive&labelSelector=team%3Dfleet',
  }),
  http('a Table of namespaces', {
    method: 'GET',
    path: '/api/v1/namespaces?labelSelector=team%3Dfleet',
    accept: TABLE,
  }),
  http('replace a namespace without a resourceVersion', {
    method: 'PUT',
    path: `/api/v1/namespaces/${NS}`,
    body: {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: NS, labels: { team: 'fleet', x: 'y' } },
    },
  }),
  http('a namespace with the wrong kind: 400', {
    method: 'POST',
    path: '/api/v1/namespaces',
    body: { apiVersion: 'v1', kind: 'Lease', metadata: { name: 'fidelity-wrong-kind' } },
  }),
  http('create a lease', { method: 'POST', path: LEASES, body: lease('l1') }),
  http('create a lease with microsecond times', {
    method: 'POST',
    path: LEASES,
    body: lease('l2', {
      holderIdentity: 'b',
      acquireTime: '2025-01-02T03:04:05.123456Z',
      renewTime: '2025-01-02T03:04:05.123456Z',
      leaseTransitions: 2,
    }),
  }),
  http('create a lease with an invalid duration: 422', {
    method: 'POST',
    path: LEASES,
    body: lease('l3', { leaseDurationSeconds: 0 }),
  }),
  http('replace a lease without a resourceVersion', {
    method: 'PUT',
    path: `${LEASES}/l1`,
    body: lease('l1', { holderIdentity: 'c', leaseDurationSeconds: 30 }),
  }),
  http('replace a missing lease: 404', { method: 'PUT', path: `${LEASES}/l9`, body: lease('l9') }),
  http('list leases', { method: 'GET', path: LEASES }),
  http('a Table of leases', { method: 'GET', path: LEASES, accept: TABLE }),
  http('delete a lease', { method: 'DELETE', path: `${LEASES}/l2` }),
  http('create an events.k8s.io Event', { method: 'POST', path: EVENTS, body: eventsV1('e1') }),
  http('create an events.k8s.io Event without eventTime: 422', {
    method: 'POST',
    path: EVENTS,
    body: eventsV1('e2', { eventTime: undefined }),
  }),
  http('create an events.k8s.io Event with a bad type: 422', {
    method: 'POST',
    path: EVENTS,
    body: eventsV1('e3', { type: 'Loud' }),
  }),
  http('read it back through the core group', { method: 'GET', path: `${CORE_EVENTS}/e1` }),
  http('create a core Event', { method: 'POST', path: CORE_EVENTS, body: coreEvent('c1') }),
  http('read it back through events.k8s.io', { method: 'GET', path: `${EVENTS}/c1` }),
  http('a core Event in another namespace than its object: 422', {
    method: 'POST',
    path: CORE_EVENTS,
    body: coreEvent('c2', { involvedObject: { ...REGARDING, namespace: 'default' } }),
  }),
  http('list core Events by involvedObject.name', {
    method: 'GET',
    path: `${CORE_EVENTS}?fieldSelector=involvedObject.name%3Dr,reason%3DBatchStarted`,
  }),
  http('list events.k8s.io Events by regarding.name', {
    method: 'GET',
    path: `${EVENTS}?fieldSelector=regarding.name%3Dr`,
  }),
  http('a Table of core Events', { method: 'GET', path: CORE_EVENTS, accept: TABLE }),
  http('a Table of events.k8s.io Events', { method: 'GET', path: EVENTS, accept: TABLE }),
  http('update an events.k8s.io Event series', {
    method: 'PATCH',
    path: `${EVENTS}/e1`,
    contentType: 'application/merge-patch+json',
    body: { series: { count: 2, lastObservedTime: '2025-01-02T03:05:05.000000Z' } },
  }),
  http('delete a core Event', { method: 'DELETE', path: `${CORE_EVENTS}/c1` }),
];
