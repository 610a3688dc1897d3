import { typeOfSchema } from '../fields/types.js';
import { isObject, type JsonObject } from '../json.js';
import { fieldError } from '../schema/field-errors.js';
import {
  admitCustomResource,
  evaluatePrinterColumn,
  type FieldError,
  type JSONSchemaProps,
  type ServedCrd,
} from '../schema/index.js';
import { NAME_COLUMN, timestampSince } from '../table.js';
import { OBJECT_META_SCHEMA, validateObjectMeta } from './object-meta.js';
import type { ColumnDefinition, ResourceType } from './types.js';

/** The schema with `metadata` described as `ObjectMeta`, as apply and discovery need it. */
export function withObjectMeta(schema: JSONSchemaProps): JSONSchemaProps {
  return { ...schema, properties: { ...schema.properties, metadata: OBJECT_META_SCHEMA } };
}

/** The `apiVersion`, `kind` and `metadata` properties every built-in kind's schema starts with. */
export const TYPE_META_PROPERTIES: Record<string, JSONSchemaProps> = {
  apiVersion: {
    type: 'string',
    description: 'APIVersion defines the versioned schema of this representation of an object.',
  },
  kind: {
    type: 'string',
    description: 'Kind is a string value representing the REST resource this object represents.',
  },
  metadata: { type: 'object' },
};

/** Serves one version of a CustomResourceDefinition. */
export function customResource(crd: ServedCrd): ResourceType {
  const columns: ColumnDefinition[] = [
    NAME_COLUMN,
    ...crd.printerColumns.map((column) => ({
      name: column.name,
      type: column.type,
      format: column.format ?? '',
      description: column.description ?? '',
      priority: column.priority ?? 0,
    })),
  ];
  return {
    ...names(crd),
    listKind: crd.listKind,
    statusSubresource: crd.statusSubresource,
    storage: storageKey(crd),
    schema: crd.schema,
    fieldType: typeOfSchema(withObjectMeta(crd.schema)),
    admit: (object, options) => {
      const result = admitCustomResource(crd, object, options);
      if (!isObject(result.object)) return result;
      return { ...result, errors: [...result.errors, ...validateObjectMeta(result.object)] };
    },
    table: {
      columns,
      cells: (object, now) => [
        metadataOf(object).name,
        ...crd.printerColumns.map((column) => evaluatePrinterColumn(column, object, now)),
      ],
    },
    selectableFields: {},
    custom: true,
    generation: true,
    allowCreateOnUpdate: false,
    unconditionalUpdate: false,
  };
}

/** A table column of a built-in kind and how to compute its cell. */
export interface BuiltinColumn {
  name: string;
  type?: string;
  description: string;
  priority?: number;
  format?: string;
  cell(object: JsonObject, now: Date): unknown;
}

/** What a built-in kind declares; `define` fills in the rest. */
export interface BuiltinDefinition
  extends Pick<
    ResourceType,
    'group' | 'version' | 'kind' | 'plural' | 'singular' | 'shortNames' | 'namespaced'
  > {
  schema: JSONSchemaProps;
  columns: BuiltinColumn[];
  statusSubresource?: boolean;
  storage?: string;
  categories?: string[];
  /** Checks beyond the schema, like upstream's hand-written validation. */
  validate?(object: JsonObject): FieldError[];
  /** Dotted paths of `metav1.MicroTime` fields, which need six fractional digits. */
  microTimes?: string[];
  dnsLabelName?: boolean;
  allowCreateOnUpdate?: boolean;
  /** Whether a PUT may leave out the resourceVersion (default true, as for most built-in kinds). */
  unconditionalUpdate?: boolean;
  selectableFields?: ResourceType['selectableFields'];
  strategicMergeLists?: ResourceType['strategicMergeLists'];
  convert?: ResourceType['convert'];
  prepareForCreate?: ResourceType['prepareForCreate'];
  initializeUnmanaged?: ResourceType['initializeUnmanaged'];
  prepareForUpdate?: ResourceType['prepareForUpdate'];
}

