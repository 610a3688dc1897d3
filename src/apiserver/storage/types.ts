import type { StoredObject } from '../../db/schema/apiserver.js';

export type { StoredObject } from '../../db/schema/apiserver.js';

/** Identifies one stored object; `namespace` is '' for cluster-scoped objects. */
export interface ObjectKey {
  resource: string;
  namespace: string;
  name: string;
}

/** The kind of a change, as watch events name it. */
export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One entry of the change log. */
export interface Change extends ObjectKey {
  resourceVersion: number;
  type: ChangeType;
  object: StoredObject;
  prevObject: StoredObject | null;
}

/** Which objects a list reads: one resource, optionally one namespace, after a key, filtered. */
export interface ListQuery {
  resource: string;
  namespace?: string;
  /** Start after this (namespace, name), exclusive: the position a continue token holds. */
  after?: { namespace: string; name: string };
  /** At most this many objects that pass `filter`. */
  limit?: number;
  filter?: (object: StoredObject) => boolean;
}

/** One page of a list, at the resourceVersion it is consistent with. */
export interface ListPage {
  objects: StoredObject[];
  resourceVersion: number;
  /** More objects may follow the last one returned. */
  more: boolean;
}
