import { REGISTRY_KINDS } from '../../src/webhooks/push.js';
import { headerValue, mutate, percentEncoded, segment, serialize } from './mutate.js';
import { hostileString, type Random } from './random.js';

/** One request to send. */
export interface Attempt {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | Buffer | undefined;
}

/** One answer. */
export interface Answer {
  status: number;
  headers: Record<string, unknown>;
  body: string;
}

const UUID_NOBODY = '00000000-0000-4000-8000-000000000000';
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];
const JSON_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/cloudevents+json',
  'application/vnd.docker.distribution.events.v1+json',
  'application/x-www-form-urlencoded',
  'text/plain',
  'application/yaml',
  'multipart/form-data; boundary=x',
  'application/json; charset=latin1',
  '',
  'garbage',
];

/** Authorization: the right one mostly, sometimes wrong, malformed or absent. */
function authorization(random: Random, right: string): string | undefined {
  const roll = random.next();
  if (roll < 0.7) return `Bearer ${right}`;
  if (roll < 0.8) return undefined;
  if (roll < 0.9) return `Bearer ${headerValue(random)}`;
  return random.pick([
    `Basic ${right}`,
    'Bearer',
    `bearer  ${right}x`,
    right,
    `Bearer ${right.slice(1)}`,
  ]);
}

/** Adds hostile extra headers to `headers` now and then. */
function extraHeaders(random: Random, headers: Record<string, string>): Record<string, string> {
  if (random.chance(0.2))
    headers[
      random.pick([
        'x-github-event',
        'x-github-delivery',
        'ce-type',
        'ce-id',
        'accept',
        'if-none-match',
        'x-hub-signature-256',
        'x-request-id',
        'accept-encoding',
      ])
    ] = headerValue(random);
  if (random.chance(0.05)) headers['x-long'] = 'x'.repeat(random.int(1000, 12000));
  return headers;
}

/** What the shared server's requests are built from. */
export interface SharedContext {
  device: { uuid: string; apiKey: string };
  fixtureText(name: string): string;
  ghcrSignature(body: Buffer | string): string;
}

const FIXTURES: Record<string, string> = {
  dockerhub: 'dockerhub.json',
  ghcr: 'ghcr-package-published.json',
  harbor: 'harbor-push-artifact.json',
  quay: 'quay-repo-push.json',
  distribution: 'distribution-notification-envelope.json',
  gar: 'gar-pubsub-push-envelope.json',
  ecr: 'ecr-eventbridge-image-push.json',
};

/** A request to the device API, its admin routes, a webhook receiver or an operational route. */
export function sharedServerAttempt(random: Random, context: SharedContext): Attempt {
  const roll = random.next();
  if (roll < 0.45) return webhookAttempt(random, context);
  if (roll < 0.7) return adminAttempt(random, context);
  if (roll < 0.92) return deviceAttempt(random, context);
  return {
    method: random.pick(METHODS),
    path: random.pick([
      '/metrics',
      '/healthz',
      '/readyz',
      `/${segment(random, 'nothing')}`,
      '/api/v1/webhooks',
      '/api/v1/webhooks/docker-registry/test',
    ]),
    headers: extraHeaders(random, {}),
    body: random.chance(0.3) ? serialize(random, { a: 1 }, false) : undefined,
  };
}

