import { http, type Json, type Step } from '../steps.js';

/** The groups both servers serve: the comparison keeps only these from discovery documents. */
const SHARED_GROUPS = ['fleet.iotistic.io', 'events.k8s.io', 'coordination.k8s.io'];
/** The core resources both servers serve. */
const SHARED_CORE = ['namespaces', 'namespaces/status', 'events'];
const AGGREGATED = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

const groupsOnly = (body: Json) => ({
  ...body,
  groups: (body.groups ?? []).filter((group: Json) => SHARED_GROUPS.includes(group.name)),
});
const aggregatedGroups = (body: Json) => ({
  ...body,
  metadata: {},
  items: (body.items ?? [])
    .filter((item: Json) => SHARED_GROUPS.includes(item.metadata?.name))
    .map((item: Json) => ({
      ...item,
      // Each server lists the versions it serves of the group; both serve v1 of these.
      versions: item.versions.filter((v: Json) => v.version === 'v1' || v.version === 'v1alpha1'),
    })),
});
const coreOnly = (body: Json) => ({
  ...body,
  resources: (body.resources ?? []).filter((r: Json) => SHARED_CORE.includes(r.name)),
});
const aggregatedCore = (body: Json) => ({
  ...body,
  metadata: {},
  items: (body.items ?? []).map((item: Json) => ({
    ...item,
    versions: item.versions.map((v: Json) => ({
      ...v,
      resources: v.resources.filter((r: Json) => SHARED_CORE.includes(r.resource)),
    })),
  })),
});

const get = (path: string, select?: (body: Json) => unknown, accept?: string, expected?: string) =>
  http(
    `GET ${path}${accept ? ` (${accept})` : ''}`,
    { method: 'GET', path, ...(accept ? { accept } : {}) },
    { ...(select ? { select } : {}), ...(expected ? { expected } : {}) },
  );

/** kube-apiserver lists custom resources in CRD registration order, which varies: sort both. */
const byName = (body: Json) => ({
  ...body,
  resources: [...(body.resources ?? [])].sort((a: Json, b: Json) => a.name.localeCompare(b.name)),
});

/** Discovery documents, legacy and aggregated, with and without trailing slashes. */
export const discovery: Step[] = [
  get('/api', (body) => ({ ...body, serverAddressByClientCIDRs: '<addresses>' })),
  get('/api/', (body) => ({ ...body, serverAddressByClientCIDRs: '<addresses>' })),
  get('/api/v1', coreOnly),
  get('/api/v1/', coreOnly),
  get('/apis', groupsOnly),
  get('/apis/', groupsOnly),
  ...SHARED_GROUPS.flatMap((group) => [
    get(`/apis/${group}`),
    get(`/apis/${group}/`),
    get(`/apis/${group}/${group === 'fleet.iotistic.io' ? 'v1alpha1' : 'v1'}`, byName),
    get(`/apis/${group}/${group === 'fleet.iotistic.io' ? 'v1alpha1' : 'v1'}/`, byName),
  ]),
  get('/apis/no.such.group'),
  get('/apis/fleet.iotistic.io/v9'),
  get('/api/v2'),
  get('/api', aggregatedCore, `${AGGREGATED},application/json`),
  get('/apis', aggregatedGroups, `${AGGREGATED},application/json`),
  get('/apis', aggregatedGroups, AGGREGATED.replace('v=v2', 'v=v2beta1')),
  get(
    '/apis',
    groupsOnly,
    'application/json;g=apidiscovery.k8s.io;v=v9;as=APIGroupDiscoveryList,application/json',
  ),
  get('/version', (body) => Object.keys(body).sort()),
  get('/openapi/v3', (body) => ({
    paths: Object.fromEntries(
      Object.entries(body.paths ?? {})
        .filter(([path]) =>
          SHARED_GROUPS.some(
            (group) =>
              path === `apis/${group}/${group === 'fleet.iotistic.io' ? 'v1alpha1' : 'v1'}`,
          ),
        )
        .map(([path]) => [path, '<hash>']),
    ),
  })),
  get('/healthz'),
  get('/readyz'),
  get('/livez'),
];
