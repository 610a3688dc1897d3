/**
 * The documented difference (an id of docs/apiserver-differences.md) each corpus request is
 * expected to show, by `<area> › <request>`. A request not named here must answer identically.
 */

const AGGREGATED = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

const area = (name: string, entries: Record<string, string[]>) =>
  Object.entries(entries).flatMap(([id, requests]) =>
    requests.map((request) => [`${name} › ${request}`, id] as const),
  );

/** Request label → documented difference id. */
export const EXPECTED: Record<string, string> = Object.fromEntries([
  ...area('discovery', {
    'namespace-deletecollection': ['GET /api/v1', 'GET /api/v1/'],
    'unknown-path-404': ['GET /api/v2'],
    'aggregated-discovery-details': [
      `GET /api (${AGGREGATED},application/json)`,
      `GET /apis (${AGGREGATED},application/json)`,
    ],
    'aggregated-discovery-v2beta1': [`GET /apis (${AGGREGATED.replace('v=v2', 'v=v2beta1')})`],
    'version-document': ['GET /version'],
    'openapi-v3-media-type': ['GET /openapi/v3'],
  }),
  ...area('create, read, replace, delete', {
    'wrong-apiversion-warning': ['create with the wrong apiVersion: 400'],
    'decode-error-wording': [
      'create with malformed JSON: 400',
      'delete with a malformed DeleteOptions body: 400',
    ],
    'not-acceptable-media-types': ['get asking only for XML: 406'],
    'yaml-1-2-scalars': ['create from YAML with a YAML 1.1 boolean as an annotation (dry run)'],
    'post-on-item': ['POST on an item: 405', 'POST on /status: 405'],
    'unknown-subresource-404': ['an unknown subresource: 404'],
    'options-validation-code': ['delete with an unknown propagationPolicy: 422'],
    'deletecollection-response': ['delete a collection'],
  }),
  ...area('patches', {
    'json-patch-errors': [
      'JSON patch: a failing test op',
      'JSON patch: remove a missing path',
      'JSON patch: replace a missing path',
      'JSON patch: an unknown op',
      'JSON patch: move and copy',
    ],
    'decode-error-wording': ['JSON patch: not an array', 'merge patch: malformed JSON'],
    'empty-annotations-after-merge': [
      'merge patch: add a label, drop an annotation',
      'merge patch: replace a list',
    ],
    'builtin-managed-fields-dot': [
      'create a lease',
      'strategic merge patch: $deleteFromPrimitiveList',
      'merge patch of a lease',
    ],
    'smp-primitive-list-order': [
      'strategic merge patch of a lease',
      'strategic merge patch: $patch delete of a label map',
    ],
    'patch-type-error-wording': ['strategic merge patch: a type error'],
  }),
  ...area('server-side apply', {
    'options-validation-code': ['apply without a field manager: 400'],
    'decode-error-wording': ['apply with invalid YAML: 400'],
  }),
  ...area('field validation', {
    'duplicate-fields': [
      'Strict: create with duplicate fields',
      'Strict: create from YAML with a duplicate and an unknown field',
      'Strict: apply with a duplicate field',
      'Warn: create with duplicate fields',
      'Warn: create from YAML with a duplicate and an unknown field',
      'Warn: apply with a duplicate field',
      'Ignore: create from YAML with a duplicate and an unknown field',
      'Ignore: apply with a duplicate field',
    ],
    'strict-patch-unknown-field': [
      'Strict: merge patch with an unknown field',
      'Strict: JSON patch adding an unknown field',
    ],
    'apply-unknown-field-500': [
      'Strict: apply with an unknown field',
      'Warn: apply with an unknown field',
      'Ignore: apply with an unknown field',
    ],
    'update-check-order': [
      'Strict: replace with an unknown field',
      'Warn: replace with an unknown field',
    ],
    'options-validation-code': ['an unsupported fieldValidation: 400'],
  }),
  ...area('dry runs', {
    'deletecollection-response': ['dry-run delete of a collection'],
    'options-validation-code': [
      'an unsupported dryRun value: 400',
      'an unsupported dryRun in DeleteOptions',
    ],
  }),
  ...area('lists', {
    'list-options-wording': [
      'an unknown resourceVersionMatch: 400',
      'a resourceVersion that is not a number: 400',
      'label selector tier in (web',
      'label selector Bad Key=x',
      'a garbage continue token: 400',
    ],
    'cluster-list-order': ['a cluster-wide list by label'],
    'remaining-item-count': [
      'page 1 of limit 2',
      'page 2',
      'a Table, paged',
      'save a page before compaction',
      'continue a compacted list: 410',
    ],
    'limit-at-resource-version-0': ['limit with resourceVersion 0 (served whole)'],
    'table-column-descriptions': [
      'a Table',
      'a Table with includeObject=Object',
      'a Table with includeObject=None',
      'a Table of namespaces by label',
    ],
    'table-of-one-object': ['a Table of one object', 'Table or JSON: the server picks the Table'],
    'not-acceptable-media-types': ['an unknown Table version: 406'],
    'compaction-window': ['list at a compacted version, Exact: 410'],
  }),
  ...area('watches', {
    'send-initial-events-bookmarks': ['sendInitialEvents without bookmarks: 422'],
    'watch-too-large-resource-version': ['watch a too-large version'],
    'list-options-wording': ['watch with resourceVersionMatch=Exact: 422'],
    'table-column-descriptions': ['watch as Table'],
    'compaction-window': ['watch from a compacted version: 410'],
  }),
  ...area('built-in kinds', {
    'builtin-list-item-type-meta': [
      'list namespaces by label',
      'list namespaces by name field',
      'list namespaces by status.phase and label',
    ],
    'table-column-descriptions': [
      'a Table of namespaces',
      'a Table of leases',
      'a Table of core Events',
      'a Table of events.k8s.io Events',
    ],
    'decode-error-wording': ['a namespace with the wrong kind: 400'],
    'builtin-managed-fields-dot': [
      'create a lease',
      'create a lease with microsecond times',
      'replace a missing lease: 404',
      'list leases',
      'create an events.k8s.io Event',
      'read it back through the core group',
      'create a core Event',
      'read it back through events.k8s.io',
      'list core Events by involvedObject.name',
      'list events.k8s.io Events by regarding.name',
      'update an events.k8s.io Event series',
    ],
    'builtin-validation-wording': [
      'create a lease with an invalid duration: 422',
      'create an events.k8s.io Event without eventTime: 422',
      'create an events.k8s.io Event with a bad type: 422',
    ],
  }),
  ...area('finalizers, garbage collection, namespaces', {
    'finalizer-validation-wording': [
      'a new finalizer while deleting: 422',
      'create with a malformed finalizer: 422',
    ],
    'owner-reference-validation': ['create with a duplicate ownerReference controller: 422'],
    'builtin-managed-fields-dot': [
      'Background: create the dependent',
      'Foreground: create the dependent',
      'Orphan: create the dependent',
    ],
    'orphan-managed-fields': ['Orphan: the dependent'],
    'synchronous-garbage-collection': ['Foreground: delete the owner', 'Orphan: delete the owner'],
    'namespace-deletion-grace-period': ['delete the namespace'],
  }),
  ...area('clients', {
    'builtin-managed-fields-dot': [
      'python › CoordinationV1Api.create_namespaced_lease',
      'python › CoordinationV1Api.read_namespaced_lease',
      'python › CoordinationV1Api.replace_namespaced_lease',
      'ruby › create_lease',
      'ruby › get_lease',
      'ruby › update_lease',
    ],
    'builtin-list-item-type-meta': [
      'python › CoreV1Api.list_namespace by label',
      'ruby › get_namespaces by label',
      'ruby › get_leases',
    ],
    'events-deprecated-source': [
      'python › EventsV1Api.create_namespaced_event',
      'python › EventsV1Api.read_namespaced_event',
      'python › EventsV1Api.list_namespaced_event by regarding.name',
    ],
  }),
]);
