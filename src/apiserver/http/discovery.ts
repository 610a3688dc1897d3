import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { GroupVersion, ResourceRegistry } from '../resources/registry.js';
import { apiVersionOf, type ResourceType } from '../resources/types.js';
import { pathNotFound } from '../status.js';
import { aggregatedDiscoveryVersion, sendAs } from './negotiate.js';

/**
 * Discovery: `/version`, `/api`, `/api/v1`, `/apis`, `/apis/<group>[/<version>]`, in both the
 * legacy documents and the aggregated `apidiscovery.k8s.io` lists kubectl ≥ 1.30 asks for.
 */

/**
 * The version reported at `/version`: the kube-apiserver release the local server is judged
 * against (test/cluster/kubernetes), so kubectl's version skew checks see what they would there.
 */
export const SERVER_VERSION = {
  major: '1',
  minor: '37',
  gitVersion: 'v1.37.2',
  gitCommit: 'fleet-rollout-local-apiserver',
  gitTreeState: 'clean',
  buildDate: '2025-01-01T00:00:00Z',
  goVersion: 'go1.26',
  compiler: 'gc',
  platform: 'linux/amd64',
};

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
/** Upstream's apiextensions server lists a custom resource's verbs in this order. */
const CUSTOM_VERBS = [
  'delete',
  'deletecollection',
  'get',
  'list',
  'patch',
  'create',
  'update',
  'watch',
];
const STATUS_VERBS = ['get', 'patch', 'update'];

const verbsOf = (type: ResourceType) => (type.custom ? CUSTOM_VERBS : VERBS);

/**
 * Upstream's `storageVersionHash`: the first 8 bytes of SHA-256 of the stored `group/version/kind`,
 * base64. Both Event views are stored as core `v1` Events.
 */
function storageVersionHash(type: ResourceType): string {
  const stored = type.kind === 'Event' ? '/v1/Event' : `${type.group}/${type.version}/${type.kind}`;
  return createHash('sha256').update(stored).digest().subarray(0, 8).toString('base64');
}

function legacyResources(gv: GroupVersion) {
  const sorted = [...gv.resources].sort((a, b) => a.plural.localeCompare(b.plural));
  return sorted.flatMap((type) => {
    const main = {
      name: type.plural,
      singularName: type.singular,
      namespaced: type.namespaced,
      kind: type.kind,
      verbs: verbsOf(type),
      ...(type.shortNames.length ? { shortNames: type.shortNames } : {}),
      ...(type.categories.length ? { categories: type.categories } : {}),
      storageVersionHash: storageVersionHash(type),
    };
    if (!type.statusSubresource) return [main];
    const status = {
      name: `${type.plural}/status`,
      singularName: '',
      namespaced: type.namespaced,
      kind: type.kind,
      verbs: STATUS_VERBS,
    };
    return [main, status];
  });
}

/** The `APIResourceList` of one group-version. */
function resourceList(gv: GroupVersion) {
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: apiVersionOf(gv),
    resources: legacyResources(gv),
  };
}

function apiGroup(name: string, versions: GroupVersion[]) {
  const entries = versions.map((gv) => ({ groupVersion: apiVersionOf(gv), version: gv.version }));
  return { name, versions: entries, preferredVersion: entries[0] };
}

function discoveryResource(type: ResourceType) {
  const responseKind = { group: type.group, version: type.version, kind: type.kind };
  return {
    resource: type.plural,
    responseKind,
    scope: type.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: type.singular,
    verbs: verbsOf(type),
    ...(type.shortNames.length ? { shortNames: type.shortNames } : {}),
    ...(type.categories.length ? { categories: type.categories } : {}),
    ...(type.statusSubresource
      ? { subresources: [{ subresource: 'status', responseKind, verbs: STATUS_VERBS }] }
      : {}),
  };
}

/** Group-versions by group name, in the given order. */
function byGroup(groupVersions: GroupVersion[]): Map<string, GroupVersion[]> {
  const groups = new Map<string, GroupVersion[]>();
  for (const gv of groupVersions) groups.set(gv.group, [...(groups.get(gv.group) ?? []), gv]);
  return groups;
}

/** An aggregated `APIGroupDiscoveryList` of the given group-versions. */
function groupDiscoveryList(version: string, groupVersions: GroupVersion[]) {
  const groups = byGroup(groupVersions);
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: `apidiscovery.k8s.io/${version}`,
    metadata: {},
    items: [...groups].map(([group, versions]) => ({
      metadata: group ? { name: group } : {},
      versions: versions.map((gv) => ({
        version: gv.version,
        resources: gv.resources.map(discoveryResource),
        freshness: 'Current',
      })),
    })),
  };
}

function sendAggregated(reply: FastifyReply, version: string, groupVersions: GroupVersion[]) {
  const contentType = `application/json;g=apidiscovery.k8s.io;v=${version};as=APIGroupDiscoveryList`;
  return sendAs(
    reply.header('Vary', 'Accept'),
    contentType,
    groupDiscoveryList(version, groupVersions),
  );
}

/** Registers a discovery route with and without a trailing slash, as upstream serves both. */
function getBoth<P = Record<string, string>>(
  app: FastifyInstance,
  url: string,
  handler: (request: FastifyRequest<{ Params: P }>, reply: FastifyReply) => Promise<unknown>,
) {
  for (const path of [url, `${url}/`]) app.get<{ Params: P }>(path, handler);
}

/** Registers the discovery routes. */
export function registerDiscovery(app: FastifyInstance, registry: ResourceRegistry) {
  const core = registry.groupVersions.filter((gv) => gv.group === '');
  const named = registry.groupVersions.filter((gv) => gv.group !== '');

  app.get('/version', async () => SERVER_VERSION);
  getBoth(app, '/api', async (request: FastifyRequest, reply) => {
    const aggregated = aggregatedDiscoveryVersion(request.headers.accept);
    if (aggregated) return sendAggregated(reply, aggregated, core);
    reply.header('Vary', 'Accept');
    const address = request.host;
    return {
      kind: 'APIVersions',
      versions: core.map((gv) => gv.version),
      serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: address }],
    };
  });
  getBoth(app, '/apis', async (request: FastifyRequest, reply) => {
    const aggregated = aggregatedDiscoveryVersion(request.headers.accept);
    if (aggregated) return sendAggregated(reply, aggregated, named);
    reply.header('Vary', 'Accept');
    return {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: [...byGroup(named)].map(([name, versions]) => apiGroup(name, versions)),
    };
  });
  // The served types are fixed at start: each group-version's resource list is built once.
  const lists = new Map(registry.groupVersions.map((gv) => [apiVersionOf(gv), resourceList(gv)]));
  getBoth(app, '/api/v1', async () => lists.get('v1'));
  getBoth<{ group: string }>(app, '/apis/:group', async (request) => {
    const versions = named.filter((gv) => gv.group === request.params.group);
    if (versions.length === 0) throw pathNotFound();
    return { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(request.params.group, versions) };
  });
  getBoth<{ group: string; version: string }>(app, '/apis/:group/:version', async (request) => {
    const gv = registry.groupVersion(request.params.group, request.params.version);
    if (!gv || gv.group === '') throw pathNotFound();
    return lists.get(apiVersionOf(gv));
  });
}
