/** Schema machinery of the local API server: served CRDs, admission, printer columns. */
export { defaultCrdDirectory, loadServedCrds } from './load.js';
export type {
  AdmissionResult,
  FieldError,
  FieldErrorType,
  FieldValidation,
  JSONSchemaProps,
  PrinterColumn,
  ServedCrd,
  ValidationRule,
} from './types.js';
