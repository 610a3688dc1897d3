import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { adminKubectl, controlPlane } from './cluster.js';
import { controlPlaneKubeconfig } from './control-plane.js';

/** The namespace deploy/ installs into, where its ServiceAccounts live. */
export const PRODUCT_NAMESPACE = 'fleet-rollout';

/**
 * A kubeconfig file authenticating as ServiceAccount `account` of deploy/'s namespace, with a
 * token the TokenRequest API issued (`kubectl create token`), as a pod of it would hold.
 */
export async function serviceAccountKubeconfig(account: string, dir: string): Promise<string> {
  const { stdout } = await adminKubectl([
    'create',
    'token',
    account,
    '--namespace',
    PRODUCT_NAMESPACE,
    '--duration=2h',
  ]);
  const path = join(dir, `${account}.kubeconfig`);
  await writeFile(path, controlPlaneKubeconfig(controlPlane(), stdout.trim()), { mode: 0o600 });
  return path;
}

/** The username the API server (and its audit log) gives a ServiceAccount of deploy/. */
export function serviceAccountUser(account: string): string {
  return `system:serviceaccount:${PRODUCT_NAMESPACE}:${account}`;
}
