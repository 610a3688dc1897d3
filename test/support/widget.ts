/** A made-up CRD and helpers for tests of schema features our own CRDs do not use. */
import {
  admitCustomResource,
  type JSONSchemaProps,
  type ServedCrd,
} from '../../src/apiserver/schema/index.js';

/** A made-up CRD exercising schema features our own CRDs do not use. */
export function crdWith(
  spec: JSONSchemaProps,
  rootRules: JSONSchemaProps['x-kubernetes-validations'] = [],
) {
  const crd: ServedCrd = {
    group: 'example.com',
    version: 'v1',
    kind: 'Widget',
    listKind: 'WidgetList',
    plural: 'widgets',
    singular: 'widget',
    shortNames: [],
    categories: [],
    namespaced: true,
    printerColumns: [],
    statusSubresource: false,
    schema: {
      type: 'object',
      'x-kubernetes-validations': rootRules,
      properties: {
        apiVersion: { type: 'string' },
        kind: { type: 'string' },
        metadata: { type: 'object' },
        spec,
      },
    },
  };
  return crd;
}

export const widget = (spec: unknown, metadata: Record<string, unknown> = { name: 'w' }) => ({
  apiVersion: 'example.com/v1',
  kind: 'Widget',
  metadata,
  spec,
});

/** Admits a Widget with `spec`, as an update of one with `oldSpec` when that is given. */
export function admit(crd: ServedCrd, spec: unknown, oldSpec?: unknown) {
  const oldObject = oldSpec === undefined ? undefined : widget(oldSpec);
  return admitCustomResource(crd, widget(spec), { fieldValidation: 'Strict', oldObject });
}

/** Errors as `<reason> <field>: <message>` lines. */
export const lines = (result: ReturnType<typeof admit>) =>
  result.errors.map(({ type, field, message }) => `${type} ${field}: ${message}`);

/** The error that follows one that makes the API server skip the CEL rules. */
export const SKIPPED =
  'FieldValueInvalid <nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation';
