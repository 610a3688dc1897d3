import type { ApiServer } from '../../src/apiserver/index.js';
import { createSelfSignedCertificate, localHosts } from '../../src/apiserver/tls.js';
import { createKubePort, loadKubeConfig, tokenConnection } from '../../src/kube/client-node.js';
import type { KubePort } from '../../src/kube/port.js';
import { clientOf, startTestServer } from './apiserver.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { TcpProxy } from './tcp-proxy.js';

/**
 * The local API server on a fresh database, reached by client-node through TCP proxies: `kube`
 * through `proxy` (which tests cut), `direct` through a proxy tests leave alone. Both keep working
 * across `restart()`, which starts a new server on the same database.
 */
export interface KubeServerHarness {
  /** The KubePort whose connections go through `proxy`. */
  kube: KubePort;
  proxy: TcpProxy;
  /** A KubePort on a path that tests never cut. */
  direct: KubePort;
  /** Where new proxies should point: the server's current address. */
  readonly address: { host: string; port: number };
  /** A new KubePort whose connections go through `proxy`, sending `token` (default the right one). */
  connect(proxy: TcpProxy, token?: string): KubePort;
  /** Creates a namespace (if missing) and returns its name. */
  namespace(name: string): Promise<string>;
  /** The kubeconfig (YAML) the server writes for kubectl: its URL, certificate and token. */
  kubeconfig(): string;
  /** A raw GET of `path`, parsed, to see the JSON as the server stores it. */
  getJson(path: string): Promise<unknown>;
  /** Compacts the server's change log up to now: older resourceVersions answer 410. */
  compact(): Promise<void>;
  /** Stops the server and starts a new one on the same database (same token and certificate). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the local API server for one test file on `backend`. */
export async function startKubeServer(backend: 'pglite' | 'postgres'): Promise<KubeServerHarness> {
  const database: TestDatabase = await createTestDatabase(backend);
  const tls = createSelfSignedCertificate(localHosts('127.0.0.1'));
  let server: ApiServer = await startTestServer(database.database, { tls });
  const { token } = server;
  const address = () => ({ host: '127.0.0.1', port: server.port });
  const proxies: TcpProxy[] = [];
  const connect = (proxy: TcpProxy, bearer = token): KubePort => {
    if (!proxies.includes(proxy)) proxies.push(proxy);
    const url = `https://127.0.0.1:${proxy.port}`;
    return createKubePort(
      loadKubeConfig(tokenConnection({ url, token: bearer, certificate: tls.cert })),
    );
  };
  const proxy = await TcpProxy.start(address());
  const directProxy = await TcpProxy.start(address());
  return {
    kube: connect(proxy),
    proxy,
    direct: connect(directProxy),
    get address() {
      return address();
    },
    connect,
    async namespace(name) {
      const answer = await clientOf(server).post('/api/v1/namespaces', {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name },
      });
      if (answer.status !== 201 && answer.status !== 409) {
        throw new Error(`create namespace ${name}: ${answer.status} ${answer.text}`);
      }
      return name;
    },
    kubeconfig: () => server.kubeconfig(),
    async getJson(path) {
      const answer = await clientOf(server).get(path);
      if (answer.status !== 200) throw new Error(`GET ${path}: ${answer.status} ${answer.text}`);
      return answer.body;
    },
    async compact() {
      await server.compact(new Date(Date.now() + 1000));
    },
    async restart() {
      await server.close();
      server = await startTestServer(database.database, { token, tls });
      for (const each of proxies) each.retarget(address());
    },
    async stop() {
      await Promise.all(proxies.map((each) => each.stop()));
      await server.close();
      await database.drop();
    },
  };
}
