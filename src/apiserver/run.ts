import { join } from 'node:path';
import type { Registry } from 'prom-client';
import type { Config } from '../config.js';
import type { Database } from '../db/client.js';
import type { Logger } from '../telemetry/logger.js';
import { type ApiServer, startApiServer } from './index.js';
import { loadOrCreateToken, writeKubeconfig } from './kubeconfig.js';
import { loadOrCreateCertificate, localHosts } from './tls.js';

/** The local API server as `start` and `apiserver` run it, and the kubeconfig written for it. */
export interface LocalApiServer {
  server: ApiServer;
  kubeconfigPath: string;
  stop(): Promise<void>;
}

/**
 * Starts the local API server with a token and certificate kept under the data dir (so a
 * restart keeps kubeconfigs valid) and writes `<dataDir>/kubeconfig`.
 */
export async function runLocalApiServer(
  config: Config,
  deps: { database: Database; logger: Logger; metrics: Registry },
): Promise<LocalApiServer> {
  const { apiserver, dataDir } = config;
  const token = apiserver.token ?? (await loadOrCreateToken(dataDir));
  const tls = await loadOrCreateCertificate(join(dataDir, 'apiserver'), localHosts(apiserver.host));
  const server = await startApiServer({
    ...deps,
    host: apiserver.host,
    port: apiserver.port,
    token,
    tls,
    timeouts: config.http.timeouts,
    retention: {
      changeLogSeconds: apiserver.watchRetentionSeconds,
      eventSeconds: apiserver.eventTtlSeconds,
    },
  });
  const kubeconfigPath = await writeKubeconfig(join(dataDir, 'kubeconfig'), {
    server: server.url,
    token,
    certificate: tls.cert,
  });
  deps.logger.info(
    { kubeconfig: kubeconfigPath, try: `kubectl --kubeconfig ${kubeconfigPath} get imagepolicies` },
    'kubeconfig for the local Kubernetes API server written',
  );
  return { server, kubeconfigPath, stop: () => server.close() };
}
