import { beforeAll, describe, expect, it } from 'vitest';
import { freezeWith, policyWith, rolloutWith } from '../support/resources.js';
import {
  freezeValidationCases,
  policyValidationCases,
  rolloutTransitionCases,
  rolloutValidationCases,
} from '../support/validation-cases.js';
import { adminKubectl, apiServers, clusterRequest, installCrds } from './cluster.js';
import type { ControlPlaneAccess } from './control-plane.js';

// The cases the local API server's unit tests check, sent to real kube-apiservers: each must get
// word for word the same errors on the current Kubernetes, and the same verdict (admitted, or
// refused as invalid) on the oldest one we support, whose wording and status paths differ a little.
const NAMESPACE = 'validation-parity';
const BASE = `/apis/fleet.iotistic.io/v1alpha1/namespaces/${NAMESPACE}`;
const DRY_RUN = '?dryRun=All&fieldValidation=Strict';

type Answer = Awaited<ReturnType<typeof clusterRequest>>;

/** The errors of an answer as the unit tests write them: `reason field: message`. */
function errorsOf(answer: Answer): string[] {
  if (answer.status < 300) return [];
  const body = JSON.parse(answer.text);
  const causes: Array<{ reason: string; field: string; message: string }> =
    body.details?.causes ?? [];
  if (causes.length === 0) return [`${answer.status} ${body.reason}: ${body.message}`];
  return causes.map(({ reason, field, message }) => `${reason} ${field}: ${message}`);
}

/** `object` placed in the test namespace under `name`. */
function placed<T extends { metadata: Record<string, unknown> }>(object: T, name: string): T {
  return { ...object, metadata: { ...object.metadata, name, namespace: NAMESPACE } };
}

/** Creates an ImageRollout for real; returns it as the server stored it. */
async function createRollout(
  access: ControlPlaneAccess,
  object: { metadata: Record<string, unknown> },
) {
  const answer = await clusterRequest('POST', `${BASE}/imagerollouts`, { body: object, access });
  expect(answer.status, answer.text).toBe(201);
  return JSON.parse(answer.text);
}

describe.each(apiServers())('our validation cases on $version', ({ access, current }) => {
  /** The errors the case expects, or its verdict alone on the oldest server. */
  const expected = (errors: string[]) =>
    current ? errors : [errors.length === 0 ? 'admitted' : 'refused'];
  const errorsFrom = (answer: Answer) => expected(errorsOf(answer));

  beforeAll(async () => {
    await installCrds(access);
    await adminKubectl(['create', 'namespace', NAMESPACE], undefined, access);
  });

  it.each(policyValidationCases.map((row, index) => [index, ...row] as const))(
    'ImagePolicy case %i: %s',
    async (index, _name, spec, ...errors) => {
      const object = placed(policyWith(spec), `policy-${index}`);
      const answer = await clusterRequest('POST', `${BASE}/imagepolicies${DRY_RUN}`, {
        body: object,
        access,
      });
      expect(errorsFrom(answer)).toEqual(expected(errors));
    },
  );

  it.each(freezeValidationCases.map((row, index) => [index, ...row] as const))(
    'FleetFreeze case %i: %s',
    async (index, _name, spec, ...errors) => {
      const object = placed(freezeWith(spec), `freeze-${index}`);
      const answer = await clusterRequest('POST', `${BASE}/fleetfreezes${DRY_RUN}`, {
        body: object,
        access,
      });
      expect(errorsFrom(answer)).toEqual(expected(errors));
    },
  );

  it.each(rolloutValidationCases.map((row, index) => [index, ...row] as const))(
    'ImageRollout case %i: %s',
    async (index, _name, spec, status, ...errors) => {
      const object = placed(rolloutWith(spec), `rollout-${index}`);
      if (status === undefined) {
        const answer = await clusterRequest('POST', `${BASE}/imagerollouts${DRY_RUN}`, {
          body: object,
          access,
        });
        expect(errorsFrom(answer)).toEqual(expected(errors));
        return;
      }
      // A status is ignored on create: it is written through the status subresource.
      const stored = await createRollout(access, object);
      const answer = await clusterRequest(
        'PUT',
        `${BASE}/imagerollouts/${stored.metadata.name}/status${DRY_RUN}`,
        { body: { ...stored, status }, access },
      );
      expect(errorsFrom(answer)).toEqual(expected(errors));
    },
  );

  it.each(rolloutTransitionCases.map((row, index) => [index, ...row] as const))(
    'ImageRollout update %i: %s',
    async (index, _name, before, after, ...errors) => {
      const stored = await createRollout(
        access,
        placed(rolloutWith(before), `transition-${index}`),
      );
      const updated = placed(rolloutWith({ ...before, ...after }), stored.metadata.name);
      const answer = await clusterRequest(
        'PUT',
        `${BASE}/imagerollouts/${stored.metadata.name}${DRY_RUN}`,
        {
          body: {
            ...updated,
            metadata: { ...updated.metadata, resourceVersion: stored.metadata.resourceVersion },
          },
          access,
        },
      );
      expect(errorsFrom(answer)).toEqual(expected(errors));
    },
  );
});