function webhookAttempt(random: Random, context: SharedContext): Attempt {
  const registry = random.pick([...REGISTRY_KINDS, 'docker-registry', 'unknown']);
  const fixture = FIXTURES[registry];
  const base: unknown = fixture
    ? JSON.parse(context.fixtureText(fixture))
    : { image: 'ghcr.io/acme/app', tag: 'v1', digest: `sha256:${'a'.repeat(64)}` };
  const value = random.chance(0.8) ? mutate(random, base) : base;
  let body: string | Buffer = serialize(random, value, false);
  if (registry === 'ghcr' && random.chance(0.2)) {
    body = `payload=${percentEncoded(body.toString())}`;
  }
  const headers: Record<string, string> = {
    'content-type': random.chance(0.8) ? 'application/json' : random.pick(JSON_TYPES),
  };
  if (headers['content-type'] === '') delete headers['content-type'];
  if (registry === 'ghcr' && body.toString().startsWith('payload=')) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
  }
  let path = `/api/v1/webhooks/${segment(random, registry)}`;
  if (registry === 'dockerhub' || registry === 'quay') {
    path += `/${random.chance(0.8) ? TOKEN_PATH : segment(random, 'wrong-token-000000000000000000000')}`;
  } else if (random.chance(0.1)) path += `/${segment(random, 'extra')}`;
  const bearer = authorization(random, 'bearer-token-for-tests-0123');
  if (bearer && registry !== 'ghcr') headers.authorization = bearer;
  if (registry === 'ghcr' || registry === 'docker-registry') {
    headers['x-github-event'] = random.chance(0.8)
      ? random.pick(['package', 'registry_package'])
      : headerValue(random);
    headers['x-github-delivery'] = random.chance(0.8)
      ? '72d3162e-cc78-11e3-81ab-4c9367dc0958'
      : headerValue(random);
    if (random.chance(0.8)) headers['x-hub-signature-256'] = context.ghcrSignature(body);
  }
  if (registry === 'harbor' && random.chance(0.3)) headers['ce-type'] = headerValue(random);
  if (random.chance(0.1)) path += `?${segment(random, 'a')}=${segment(random, 'b')}`;
  return {
    method: random.chance(0.95) ? 'POST' : random.pick(METHODS),
    path,
    headers: extraHeaders(random, headers),
    body,
  };
}

/** Docker Hub and Quay's path token in the test configuration. */
const TOKEN_PATH = 'Zk3l-9qP_x2mN8vR4tY7wB1cD5eF0gH6';

function adminAttempt(random: Random, context: SharedContext): Attempt {
  const uuid = random.pick([
    context.device.uuid,
    UUID_NOBODY,
    segment(random, context.device.uuid),
  ]);
  const apps = { web: { services: { app: { image: 'ghcr.io/acme/app:v1', ports: ['80:80'] } } } };
  const routes: Array<[string, string, unknown]> = [
    ['POST', '/api/v1/devices', { fleet: 'lab', labels: { app: 'web', tier: 'edge' }, apps }],
    [
      'GET',
      `/api/v1/devices?fleet=${segment(random, 'lab')}&labelSelector=${segment(random, 'app in (web)')}&limit=${segment(random, '10')}`,
      undefined,
    ],
    [
      'GET',
      `/api/v1/devices?continue=${segment(random, UUID_NOBODY)}&${segment(random, 'x')}=1`,
      undefined,
    ],
    ['GET', `/api/v1/devices/${uuid}`, undefined],
    ['PUT', `/api/v1/devices/${uuid}/target`, { apps }],
    ['POST', `/api/v1/devices/${uuid}/key`, undefined],
    ['DELETE', `/api/v1/devices/${random.chance(0.9) ? UUID_NOBODY : uuid}`, undefined],
  ];
  const [method, path, base] = random.pick(routes);
  const headers: Record<string, string> = {
    'content-type': random.chance(0.85) ? 'application/json' : random.pick(JSON_TYPES),
  };
  if (headers['content-type'] === '') delete headers['content-type'];
  const bearer = authorization(random, ADMIN_TOKEN_OF_TESTS);
  if (bearer) headers.authorization = bearer;
  const body =
    base === undefined
      ? random.chance(0.1)
        ? serialize(random, { x: 1 }, false)
        : undefined
      : serialize(random, random.chance(0.8) ? mutate(random, base) : base, false);
  return {
    method: random.chance(0.95) ? method : random.pick(METHODS),
    path,
    headers: extraHeaders(random, headers),
    body,
  };
}

/** The admin token of test/support/device-api.ts. */
const ADMIN_TOKEN_OF_TESTS = 'test-admin-token-0123456789';

