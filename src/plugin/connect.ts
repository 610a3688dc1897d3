import { KubeConfig } from '@kubernetes/client-node';
import { createKubePort, loadKubeConfig } from '../kube/client-node.js';
import { KubeApiError, type KubePort } from '../kube/port.js';

/** The client port, the namespace commands act in, and the server, for messages. */
export interface Connection {
  kube: KubePort;
  namespace: string;
  server: string;
}

/**
 * Connects as kubectl does: `--kubeconfig`, else `$KUBECONFIG`, else `~/.kube/config` (else the
 * in-cluster service account); the namespace is `--namespace`, else the current context's, else
 * `default`.
 */
export function connect(options: {
  kubeconfig: string | undefined;
  namespace: string | undefined;
  env: NodeJS.ProcessEnv;
}): Connection {
  const path = options.kubeconfig ?? options.env.KUBECONFIG;
  let config: KubeConfig;
  try {
    if (path) {
      config = loadKubeConfig({ kind: 'kubeconfig', path });
    } else {
      config = new KubeConfig();
      config.loadFromDefault();
    }
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new Error(`cannot load the kubeconfig${path ? ` ${path}` : ''}: ${detail}`, {
      cause: error,
    });
  }
  const context = config.getContextObject(config.getCurrentContext());
  return {
    kube: createKubePort(config),
    namespace: options.namespace ?? context?.namespace ?? 'default',
    server: config.getCurrentCluster()?.server ?? '(no server)',
  };
}

/** Network failure codes that mean the API server could not be reached. */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'EAI_AGAIN',
]);

/** Whether an error (or one of its causes) is a failure to reach the server at all. */
export function isUnreachable(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 8; depth++) {
    if (current instanceof KubeApiError) return false;
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && UNREACHABLE.has(code)) return true;
    if (current instanceof Error && /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH/.test(current.message)) {
      return true;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
