import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';

/*
 * Least privilege, measured: what a user really did according to the API server's audit log,
 * against what the RBAC objects of deploy/ grant its ServiceAccount.
 */

/** One permission: API group (`''` is core), resource (`leases`, `imagerollouts/status`), verb. */
export interface Permission {
  apiGroup: string;
  resource: string;
  verb: string;
}

/** How a user exercised one permission, from the audit log. */
export interface Usage extends Permission {
  requests: number;
  /** Requests answered 403 Forbidden: a missing grant. */
  forbidden: number;
  /** Namespaces of the requests (`*` for every namespace: a cluster-wide list or watch). */
  namespaces: string[];
  /** Object names of the requests, where the request named one. */
  names: string[];
}

/** One RBAC grant reaching a ServiceAccount through a binding. */
export interface Grant extends Permission {
  /** Where it applies: a RoleBinding's namespace, or `*` (ClusterRoleBinding). */
  namespace: string;
  /** The rule's resourceNames; empty means any name. */
  resourceNames: string[];
}

interface AuditEvent {
  auditID: string;
  stage: string;
  verb: string;
  user?: { username?: string };
  objectRef?: {
    apiGroup?: string;
    resource?: string;
    subresource?: string;
    namespace?: string;
    name?: string;
  };
  responseStatus?: { code?: number };
}

/** The permission key used to compare usage with grants. */
const permissionKey = (p: Permission) => `${p.apiGroup || 'core'} ${p.resource} ${p.verb}`;

/**
 * Every resource request `username` made, from a JSON-lines audit log, grouped by permission.
 * Each request counts once (its final stage); requests to non-resource URLs are returned apart.
 */
export async function auditedUsage(
  auditLog: string,
  username: string,
): Promise<{ usage: Usage[]; nonResource: string[] }> {
  const text = await readFile(auditLog, 'utf8');
  const finals = new Map<string, AuditEvent>();
  for (const line of text.split('\n')) {
    if (!line.includes(username)) continue;
    const event = JSON.parse(line) as AuditEvent;
    if (event.user?.username !== username) continue;
    if (event.stage === 'ResponseComplete' || event.stage === 'Panic' || !finals.has(event.auditID))
      finals.set(event.auditID, event);
  }
  const usage = new Map<string, Usage>();
  const nonResource = new Set<string>();
  for (const event of finals.values()) {
    const ref = event.objectRef;
    if (!ref?.resource) {
      nonResource.add(event.verb);
      continue;
    }
    const permission = {
      apiGroup: ref.apiGroup ?? '',
      resource: ref.subresource ? `${ref.resource}/${ref.subresource}` : ref.resource,
      verb: event.verb,
    };
    const key = permissionKey(permission);
    const entry = usage.get(key) ?? {
      ...permission,
      requests: 0,
      forbidden: 0,
      namespaces: [],
      names: [],
    };
    entry.requests++;
    if (event.responseStatus?.code === 403) entry.forbidden++;
    addOnce(entry.namespaces, ref.namespace ?? '*');
    if (ref.name) addOnce(entry.names, ref.name);
    usage.set(key, entry);
  }
  return { usage: [...usage.values()].sort(byKey), nonResource: [...nonResource].sort() };
}

/** The grants that deploy/'s bindings give ServiceAccount `namespace/account`, from kustomize. */
export async function deployedGrants(namespace: string, account: string): Promise<Grant[]> {
  const { stdout } = await promisify(execFile)('kubectl', ['kustomize', 'deploy/'], {
    maxBuffer: 16 * 1024 * 1024,
  });
  // biome-ignore lint/suspicious/noExplicitAny: rendered manifests are untyped YAML
  const manifests: any[] = parseAllDocuments(stdout).map((document) => document.toJS());
  const grants: Grant[] = [];
  for (const binding of manifests) {
    if (binding.kind !== 'RoleBinding' && binding.kind !== 'ClusterRoleBinding') continue;
    const bound = (binding.subjects ?? []).some(
      // biome-ignore lint/suspicious/noExplicitAny: see above
      (s: any) => s.kind === 'ServiceAccount' && s.name === account && s.namespace === namespace,
    );
    if (!bound) continue;
    const role = manifests.find(
      (m) => m.kind === binding.roleRef.kind && m.metadata.name === binding.roleRef.name,
    );
    if (!role)
      throw new Error(`${binding.kind} ${binding.metadata.name}: its role is not in deploy/`);
    const scope = binding.kind === 'RoleBinding' ? binding.metadata.namespace : '*';
    for (const rule of role.rules ?? []) {
      for (const apiGroup of rule.apiGroups)
        for (const resource of rule.resources)
          for (const verb of rule.verbs)
            grants.push({
              apiGroup,
              resource,
              verb,
              namespace: scope,
              resourceNames: rule.resourceNames ?? [],
            });
    }
  }
  return grants.sort(byKey);
}

