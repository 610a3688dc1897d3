import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { type ControlPlaneAccess, startControlPlane } from './control-plane.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The current Kubernetes release, with kube-controller-manager. */
    controlPlane: ControlPlaneAccess;
    /** The oldest release we support: kube-apiserver alone, for the CRD tests. */
    oldestControlPlane: ControlPlaneAccess;
  }
}

/** Plain data of a control plane, as `provide` needs it. */
const accessOf = (plane: ControlPlaneAccess): ControlPlaneAccess => {
  const { url, certificate, adminToken, auditLog, dir, etcdUrl } = plane;
  return { url, certificate, adminToken, auditLog, dir, etcdUrl };
};

/** Starts the cluster tier's real control planes; every test file reaches them by `inject`. */
export default async function setup(project: TestProject) {
  const dir = await mkdtemp(join(tmpdir(), 'fleet-rollout-cluster-'));
  const planes = await Promise.all([
    startControlPlane({ dir: join(dir, 'current'), controllerManager: true }),
    startControlPlane({
      dir: join(dir, 'oldest'),
      controllerManager: false,
      apiServer: 'kube-apiserver-oldest',
    }),
  ]);
  const [current, oldest] = planes;
  project.provide('controlPlane', accessOf(current));
  project.provide('oldestControlPlane', accessOf(oldest));
  return async () => {
    await Promise.all(planes.map((plane) => plane.stop()));
    if (process.env.FLEET_ROLLOUT_KEEP_CLUSTER) console.info(`control plane logs kept in ${dir}`);
    else await rm(dir, { recursive: true, force: true });
  };
}
