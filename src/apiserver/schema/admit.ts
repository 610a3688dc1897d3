import { isObject, jsonType } from '../json.js';
import { validateCelRules } from './cel-validate.js';
import { applyDefaults } from './defaults.js';
import { fieldError } from './field-errors.js';
import { validateListTypes } from './list-types.js';
import { validateMetadataName } from './metadata.js';
import { pruneUnknownFields } from './prune.js';
import type { AdmissionResult, FieldError, FieldValidation, ServedCrd } from './types.js';
import { validateValue } from './validate.js';

/** Errors after which the API server skips the CEL rules (hasBlockingErr in apiextensions). */
const BLOCKING: ReadonlySet<FieldError['type']> = new Set([
  'FieldValueNotSupported',
  'FieldValueRequired',
  'FieldValueTooLong',
  'FieldValueTooMany',
  'FieldValueTypeInvalid',
]);

/** The error the API server adds in place of the CEL rules it skipped. */
const RULES_NOT_CHECKED = fieldError.invalid(
  '',
  null,
  'some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
);

/** What `unknown field` warnings and strict-decoding errors say about one pruned path. */
export function unknownFieldMessage(path: string): string {
  return `unknown field "${path.replace(/^\./, '')}"`;
}

/**
 * The message of the 400 BadRequest the API server answers in `fieldValidation=Strict` mode when
 * the object had unknown fields (before any schema validation).
 */
export function strictDecodingError(unknownFields: string[]): string {
  return `strict decoding error: ${unknownFields.map(unknownFieldMessage).join(', ')}`;
}

/**
 * On a status update kube-apiserver validates `status` as a body of its own: the field paths
 * still start with `status.`, but the messages name the path below it (`conditions[0].x in body`).
 */
function relativeToStatus(error: FieldError): FieldError {
  const inBody = `${error.field} in body`;
  if (!error.field.startsWith('status.') || !error.message.includes(inBody)) return error;
  const below = `${error.field.slice('status.'.length)} in body`;
  return { ...error, message: error.message.replace(inBody, below) };
}

/**
 * Admits a custom resource the way kube-apiserver does for CRDs: prunes unknown fields, applies
 * defaults, then validates `metadata.name`, the OpenAPI schema, list types and (when nothing
 * blocking was found) the CEL rules, with transition rules against `oldObject` on update. The
 * input is not modified. In `Warn` mode unknown fields become warnings; in `Strict` mode the
 * caller answers 400 with `strictDecodingError(result.unknownFields)` when any are reported.
 */
export function admitCustomResource(
  crd: ServedCrd,
  object: unknown,
  options: { fieldValidation: FieldValidation; oldObject?: unknown; statusUpdate?: boolean },
): AdmissionResult {
  if (!isObject(object)) {
    const detail = `body must be of type object: "${jsonType(object)}"`;
    return {
      object,
      errors: [fieldError.typeInvalid('', jsonType(object), detail)],
      warnings: [],
      unknownFields: [],
    };
  }
  const admitted = structuredClone(object);
  const unknownFields = pruneUnknownFields(admitted, crd.schema);
  applyDefaults(admitted, crd.schema);
  const schemaErrors = validateValue(admitted, crd.schema, '');
  const errors = [
    ...validateMetadataName(admitted.metadata),
    ...(options.statusUpdate ? schemaErrors.map(relativeToStatus) : schemaErrors),
    ...validateListTypes(admitted, crd.schema, ''),
  ];
  if (errors.some((error) => BLOCKING.has(error.type))) {
    errors.push(RULES_NOT_CHECKED);
  } else {
    const old = isObject(options.oldObject) ? options.oldObject : undefined;
    errors.push(...validateCelRules(admitted, crd.schema, old));
  }
  const warnings = options.fieldValidation === 'Warn' ? unknownFields.map(unknownFieldMessage) : [];
  return { object: admitted, errors, warnings, unknownFields };
}