function deviceAttempt(random: Random, context: SharedContext): Attempt {
  const { uuid, apiKey } = context.device;
  const headers: Record<string, string> = {};
  const bearer = authorization(random, apiKey);
  if (bearer) headers.authorization = bearer;
  if (random.chance(0.5)) {
    if (random.chance(0.5))
      headers['if-none-match'] = random.chance(0.5) ? '"abc"' : headerValue(random);
    const wait = random.chance(0.1) ? `?wait=${segment(random, '0')}` : '';
    return {
      method: 'GET',
      path: `/api/v1/device/${segment(random, uuid)}/state${wait}`,
      headers: extraHeaders(random, headers),
      body: undefined,
    };
  }
  const report = {
    [random.chance(0.9) ? uuid : UUID_NOBODY]: {
      apps: {
        web: {
          services: { app: { image: 'ghcr.io/acme/app:v1', status: 'Running', health: 'healthy' } },
        },
      },
    },
  };
  headers['content-type'] = random.chance(0.9) ? 'application/json' : random.pick(JSON_TYPES);
  if (headers['content-type'] === '') delete headers['content-type'];
  const body = serialize(random, random.chance(0.8) ? mutate(random, report) : report, false);
  return {
    method: random.chance(0.95) ? 'PATCH' : random.pick(METHODS),
    path: '/api/v1/device/state',
    headers: extraHeaders(random, headers),
    body,
  };
}

const GROUP = '/apis/fleet.iotistic.io/v1alpha1';
const NS = (namespace: string) => `${GROUP}/namespaces/${namespace}`;