/** Serves a built-in kind: schema admission (pruning, types) plus its own checks, no CEL. */
export function builtinResource(definition: BuiltinDefinition): ResourceType {
  const named = names({ ...definition, categories: definition.categories ?? [] });
  return {
    ...named,
    statusSubresource: definition.statusSubresource ?? false,
    storage: definition.storage ?? storageKey(definition),
    schema: definition.schema,
    fieldType: typeOfSchema(withObjectMeta(definition.schema)),
    admit: builtinAdmission(definition, {
      ...named,
      printerColumns: [],
      statusSubresource: definition.statusSubresource ?? false,
      schema: definition.schema,
    }),
    table: {
      columns: definition.columns.map((column) => ({
        name: column.name,
        type: column.type ?? 'string',
        format: column.format ?? '',
        description: column.description,
        priority: column.priority ?? 0,
      })),
      cells: (object, now) => definition.columns.map((column) => column.cell(object, now)),
    },
    selectableFields: definition.selectableFields ?? {},
    custom: false,
    generation: false,
    allowCreateOnUpdate: definition.allowCreateOnUpdate ?? false,
    unconditionalUpdate: definition.unconditionalUpdate ?? true,
    ...(definition.strategicMergeLists
      ? { strategicMergeLists: definition.strategicMergeLists }
      : {}),
    ...(definition.convert ? { convert: definition.convert } : {}),
    ...(definition.prepareForCreate ? { prepareForCreate: definition.prepareForCreate } : {}),
    ...(definition.initializeUnmanaged
      ? { initializeUnmanaged: definition.initializeUnmanaged }
      : {}),
    ...(definition.prepareForUpdate ? { prepareForUpdate: definition.prepareForUpdate } : {}),
  };
}

/** Schema admission of a built-in kind (as if it were a CRD), plus its own checks. */
function builtinAdmission(definition: BuiltinDefinition, crd: ServedCrd): ResourceType['admit'] {
  return (object, options) => {
    const result = admitCustomResource(crd, object, options);
    if (!isObject(result.object)) return result;
    // A DNS label is the stricter rule; upstream reports only that one for such names.
    const schemaErrors = definition.dnsLabelName
      ? result.errors.filter((error) => error.field !== 'metadata.name')
      : result.errors;
    const errors = [
      ...schemaErrors,
      ...validateObjectMeta(result.object, { dnsLabelName: definition.dnsLabelName }),
      ...(definition.validate?.(result.object) ?? []),
      ...microTimeErrors(result.object, definition.microTimes ?? []),
    ];
    return { ...result, errors };
  };
}

const MICRO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}(Z|[+-]\d{2}:\d{2})$/;

/** `MicroTime` fields that upstream could not decode (it wants `2006-01-02T15:04:05.000000Z`). */
function microTimeErrors(object: JsonObject, paths: string[]): FieldError[] {
  return paths.flatMap((path) => {
    const value = path
      .split('.')
      .reduce<unknown>((node, key) => (isObject(node) ? node[key] : undefined), object);
    if (
      value === undefined ||
      value === null ||
      (typeof value === 'string' && MICRO_TIME.test(value))
    ) {
      return [];
    }
    return [
      fieldError.invalid(
        path,
        value,
        'must be a MicroTime: RFC 3339 with microseconds, like 2006-01-02T15:04:05.000000Z',
      ),
    ];
  });
}

/** The Name column of a built-in kind. */
export const nameColumn: BuiltinColumn = {
  ...NAME_COLUMN,
  cell: (object) => metadataOf(object).name,
};

/** The Age column most kinds end with. */
export const ageColumn: BuiltinColumn = {
  name: 'Age',
  type: 'date',
  description:
    'CreationTimestamp is a timestamp representing the server time when this object was created.',
  cell: (object, now) => timestampSince(metadataOf(object).creationTimestamp, now),
};

/** The object's metadata (an empty object when missing). */
export function metadataOf(object: JsonObject): JsonObject {
  return isObject(object.metadata) ? object.metadata : {};
}

/** Strategic merge lists of `ObjectMeta`, shared by every built-in kind. */
export const OBJECT_META_MERGE_LISTS = {
  'metadata.finalizers': {},
  'metadata.ownerReferences': { mergeKey: 'uid' },
};

function names(d: {
  group: string;
  version: string;
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  categories: string[];
  namespaced: boolean;
}) {
  return {
    group: d.group,
    version: d.version,
    kind: d.kind,
    listKind: `${d.kind}List`,
    plural: d.plural,
    singular: d.singular,
    shortNames: d.shortNames,
    categories: d.categories,
    namespaced: d.namespaced,
  };
}

function storageKey(d: { group: string; plural: string }): string {
  return d.group ? `${d.plural}.${d.group}` : d.plural;
}
