import {
  admitCustomResource,
  loadServedCrds,
  type ServedCrd,
} from '../../src/apiserver/schema/index.js';

const crds = loadServedCrds();

/** The served CRD of one of this project's kinds. */
export function crdOf(
  kind: 'ImagePolicy' | 'ImageRollout' | 'NotificationChannel' | 'FleetFreeze',
): ServedCrd {
  const crd = crds.find((entry) => entry.kind === kind);
  if (!crd) throw new Error(`no CRD for ${kind}`);
  return crd;
}

/** A minimal valid ImagePolicy with `spec` fields replaced by `spec` (undefined ones removed). */
export function policyWith(spec: Record<string, unknown> = {}, name = 'web') {
  return asJson({
    apiVersion: 'fleet.iotistic.io/v1alpha1',
    kind: 'ImagePolicy',
    metadata: { name, namespace: 'default' },
    spec: { image: 'ghcr.io/acme/web', selector: { fleets: ['edge'] }, ...spec },
  });
}

/** A minimal valid ImageRollout with `spec` fields replaced by `spec` (undefined ones removed). */
export function rolloutWith(spec: Record<string, unknown> = {}, status?: Record<string, unknown>) {
  return asJson({
    apiVersion: 'fleet.iotistic.io/v1alpha1',
    kind: 'ImageRollout',
    metadata: { name: 'web-1-2-3', namespace: 'default' },
    spec: { policyRef: { name: 'web' }, image: 'ghcr.io/acme/web', tag: '1.2.3', ...spec },
    status,
  });
}

/** A FleetFreeze in the default namespace with `spec` (a reason unless `spec` says otherwise). */
export function freezeWith(spec: Record<string, unknown> = {}, name = 'holiday') {
  return asJson({
    apiVersion: 'fleet.iotistic.io/v1alpha1',
    kind: 'FleetFreeze',
    metadata: { name, namespace: 'default' },
    spec: { reason: 'Holiday change freeze', ...spec },
  });
}

/** The object as it arrives in a request body: JSON, without undefined fields. */
function asJson<T>(object: T): T {
  return JSON.parse(JSON.stringify(object)) as T;
}

/**
 * Admission errors as `<reason> <field>: <message>` lines, compact enough for table tests; an
 * update when `oldObject` is given, of the status subresource when `statusUpdate`.
 */
export function admissionErrors(
  kind: 'ImagePolicy' | 'ImageRollout' | 'FleetFreeze',
  object: unknown,
  oldObject?: unknown,
  statusUpdate = false,
): string[] {
  const result = admitCustomResource(crdOf(kind), object, {
    fieldValidation: 'Strict',
    oldObject,
    statusUpdate,
  });
  return result.errors.map(({ type, field, message }) => `${type} ${field}: ${message}`);
}

/** The error that follows one that makes the API server skip the CEL rules. */
export const RULES_SKIPPED =
  'FieldValueInvalid <nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation';
