import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { kubeconfigYaml } from '../../src/apiserver/kubeconfig.js';
import { createSelfSignedCertificate, localHosts } from '../../src/apiserver/tls.js';
import { httpsRequest } from '../support/https-request.js';

/**
 * A real Kubernetes control plane on loopback, built by scripts/test-tools.sh: etcd,
 * kube-apiserver configured as a production server is (RBAC, token and service-account
 * authentication, PodSecurity admission, an audit log) and, optionally, kube-controller-manager
 * so that Deployments get ReplicaSets and Pods, namespaces finalize and garbage is collected.
 */

/** What a test needs to reach the control plane; plain data, so a global setup can provide it. */
export interface ControlPlaneAccess {
  /** `https://127.0.0.1:<port>` of kube-apiserver. */
  url: string;
  /** PEM of the serving certificate, the one certificate clients trust. */
  certificate: string;
  /** A token of the `system:masters` group. */
  adminToken: string;
  /** JSON-lines audit log of every request (level Metadata). */
  auditLog: string;
  /** A folder the control plane owns, for kubeconfigs and logs. */
  dir: string;
  /** etcd's client URL (plain HTTP on loopback), for tests that compact its history. */
  etcdUrl: string;
}

/** A running control plane; `stop` ends every process it started. */
export interface ControlPlane extends ControlPlaneAccess {
  stop(): Promise<void>;
}

/** Options of {@link startControlPlane}. */
export interface ControlPlaneOptions {
  /** Folder for data, keys and logs (created). */
  dir: string;
  /** Also run kube-controller-manager. */
  controllerManager: boolean;
  /** The kube-apiserver program on the PATH (default `kube-apiserver`). */
  apiServer?: string;
}

const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
`;

/** Starts etcd, kube-apiserver (and kube-controller-manager); resolves once /readyz answers. */
export async function startControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  const { dir } = options;
  await mkdir(dir, { recursive: true });
  const processes: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(processes.reverse().map(terminate));
  };
  try {
    const etcd = await startEtcd(dir, processes);
    const access = await startApiServer(
      options.apiServer ?? 'kube-apiserver',
      dir,
      etcd,
      processes,
    );
    if (options.controllerManager) await startControllerManager(access, processes);
    return { ...access, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A kubeconfig (YAML) for the control plane, authenticating with `token`. */
export function controlPlaneKubeconfig(access: ControlPlaneAccess, token = access.adminToken) {
  return kubeconfigYaml({ server: access.url, token, certificate: access.certificate });
}

async function startEtcd(dir: string, processes: ChildProcess[]): Promise<string> {
  const [client, peer] = [await freePort(), await freePort()];
  const clientUrl = `http://127.0.0.1:${client}`;
  const peerUrl = `http://127.0.0.1:${peer}`;
  processes.push(
    run('etcd', dir, [
      `--data-dir=${join(dir, 'etcd')}`,
      '--name=default',
      `--listen-client-urls=${clientUrl}`,
      `--advertise-client-urls=${clientUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=default=${peerUrl}`,
      '--log-level=warn',
      // Test data: losing it in a power cut is fine, and fsync dominates on a shared machine.
      '--unsafe-no-fsync',
    ]),
  );
  await waitFor(processes, 'etcd', async () => (await fetch(`${clientUrl}/health`)).ok);
  return clientUrl;
}

