import type { JsonObject } from './json.js';
import type { ColumnDefinition, ResourceType } from './resources/types.js';
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
  throw badRequest(`includeObject: Unsupported value: "${value}": supported values: "None", "Metadata", "Object"`);
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

/** Renders a duration in milliseconds as Kubernetes' `duration.HumanDuration` does (`5m10s`, `3d4h`). */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 10) return withRest(minutes, 'm', seconds % 60, 's');
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.trunc(minutes / 60);
  if (hours < 8) return withRest(hours, 'h', minutes % 60, 'm');
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return withRest(Math.trunc(hours / 24), 'd', hours % 24, 'h');
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24)}d`;
  const years = Math.trunc(hours / 24 / 365);
  if (hours < 24 * 365 * 8) return withRest(years, 'y', Math.trunc(hours / 24) % 365, 'd');
  return `${years}y`;
}

function withRest(major: number, majorUnit: string, minor: number, minorUnit: string): string {
  return minor === 0 ? `${major}${majorUnit}` : `${major}${majorUnit}${minor}${minorUnit}`;
}

/**
 * Converts a printer column's raw value to its cell as the CRD table convertor does: typed
 * values must match the column type (else the cell is empty), dates become ages.
 */
export function cellForValue(type: string, value: unknown, now: Date): unknown {
  if (value === undefined || value === null) return null;
  switch (type) {
    case 'integer':
      return typeof value === 'number' ? Math.trunc(value) : null;
    case 'number':
      return typeof value === 'number' ? value : null;
    case 'boolean':
      return typeof value === 'boolean' ? value : null;
    case 'date':
      return typeof value === 'string' ? timestampSince(value, now) : null;
    default:
      return typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
}
