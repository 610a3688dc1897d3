/** Schema machinery of the local API server: served CRDs, admission, printer columns. */
export { admitCustomResource, strictDecodingError, unknownFieldMessage } from './admit.js';
export { describeFieldError } from './field-errors.js';
export { defaultCrdDirectory, loadServedCrds } from './load.js';
export { evaluatePrinterColumn, findJsonPath, humanDuration } from './printer-columns.js';
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