async function startApiServer(
  program: string,
  dir: string,
  etcdUrl: string,
  processes: ChildProcess[],
): Promise<ControlPlaneAccess> {
  const port = await freePort();
  const serving = createSelfSignedCertificate(localHosts('127.0.0.1'));
  const accounts = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const adminToken = randomBytes(24).toString('hex');
  const files = {
    cert: join(dir, 'serving.crt'),
    key: join(dir, 'serving.key'),
    accountsKey: join(dir, 'service-accounts.key'),
    accountsPub: join(dir, 'service-accounts.pub'),
    tokens: join(dir, 'tokens.csv'),
    auditPolicy: join(dir, 'audit-policy.yaml'),
    auditLog: join(dir, 'audit.log'),
  };
  await writeFile(files.cert, serving.cert);
  await writeFile(files.key, serving.key, { mode: 0o600 });
  await writeFile(
    files.accountsKey,
    accounts.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    { mode: 0o600 },
  );
  await writeFile(
    files.accountsPub,
    accounts.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  );
  await writeFile(files.tokens, `${adminToken},admin,admin,system:masters\n`, { mode: 0o600 });
  await writeFile(files.auditPolicy, AUDIT_POLICY);
  processes.push(
    run(program, dir, [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      // The kubernetes Service's endpoints would name a loopback address, which is refused.
      '--endpoint-reconciler-type=none',
      `--secure-port=${port}`,
      `--tls-cert-file=${files.cert}`,
      `--tls-private-key-file=${files.key}`,
      '--authorization-mode=RBAC',
      `--token-auth-file=${files.tokens}`,
      '--anonymous-auth=false',
      `--service-account-key-file=${files.accountsPub}`,
      `--service-account-signing-key-file=${files.accountsKey}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      '--service-cluster-ip-range=10.96.0.0/16',
      '--enable-admission-plugins=NamespaceLifecycle,ServiceAccount,PodSecurity',
      '--allow-privileged=false',
      `--audit-policy-file=${files.auditPolicy}`,
      `--audit-log-path=${files.auditLog}`,
      '--audit-log-format=json',
      '--audit-log-mode=blocking',
      '--profiling=false',
    ]),
  );
  const access: ControlPlaneAccess = {
    url: `https://127.0.0.1:${port}`,
    certificate: serving.cert,
    adminToken,
    auditLog: files.auditLog,
    dir,
    etcdUrl,
  };
  await waitFor(processes, program, async () => (await get(access, '/readyz')) === 200);
  await writeFile(join(dir, 'admin.kubeconfig'), controlPlaneKubeconfig(access), { mode: 0o600 });
  return access;
}

async function startControllerManager(access: ControlPlaneAccess, processes: ChildProcess[]) {
  const { dir } = access;
  processes.push(
    run('kube-controller-manager', dir, [
      `--kubeconfig=${join(dir, 'admin.kubeconfig')}`,
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      `--secure-port=${await freePort()}`,
      `--service-account-private-key-file=${join(dir, 'service-accounts.key')}`,
      `--root-ca-file=${join(dir, 'serving.crt')}`,
      '--use-service-account-credentials=true',
    ]),
  );
  // The ServiceAccount controller creates `default` in every namespace once it runs.
  await waitFor(
    processes,
    'kube-controller-manager',
    async () => (await get(access, '/api/v1/namespaces/default/serviceaccounts/default')) === 200,
  );
}

/** Spawns `program` from the PATH, its output appended to `<dir>/<program>.log`. */
function run(program: string, dir: string, args: string[]): ChildProcess {
  const log = createWriteStream(join(dir, `${program}.log`), { flags: 'a' });
  const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  child.on('error', (error) => {
    log.write(`spawn failed: ${error.message}\n`);
  });
  return child;
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(killer);
}

/** The status code of a GET with the admin token. */
async function get(access: ControlPlaneAccess, path: string): Promise<number> {
  return (await httpsRequest({ ...access, token: access.adminToken }, 'GET', path)).status;
}

/** Polls `ready` until it holds; fails at once when one of `processes` has ended. */
async function waitFor(
  processes: ChildProcess[],
  what: string,
  ready: () => Promise<boolean>,
  timeoutMs = 120_000,
) {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    const ended = processes.find(
      (child) => child.pid === undefined || child.exitCode !== null || child.signalCode !== null,
    );
    if (ended) {
      throw new Error(
        `${ended.spawnfile} exited (${ended.exitCode ?? ended.signalCode}); see its log`,
      );
    }
    try {
      if (await ready()) return;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${what} did not become ready within ${timeoutMs / 1000} s`, { cause: last });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
