/**
 * Types of the schema machinery: what a served custom resource definition looks like to the local
 * API server, and what admitting an object against it yields.
 */

/** One `x-kubernetes-validations` rule of a CRD schema. */
export interface ValidationRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  reason?:
    | 'FieldValueInvalid'
    | 'FieldValueForbidden'
    | 'FieldValueRequired'
    | 'FieldValueDuplicate';
  fieldPath?: string;
  optionalOldSelf?: boolean;
}

/**
 * An OpenAPI v3 schema node as `apiextensions.k8s.io/v1` structural schemas allow it, minus the
 * logical junctors (allOf, anyOf, oneOf, not), which this project's CRDs do not use. Admission
 * carries `x-kubernetes-embedded-resource` through but gives embedded objects no special checks.
 */
export interface JSONSchemaProps {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  format?: string;
  title?: string;
  default?: unknown;
  nullable?: boolean;
  enum?: unknown[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  multipleOf?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  required?: string[];
  properties?: Record<string, JSONSchemaProps>;
  additionalProperties?: JSONSchemaProps | boolean;
  items?: JSONSchemaProps;
  example?: unknown;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-validations'?: ValidationRule[];
}

/** One `additionalPrinterColumns` entry of a CRD version. */
export interface PrinterColumn {
  name: string;
  type: 'integer' | 'number' | 'string' | 'boolean' | 'date';
  format?: string;
  description?: string;
  priority?: number;
  jsonPath: string;
}

/** One served version of a CRD, flattened for the API server. */
export interface ServedCrd {
  group: string;
  version: string;
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  categories: string[];
  namespaced: boolean;
  printerColumns: PrinterColumn[];
  statusSubresource: boolean;
  /** The version's `openAPIV3Schema`. */
  schema: JSONSchemaProps;
}

/** The `reason` of a Kubernetes field error (`StatusCause.reason`). */
export type FieldErrorType =
  | 'FieldValueRequired'
  | 'FieldValueInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'FieldValueDuplicate'
  | 'FieldValueForbidden'
  | 'FieldValueTypeInvalid';

/**
 * One invalid field, as a `StatusCause`: `field` is the path (`spec.strategy.batches[1]`),
 * `message` the body without the path (`Invalid value: 5: must be ...`), as the real API server
 * puts them in `status.details.causes`.
 */
export interface FieldError {
  type: FieldErrorType;
  field: string;
  message: string;
}

/** The outcome of admitting one object: the pruned and defaulted object and what was wrong. */
export interface AdmissionResult {
  object: unknown;
  errors: FieldError[];
  warnings: string[];
  /** Paths of pruned fields, `.spec.foo` style. */
  unknownFields: string[];
}

/** How unknown fields are reported, as the `fieldValidation` query parameter says. */
export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';
