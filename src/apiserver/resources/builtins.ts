import { isObject, type JsonObject } from '../json.js';
import type { JSONSchemaProps } from '../schema/index.js';
import {
  ageColumn,
  builtinResource,
  nameColumn,
  OBJECT_META_MERGE_LISTS,
  TYPE_META_PROPERTIES,
} from './define.js';
import type { ResourceType } from './types.js';

/** Name of the namespace that always exists and cannot be deleted. */
export const DEFAULT_NAMESPACE = 'default';

const NAMESPACE_SCHEMA: JSONSchemaProps = {
  type: 'object',
  description: 'Namespace provides a scope for Names.',
  properties: {
    ...TYPE_META_PROPERTIES,
    spec: {
      type: 'object',
      description: 'Spec defines the behavior of the Namespace.',
      properties: {
        finalizers: {
          type: 'array',
          items: { type: 'string' },
          description:
            'Finalizers is an opaque list of values that must be empty to permanently remove object from storage.',
        },
      },
    },
    status: {
      type: 'object',
      description: 'Status describes the current status of a Namespace.',
      properties: {
        phase: {
          type: 'string',
          enum: ['Active', 'Terminating'],
          description: 'Phase is the current lifecycle phase of the namespace.',
        },
      },
    },
  },
};

/** `v1` Namespace: cluster-scoped, `default` always exists, deletion removes its contents. */
export const namespaceResource: ResourceType = builtinResource({
  group: '',
  version: 'v1',
  kind: 'Namespace',
  plural: 'namespaces',
  singular: 'namespace',
  shortNames: ['ns'],
  namespaced: false,
  statusSubresource: true,
  dnsLabelName: true,
  schema: NAMESPACE_SCHEMA,
  strategicMergeLists: OBJECT_META_MERGE_LISTS,
  columns: [
    nameColumn,
    {
      name: 'Status',
      description: 'The status of the namespace',
      cell: (object) => (isObject(object.status) ? object.status.phase : undefined) ?? '',
    },
    ageColumn,
  ],
  selectableFields: {
    'status.phase': (object) => {
      const phase = isObject(object.status) ? object.status.phase : undefined;
      return typeof phase === 'string' ? phase : '';
    },
  },
  // Upstream's defaulting labels every namespace with its name (so the creator owns the label);
  // its strategy then adds the `kubernetes` finalizer and keeps both across updates.
  prepareForCreate: (object: JsonObject) => {
    object.status = { phase: 'Active' };
    nameLabel(object);
  },
  initializeUnmanaged: (object: JsonObject) => {
    object.spec = { ...(isObject(object.spec) ? object.spec : {}), finalizers: ['kubernetes'] };
  },
  prepareForUpdate: (next: JsonObject, current: JsonObject) => {
    nameLabel(next);
    if (current.spec === undefined) delete next.spec;
    else next.spec = current.spec;
  },
});

/** The label upstream's defaulting puts on every namespace: `kubernetes.io/metadata.name`. */
function nameLabel(object: JsonObject) {
  const metadata = isObject(object.metadata) ? object.metadata : {};
  const labels = isObject(metadata.labels) ? metadata.labels : {};
  metadata.labels = { ...labels, 'kubernetes.io/metadata.name': metadata.name };
  object.metadata = metadata;
}

const LEASE_SCHEMA: JSONSchemaProps = {
  type: 'object',
  description: 'Lease defines a lease concept.',
  properties: {
    ...TYPE_META_PROPERTIES,
    spec: {
      type: 'object',
      description: 'spec contains the specification of the Lease.',
      properties: {
        holderIdentity: {
          type: 'string',
          description: 'holderIdentity contains the identity of the holder of a current lease.',
        },
        leaseDurationSeconds: {
          type: 'integer',
          format: 'int32',
          minimum: 1,
          description:
            'leaseDurationSeconds is a duration that candidates for a lease need to wait to force acquire it.',
        },
        acquireTime: {
          type: 'string',
          format: 'date-time',
          description: 'acquireTime is a time when the current lease was acquired.',
        },
        renewTime: {
          type: 'string',
          format: 'date-time',
          description:
            'renewTime is a time when the current holder of a lease has last updated the lease.',
        },
        leaseTransitions: {
          type: 'integer',
          format: 'int32',
          minimum: 0,
          description: 'leaseTransitions is the number of transitions of a lease between holders.',
        },
        strategy: {
          type: 'string',
          description:
            'Strategy indicates the strategy for picking the leader for coordinated leader election.',
        },
        preferredHolder: {
          type: 'string',
          description:
            'PreferredHolder signals to a lease holder that the lease has a more optimal holder.',
        },
      },
    },
  },
};

/** `coordination.k8s.io/v1` Lease, for leader election. */
export const leaseResource: ResourceType = builtinResource({
  group: 'coordination.k8s.io',
  version: 'v1',
  kind: 'Lease',
  plural: 'leases',
  singular: 'lease',
  shortNames: [],
  namespaced: true,
  schema: LEASE_SCHEMA,
  microTimes: ['spec.acquireTime', 'spec.renewTime'],
  allowCreateOnUpdate: true,
  // Upstream's Lease strategy refuses a replace that names no resourceVersion.
  unconditionalUpdate: false,
  strategicMergeLists: OBJECT_META_MERGE_LISTS,
  columns: [
    nameColumn,
    {
      name: 'Holder',
      description: 'The holder of the lease',
      cell: (object) => (isObject(object.spec) ? (object.spec.holderIdentity ?? '') : ''),
    },
    ageColumn,
  ],
});
