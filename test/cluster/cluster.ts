import { execFile } from 'node:child_process';
import { request } from 'node:https';
import { inject } from 'vitest';
import { createKubePort, loadKubeConfig, tokenConnection } from '../../src/kube/client-node.js';
import type { KubePort } from '../../src/kube/port.js';
import { type KubectlResult, kubectlFor } from '../support/kubectl.js';
import { type ControlPlaneAccess, controlPlaneKubeconfig } from './control-plane.js';

/** The control plane the cluster tier's global setup started. */
export function controlPlane(): ControlPlaneAccess {
  return inject('controlPlane');
}

/** kubectl against the real control plane, as the admin or with `token`. */
export function clusterKubectl(token?: string) {
  const access = controlPlane();
  return kubectlFor({ kubeconfig: () => controlPlaneKubeconfig(access, token) });
}

/** A client-node KubePort on the real control plane, as the admin or with `token`. */
export function clusterKube(token?: string): KubePort {
  const access = controlPlane();
  return createKubePort(
    loadKubeConfig(
      tokenConnection({
        url: access.url,
        token: token ?? access.adminToken,
        certificate: access.certificate,
      }),
    ),
  );
}

/** Runs the PATH's kubectl with the admin kubeconfig of the control plane; throws on failure. */
export function adminKubectl(args: string[], input?: string): Promise<KubectlResult> {
  const access = controlPlane();
  return new Promise((resolve, reject) => {
    const child = execFile(
      'kubectl',
      [`--kubeconfig=${access.dir}/admin.kubeconfig`, ...args],
      { timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const result = { code: error ? Number(error.code ?? 1) : 0, stdout, stderr };
        if (error) reject(new Error(`kubectl ${args.join(' ')}: ${stderr || error.message}`));
        else resolve(result);
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** Applies crds/ and waits until both CRDs are Established (idempotent across test files). */
export async function installCrds(): Promise<void> {
  await adminKubectl(['apply', '--server-side', '--force-conflicts', '-k', 'crds/']);
  await adminKubectl([
    'wait',
    '--for=condition=Established',
    '--timeout=60s',
    'crd/imagepolicies.fleet.iotistic.io',
    'crd/imagerollouts.fleet.iotistic.io',
  ]);
}

/** One raw HTTPS request to the control plane as the admin (or with `token`). */
export function clusterRequest(
  method: string,
  path: string,
  options: { body?: unknown; contentType?: string; token?: string } = {},
): Promise<{ status: number; text: string; headers: Record<string, unknown> }> {
  const access = controlPlane();
  const body =
    options.body === undefined
      ? undefined
      : typeof options.body === 'string'
        ? options.body
        : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = request(
      `${access.url}${path}`,
      {
        method,
        ca: access.certificate,
        headers: {
          authorization: `Bearer ${options.token ?? access.adminToken}`,
          accept: 'application/json',
          ...(body === undefined
            ? {}
            : { 'content-type': options.contentType ?? 'application/json' }),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
