import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { writePrivateFile } from '../db/private-dir.js';

/** Name of the cluster, user and context in the kubeconfig `start` writes. */
export const KUBECONFIG_CONTEXT = 'fleet-rollout';

/** Where and how to reach the local API server. */
export interface KubeconfigOptions {
  server: string;
  token: string;
  /** PEM certificate the client trusts for the server. */
  certificate: string;
}

/**
 * A kubeconfig for the local API server: its URL, the certificate to trust, the bearer token,
 * and the `default` namespace.
 */
export function kubeconfigYaml(options: KubeconfigOptions): string {
  const cluster = {
    server: options.server,
    'certificate-authority-data': Buffer.from(options.certificate).toString('base64'),
  };
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: KUBECONFIG_CONTEXT, cluster }],
    users: [{ name: KUBECONFIG_CONTEXT, user: { token: options.token } }],
    contexts: [
      {
        name: KUBECONFIG_CONTEXT,
        context: { cluster: KUBECONFIG_CONTEXT, user: KUBECONFIG_CONTEXT, namespace: 'default' },
      },
    ],
    'current-context': KUBECONFIG_CONTEXT,
  });
}

/** Writes a kubeconfig readable only by its owner; returns its path. */
export async function writeKubeconfig(path: string, options: KubeconfigOptions) {
  await writePrivateFile(path, kubeconfigYaml(options));
  return path;
}

/**
 * The API server token kept under `dataDir`, created on first use, so a restart keeps the
 * kubeconfig valid.
 */
export async function loadOrCreateToken(dataDir: string): Promise<string> {
  const path = join(dataDir, 'apiserver-token');
  try {
    const token = (await readFile(path, 'utf8')).trim();
    if (token) return token;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new Error('read apiserver token', { cause: error });
    }
  }
  const token = randomBytes(32).toString('base64url');
  await writePrivateFile(path, `${token}\n`);
  return token;
}
