import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApiServer } from '../../../src/apiserver/index.js';
import { startTestServer } from '../../support/apiserver.js';
import { createTestDatabase } from '../../support/database.js';
import { type HttpsTarget, httpsRequest } from '../../support/https-request.js';
import { type KubectlResult, kubectlFor } from '../../support/kubectl.js';
import { controlPlane } from '../cluster.js';
import { controlPlaneKubeconfig } from '../control-plane.js';

/** A raw answer: status, the headers the corpus compares, and the body text. */
export interface RawAnswer {
  status: number;
  contentType: string;
  warnings: string[];
  text: string;
}

/** One request of the corpus, as sent to either server. */
export interface HttpRequest {
  method: string;
  path: string;
  /** A string is sent as is; anything else as JSON. */
  body?: unknown;
  contentType?: string;
  accept?: string;
}

/** One of the two servers the corpus runs against, reached the same way for both. */
export interface Endpoint {
  name: 'real' | 'local';
  url: string;
  certificate: string;
  token: string;
  /** A folder of this endpoint's own: kubeconfig, CA file and kubectl's HOME. */
  home: string;
  send(request: HttpRequest): Promise<RawAnswer>;
  kubectl(args: string[], input?: string): Promise<KubectlResult>;
  /** Drops the change history up to now, so older resourceVersions answer 410. */
  compact(): Promise<void>;
  close(): Promise<void>;
}

/** The User-Agent of raw requests: both servers derive the default field manager from it. */
export const USER_AGENT = 'fidelity/1.0';

async function send(base: HttpsTarget, req: HttpRequest): Promise<RawAnswer> {
  const body =
    req.body === undefined || typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
  const headers: Record<string, string> = {
    accept: req.accept ?? 'application/json',
    'user-agent': USER_AGENT,
    ...(body === undefined ? {} : { 'content-type': req.contentType ?? 'application/json' }),
  };
  const answer = await httpsRequest(base, req.method, req.path, { body, headers });
  const warning = answer.headers.warning;
  return {
    status: answer.status,
    contentType: String(answer.headers['content-type'] ?? ''),
    warnings: warning === undefined ? [] : [warning].flat(),
    text: answer.text,
  };
}

async function endpointOf(
  name: Endpoint['name'],
  base: { url: string; certificate: string; token: string; kubeconfig(): string },
  compact: () => Promise<void>,
  close: () => Promise<void>,
): Promise<Endpoint> {
  const home = await mkdtemp(join(tmpdir(), `fleet-rollout-fidelity-${name}-`));
  await writeFile(join(home, 'ca.crt'), base.certificate);
  const kubectl = await kubectlFor(base);
  return {
    name,
    url: base.url,
    certificate: base.certificate,
    token: base.token,
    home,
    send: (req) => send(base, req),
    kubectl: (args, input) => runKubectl(kubectl.home, args, input),
    compact,
    async close() {
      await close();
      await kubectl.cleanup();
      await rm(home, { recursive: true, force: true });
    },
  };
}

/** kubectl with the kubeconfig kubectlFor wrote into `home`; stdin is `input`. */
function runKubectl(home: string, args: string[], input?: string): Promise<KubectlResult> {
  const env = {
    ...process.env,
    HOME: home,
    KUBECONFIG: join(home, 'kubeconfig'),
    KUBECACHEDIR: join(home, 'cache'),
  };
  return new Promise((resolve) => {
    const child = execFile('kubectl', args, { env, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
    // A kubectl command that reads no input may exit before its stdin is written: that EPIPE is
    // not a failure (the exit code and output say how the command went).
    child.stdin?.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
    });
    child.stdin?.end(input ?? '');
  });
}

/** The real kube-apiserver of the cluster tier, as the admin. */
export function realEndpoint(): Promise<Endpoint> {
  const access = controlPlane();
  const base = {
    url: access.url,
    certificate: access.certificate,
    token: access.adminToken,
    kubeconfig: () => controlPlaneKubeconfig(access),
  };
  return endpointOf(
    'real',
    base,
    () => compactEtcd(),
    async () => {},
  );
}

/** A local API server on a fresh PGlite database, started for the corpus. */
export async function localEndpoint(): Promise<Endpoint> {
  const database = await createTestDatabase('pglite');
  const server: ApiServer = await startTestServer(database.database);
  return endpointOf(
    'local',
    server,
    async () => {
      await server.compact(new Date(Date.now() + 1000));
    },
    async () => {
      await server.close();
      await database.drop();
    },
  );
}

/** Compacts the real server's etcd up to its current revision. */
async function compactEtcd(): Promise<void> {
  const etcd = controlPlane().etcdUrl;
  const status = await fetch(`${etcd}/v3/kv/range`, {
    method: 'POST',
    body: JSON.stringify({ key: Buffer.from('/').toString('base64') }),
  });
  const revision = ((await status.json()) as { header: { revision: string } }).header.revision;
  const compacted = await fetch(`${etcd}/v3/kv/compaction`, {
    method: 'POST',
    body: JSON.stringify({ revision, physical: true }),
  });
  if (!compacted.ok) throw new Error(`etcd compaction: ${compacted.status}`);
}