/** A fixed-width table of usage and grants, one row per permission, for the test's output. */
export function verbTable(user: string, usage: Usage[], grants: Grant[]): string {
  const keys = [...new Set([...usage, ...grants].map(permissionKey))].sort();
  const rows = keys.map((key) => {
    const used = usage.find((u) => permissionKey(u) === key);
    const granted = grants.filter((g) => permissionKey(g) === key);
    const scope = granted
      .map((g) => `${g.namespace}${g.resourceNames.length ? `:${g.resourceNames.join(',')}` : ''}`)
      .join(' ');
    return [
      ...key.split(' '),
      used ? String(used.requests) : '0',
      used ? String(used.forbidden) : '-',
      used ? used.namespaces.join(',') : '-',
      scope || 'NOT GRANTED',
    ];
  });
  const header = ['GROUP', 'RESOURCE', 'VERB', 'REQUESTS', '403', 'NAMESPACES', 'GRANTED IN'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const format = (row: string[]) => row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ');
  return [user, format(header), ...rows.map(format)].join('\n');
}

/** What differs between what a user did and what it was granted; all empty is least privilege. */
export interface PrivilegeFindings {
  /** Permissions with a request answered 403. */
  forbidden: string[];
  /** Permissions used that no grant of deploy/ names (so something else allowed or refused them). */
  notGranted: string[];
  /** Permissions granted and never used. */
  unused: string[];
  /** Namespaces or object names reached outside the grant's namespace or resourceNames. */
  outOfScope: string[];
  /** Verbs on non-resource URLs (discovery, /version), which deploy/ does not grant. */
  nonResource: string[];
}

/** Compares audited usage with the grants: see PrivilegeFindings. */
export function privilegeFindings(
  usage: Usage[],
  grants: Grant[],
  nonResource: string[],
): PrivilegeFindings {
  const used = usage.map(permissionKey);
  const granted = [...new Set(grants.map(permissionKey))].sort();
  return {
    forbidden: usage.filter((entry) => entry.forbidden > 0).map(permissionKey),
    notGranted: used.filter((key) => !granted.includes(key)),
    unused: granted.filter((key) => !used.includes(key)),
    outOfScope: usage.flatMap((entry) => outsideGrants(entry, grants)),
    nonResource,
  };
}

/** Namespaces and names `used` reached that no grant of its permission covers. */
function outsideGrants(used: Usage, grants: Grant[]): string[] {
  const covering = grants.filter((grant) => permissionKey(grant) === permissionKey(used));
  if (covering.length === 0) return [];
  const inScope = (namespace: string) =>
    covering.some((grant) => grant.namespace === '*' || grant.namespace === namespace);
  const named = (name: string) =>
    covering.some(
      (grant) => grant.resourceNames.length === 0 || grant.resourceNames.includes(name),
    );
  const where = permissionKey(used);
  return [
    ...used.namespaces.filter((namespace) => !inScope(namespace)).map((n) => `${where} in ${n}`),
    ...used.names.filter((name) => !named(name)).map((name) => `${where} of ${name}`),
  ];
}

function addOnce(list: string[], value: string): void {
  if (!list.includes(value)) list.push(value);
}

function byKey(a: Permission, b: Permission): number {
  return permissionKey(a).localeCompare(permissionKey(b));
}
