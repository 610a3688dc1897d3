import type { ServedCrd } from '../schema/index.js';
import { leaseResource, namespaceResource } from './builtins.js';
import { customResource } from './define.js';
import { coreEventResource, eventResource } from './events.js';
import { secretResource } from './secrets.js';
import type { ResourceType } from './types.js';

/** One served group-version and its resources. */
export interface GroupVersion {
  group: string;
  version: string;
  resources: ResourceType[];
}

/** Every served resource: the CRDs' kinds plus Namespace, Secret, Lease and Event. */
export class ResourceRegistry {
  readonly types: ResourceType[];
  /** Served group-versions in discovery order: the core group first, then by group name. */
  readonly groupVersions: readonly GroupVersion[];
  private readonly byPath = new Map<string, ResourceType>();

  constructor(crds: ServedCrd[]) {
    this.types = [
      namespaceResource,
      coreEventResource,
      secretResource,
      leaseResource,
      eventResource,
      ...crds.map(customResource),
    ];
    for (const type of this.types) {
      this.byPath.set(`${type.group}/${type.version}/${type.plural}`, type);
    }
    this.groupVersions = byGroupVersion(this.types);
  }

  /** The type served at `/apis/<group>/<version>/<plural>` (group '' for `/api/v1`). */
  find(group: string, version: string, plural: string): ResourceType | undefined {
    return this.byPath.get(`${group}/${version}/${plural}`);
  }

  /** The Namespace type. */
  get namespaces(): ResourceType {
    return namespaceResource;
  }

  /** The group-version, if served. */
  groupVersion(group: string, version: string): GroupVersion | undefined {
    return this.groupVersions.find((gv) => gv.group === group && gv.version === version);
  }
}

/** Built-in groups in upstream's discovery order; custom resource groups follow, by name. */
const BUILTIN_GROUP_ORDER = ['', 'events.k8s.io', 'coordination.k8s.io'];

/** The types grouped by group-version in upstream's discovery order, then by version. */
function byGroupVersion(types: ResourceType[]): GroupVersion[] {
  const result = new Map<string, GroupVersion>();
  for (const type of types) {
    const key = `${type.group}/${type.version}`;
    const entry = result.get(key) ?? { group: type.group, version: type.version, resources: [] };
    entry.resources.push(type);
    result.set(key, entry);
  }
  const rank = (group: string) => {
    const index = BUILTIN_GROUP_ORDER.indexOf(group);
    return index < 0 ? BUILTIN_GROUP_ORDER.length : index;
  };
  return [...result.values()].sort(
    (a, b) =>
      rank(a.group) - rank(b.group) ||
      a.group.localeCompare(b.group) ||
      a.version.localeCompare(b.version),
  );
}
