import { execFile } from 'node:child_process';
import { inject } from 'vitest';
import { createKubePort, loadKubeConfig, tokenConnection } from '../../src/kube/client-node.js';
import type { KubePort } from '../../src/kube/port.js';
import { type HttpsAnswer, httpsRequest } from '../support/https-request.js';
import { type KubectlResult, kubectlFor } from '../support/kubectl.js';
import { type ControlPlaneAccess, controlPlaneKubeconfig } from './control-plane.js';

/** The control plane (current Kubernetes) the cluster tier's global setup started. */
export function controlPlane(): ControlPlaneAccess {
  return inject('controlPlane');
}

/** An API server the CRD tests run on. */
export interface ApiServerUnderTest {
  version: string;
  access: ControlPlaneAccess;
  /** The current release (whose messages our local API server words exactly alike). */
  current: boolean;
}

/** Both API servers the CRD tests run on, newest first. */
export function apiServers(): ApiServerUnderTest[] {
  return [
    { version: 'the current Kubernetes', access: inject('controlPlane'), current: true },
    {
      version: 'the oldest supported Kubernetes',
      access: inject('oldestControlPlane'),
      current: false,
    },
  ];
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

/** Runs the PATH's kubectl as the admin of a control plane (the current one); throws on failure. */
export function adminKubectl(
  args: string[],
  input?: string,
  access = controlPlane(),
): Promise<KubectlResult> {
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
export async function installCrds(access = controlPlane()): Promise<void> {
  const apply = ['apply', '--server-side', '--force-conflicts', '-k', 'crds/'];
  await adminKubectl(apply, undefined, access);
  const established = [
    'wait',
    '--for=condition=Established',
    '--timeout=60s',
    'crd/imagepolicies.fleet.iotistic.io',
    'crd/imagerollouts.fleet.iotistic.io',
  ];
  await adminKubectl(established, undefined, access);
}

/** One raw HTTPS request to a control plane (the current one) as the admin (or with `token`). */
export function clusterRequest(
  method: string,
  path: string,
  options: {
    body?: unknown;
    contentType?: string;
    token?: string;
    access?: ControlPlaneAccess;
  } = {},
): Promise<HttpsAnswer> {
  const access = options.access ?? controlPlane();
  const body =
    options.body === undefined || typeof options.body === 'string'
      ? options.body
      : JSON.stringify(options.body);
  const target = { ...access, token: options.token ?? access.adminToken };
  return httpsRequest(target, method, path, {
    body,
    headers: {
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': options.contentType ?? 'application/json' }),
    },
  });
}
