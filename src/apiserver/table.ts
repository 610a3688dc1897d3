import type { JsonObject } from './json.js';
import type { ColumnDefinition, ResourceType } from './resources/types.js';
import { humanDuration } from './schema/index.js';
import { badRequest } from './status.js';

/** `Table` answers (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`) for `kubectl get`. */

/** What each row carries besides its cells (`?includeObject=`). */
export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** A `meta.k8s.io/v1` Table. */
export interface Table {
  kind: 'Table';
  apiVersion: 'meta.k8s.io/v1';
  metadata: { resourceVersion?: string; continue?: string };
  columnDefinitions: ColumnDefinition[];
  rows: Array<{ cells: unknown[]; object?: JsonObject }>;
}

/** The Name column every kind's table starts with. */
export const NAME_COLUMN: ColumnDefinition = {
  name: 'Name',
  type: 'string',
  format: 'name',
  description:
    'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names',
  priority: 0,
};

/** Parses `?includeObject=`; the default is Metadata, as upstream. */
export function parseIncludeObject(value: string | undefined): IncludeObject {
  if (value === undefined || value === '') return 'Metadata';
  if (value === 'None' || value === 'Metadata' || value === 'Object') return value;
  throw badRequest(
    `includeObject: Unsupported value: "${value}": supported values: "None", "Metadata", "Object"`,
  );
}

/** Builds a Table of `objects`; `withColumns: false` omits the column definitions (watch events after the first). */
export function toTable(
  type: ResourceType,
  objects: JsonObject[],
  options: {
    includeObject: IncludeObject;
    now: Date;
    resourceVersion?: string;
    continueToken?: string;
    withColumns?: boolean;
  },
): Table {
  const metadata: Table['metadata'] = {};
  if (options.resourceVersion !== undefined) metadata.resourceVersion = options.resourceVersion;
  if (options.continueToken) metadata.continue = options.continueToken;
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata,
    columnDefinitions: options.withColumns === false ? [] : type.table.columns,
    rows: objects.map((object) => {
      const row: Table['rows'][number] = { cells: type.table.cells(object, options.now) };
      if (options.includeObject === 'Object') row.object = object;
      if (options.includeObject === 'Metadata') row.object = partialMetadata(object);
      return row;
    }),
  };
}

/** A `PartialObjectMetadata` of an object. */
export function partialMetadata(object: JsonObject): JsonObject {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: object.metadata };
}

/** `Age`-style rendering of a timestamp, or `<unknown>` when it is missing or malformed. */
export function timestampSince(value: unknown, now: Date): string {
  if (typeof value !== 'string' || value === '') return '<unknown>';
  const time = Date.parse(value);
  if (Number.isNaN(time)) return '<invalid>';
  return humanDuration(now.getTime() - time);
}
