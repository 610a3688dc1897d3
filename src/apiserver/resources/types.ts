import type { TypeNode } from '../fields/types.js';
import type { JsonObject } from '../json.js';
import type { MergeLists } from '../patch/strategic.js';
import type { AdmissionResult, FieldValidation, ServedCrd } from '../schema/index.js';

/** One column of a `Table` answer. */
export interface ColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

/** How objects of a kind print in `kubectl get`. */
export interface TableConverter {
  columns: ColumnDefinition[];
  /** The cells of one object's row, in column order. */
  cells(object: JsonObject, now: Date): unknown[];
}

/** Validation and defaulting of one kind; `oldObject` is set on updates. */
export type Admit = (
  object: unknown,
  options: { fieldValidation: FieldValidation; oldObject?: unknown; statusUpdate?: boolean },
) => AdmissionResult;

/** Everything the API server needs to serve one kind at one group/version. */
export interface ResourceType
  extends Pick<
    ServedCrd,
    | 'group'
    | 'version'
    | 'kind'
    | 'listKind'
    | 'plural'
    | 'singular'
    | 'shortNames'
    | 'categories'
    | 'namespaced'
    | 'statusSubresource'
    | 'schema'
  > {
  /** Storage key shared by every view of the same objects (`events.events.k8s.io`). */
  storage: string;
  /** The schema as server-side apply sees it. */
  fieldType: TypeNode;
  admit: Admit;
  table: TableConverter;
  /** Selectable fields besides `metadata.name` and `metadata.namespace`. */
  selectableFields: Record<string, (object: JsonObject) => string | undefined>;
  /** Custom resources: no strategic merge patch. */
  custom: boolean;
  /** Whether a PUT may leave out `metadata.resourceVersion` (upstream's AllowUnconditionalUpdate). */
  unconditionalUpdate: boolean;
  /** Lists that merge in a strategic merge patch (built-in kinds only). */
  strategicMergeLists?: MergeLists;
  /** Whether `metadata.generation` is kept and bumped on changes outside metadata and status. */
  generation: boolean;
  /** Whether a PUT of a missing object creates it. */
  allowCreateOnUpdate: boolean;
  /** Converts the stored form to this view's form and back (identity when absent). */
  convert?: {
    fromStorage(object: JsonObject): JsonObject;
    toStorage(object: JsonObject): JsonObject;
  };
  /** Initializes fields the server owns on create (e.g. a namespace's phase). */
  prepareForCreate?(object: JsonObject): void;
  /** Sets fields on create after managed fields are recorded (no manager owns them). */
  initializeUnmanaged?(object: JsonObject): void;
  /** Carries server-owned fields over on an update of the main resource. */
  prepareForUpdate?(next: JsonObject, current: JsonObject): void;
}

/** `group/version`, or `v1` for the core group. */
export function apiVersionOf(type: { group: string; version: string }): string {
  return type.group ? `${type.group}/${type.version}` : type.version;
}