/** Bodies of each resource the local API server serves, valid to start from. */
function resourceBodies(name: string): Array<[string, unknown]> {
  const meta = { name, labels: { app: 'web' }, annotations: { note: 'x' } };
  return [
    [
      `${NS('default')}/imagepolicies`,
      {
        apiVersion: 'fleet.iotistic.io/v1alpha1',
        kind: 'ImagePolicy',
        metadata: meta,
        spec: {
          image: 'ghcr.io/acme/web',
          selector: { fleets: ['edge'] },
          strategy: { batches: [10, 50, 100] },
        },
      },
    ],
    [
      `${NS('default')}/imagerollouts`,
      {
        apiVersion: 'fleet.iotistic.io/v1alpha1',
        kind: 'ImageRollout',
        metadata: meta,
        spec: { policyRef: { name: 'p' }, image: 'ghcr.io/acme/web', tag: 'v1' },
      },
    ],
    ['/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: meta }],
    [
      '/api/v1/namespaces/default/events',
      {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: meta,
        involvedObject: { kind: 'ImageRollout', name: 'r', namespace: 'default' },
        reason: 'Test',
        message: 'hello',
        type: 'Normal',
      },
    ],
    [
      '/apis/events.k8s.io/v1/namespaces/default/events',
      {
        apiVersion: 'events.k8s.io/v1',
        kind: 'Event',
        metadata: meta,
        eventTime: '2026-01-01T00:00:00.000000Z',
        reportingController: 'x/y',
        reportingInstance: 'i',
        action: 'A',
        reason: 'R',
        type: 'Normal',
        note: 'n',
        regarding: { kind: 'ImageRollout', name: 'r', namespace: 'default' },
      },
    ],
    [
      '/apis/coordination.k8s.io/v1/namespaces/default/leases',
      {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: meta,
        spec: { holderIdentity: 'me', leaseDurationSeconds: 15 },
      },
    ],
  ];
}

const PATCH_TYPES = [
  'application/merge-patch+json',
  'application/json-patch+json',
  'application/apply-patch+yaml',
  'application/strategic-merge-patch+json',
  'application/apply-patch+cbor',
];
const QUERY = [
  'fieldValidation',
  'dryRun',
  'fieldManager',
  'labelSelector',
  'fieldSelector',
  'limit',
  'continue',
  'resourceVersion',
  'resourceVersionMatch',
  'timeoutSeconds',
  'propagationPolicy',
  'gracePeriodSeconds',
  'orphanDependents',
  'includeObject',
  'pretty',
  'force',
  'sendInitialEvents',
  'allowWatchBookmarks',
];
const QUERY_VALUES = [
  'Strict',
  'Warn',
  'Ignore',
  'All',
  'test',
  'app=web',
  'app in (a,b)',
  'metadata.name=x',
  '1',
  '0',
  '-1',
  'true',
  'NotOlderThan',
  'Exact',
  'Foreground',
  'Orphan',
  'Object',
  'None',
];
const DISCOVERY = [
  '/api',
  '/api/v1',
  '/apis',
  '/apis/fleet.iotistic.io',
  GROUP,
  '/apis/events.k8s.io/v1',
  '/apis/coordination.k8s.io/v1',
  '/openapi/v2',
  '/openapi/v3',
  `/openapi/v3${GROUP}`,
  '/version',
  '/healthz',
  '/livez',
  '/readyz',
  '/metrics',
];
const ACCEPT = [
  'application/json',
  'application/json;as=Table;v=v1;g=meta.k8s.io',
  'application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io',
  'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList',
  'application/vnd.kubernetes.protobuf',
  'application/yaml',
  '*/*',
  'text/html',
];

/** A request to the local API server: CRUD, every patch type, YAML, discovery, odd queries. */
export function apiServerAttempt(random: Random, token: string): Attempt {
  const name = random.chance(0.7) ? `fuzz-${random.int(0, 20)}` : segment(random, 'x');
  const [collection, base] = random.pick(resourceBodies(name.replace(/%|\//g, '')));
  const headers: Record<string, string> = {};
  const bearer = authorization(random, token);
  if (bearer) headers.authorization = bearer;
  if (random.chance(0.3)) headers.accept = random.pick(ACCEPT);
  const query = queryString(random);
  const roll = random.next();
  if (roll < 0.1) {
    return {
      method: 'GET',
      path: `${random.pick(DISCOVERY)}${query}`,
      headers: extraHeaders(random, headers),
      body: undefined,
    };
  }
  const status = random.chance(0.15) ? '/status' : '';
  const item = `${collection}/${name}${status}`;
  if (roll < 0.3) {
    return {
      method: random.pick(['GET', 'DELETE']),
      path: `${random.chance(0.5) ? collection : item}${query}`,
      headers: extraHeaders(random, headers),
      body: random.chance(0.1)
        ? serialize(
            random,
            { kind: 'DeleteOptions', propagationPolicy: hostileString(random) },
            false,
          )
        : undefined,
    };
  }
  const value = random.chance(0.75) ? mutate(random, base) : base;
  if (roll < 0.55) {
    const yaml = random.chance(0.4);
    headers['content-type'] = yaml
      ? 'application/yaml'
      : random.chance(0.9)
        ? 'application/json'
        : random.pick([...JSON_TYPES, 'application/vnd.kubernetes.protobuf']);
    return {
      method: random.chance(0.7) ? 'POST' : 'PUT',
      path: `${random.chance(0.7) ? collection : item}${query}`,
      headers: extraHeaders(random, headers),
      body: serialize(random, value, yaml),
    };
  }
  const type = random.pick(PATCH_TYPES);
  headers['content-type'] = type;
  const patch = type === 'application/json-patch+json' ? jsonPatch(random) : value;
  return {
    method: 'PATCH',
    path: `${item}${query}${query ? '&' : '?'}fieldManager=fuzz${random.chance(0.2) ? '&force=true' : ''}`,
    headers: extraHeaders(random, headers),
    body: serialize(random, patch, type.includes('yaml')),
  };
}

function queryString(random: Random): string {
  if (random.chance(0.5)) return '';
  const parts = Array.from({ length: random.int(1, 3) }, () => {
    const key = random.chance(0.9) ? random.pick(QUERY) : segment(random, 'k');
    const value = random.chance(0.6)
      ? random.pick(QUERY_VALUES)
      : percentEncoded(hostileString(random).slice(0, 200));
    return `${key}=${value}`;
  });
  return `?${parts.join('&')}`;
}

/** A JSON patch of a few operations with ordinary and hostile paths and values. */
function jsonPatch(random: Random): unknown {
  const paths = [
    '/spec/image',
    '/metadata/labels/a',
    '/metadata/labels',
    '/spec/selector/fleets/-',
    '/spec/selector/fleets/0',
    '/metadata/__proto__/x',
    '/status',
    '/spec',
    '',
    '/metadata/managedFields',
    '/metadata/resourceVersion',
    `/${hostileString(random)}`,
  ];
  return Array.from({ length: random.int(1, 4) }, () => ({
    op: random.pick(['add', 'remove', 'replace', 'move', 'copy', 'test', hostileString(random)]),
    path: random.pick(paths),
    from: random.pick(paths),
    value: random.chance(0.5) ? 'v' : mutate(random, { a: [1, { b: 'c' }] }),
  }));
}
