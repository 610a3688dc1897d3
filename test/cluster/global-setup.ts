import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { type ControlPlaneAccess, startControlPlane } from './control-plane.js';

declare module 'vitest' {
  export interface ProvidedContext {
    controlPlane: ControlPlaneAccess;
  }
}

/** Starts one real control plane for the cluster tier; every test file reaches it by `inject`. */
export default async function setup(project: TestProject) {
  const dir = await mkdtemp(join(tmpdir(), 'fleet-rollout-cluster-'));
  const controlPlane = await startControlPlane({ dir, controllerManager: true });
  project.provide('controlPlane', {
    url: controlPlane.url,
    certificate: controlPlane.certificate,
    adminToken: controlPlane.adminToken,
    auditLog: controlPlane.auditLog,
    dir: controlPlane.dir,
  });
  return async () => {
    await controlPlane.stop();
    if (!process.env.FLEET_ROLLOUT_KEEP_CLUSTER) await rm(dir, { recursive: true, force: true });
  };
}
