/**
 * The KubePort implemented with @kubernetes/client-node. Pinned to 1.4.x: 2.x pulls undici 8,
 * which crashes on import under Node 20.
 */
import { delimiter } from 'node:path';
import {
  CoordinationV1Api,
  CoreV1Api,
  EventsV1Api,
  type EventsV1Event,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Lease,
  V1MicroTime,
} from '@kubernetes/client-node';
import {
  API_VERSION,
  type FleetFreeze,
  GROUP,
  type ImagePolicy,
  type ImageRollout,
  type NotificationChannel,
  VERSION,
} from '../api/types.js';
import type { KubeSettings } from '../config.js';
import { CustomResourceClient } from './custom-resources.js';
import { callApi, readApi } from './errors.js';
import type { EventClient, KubePort, LeaseClient, SecretClient } from './port.js';

/** Where the client finds its API server and credentials. */
export type KubeConnection =
  /** Kubeconfig files (`KUBECONFIG` syntax: paths joined by the path delimiter, first wins). */
  | { kind: 'kubeconfig'; path: string; context?: string }
  /** The pod's service account (KUBERNETES_SERVICE_HOST/PORT and its token and CA). */
  | { kind: 'in-cluster' }
  /** An explicit server and bearer token, e.g. the embedded local API server. */
  | { kind: 'token'; server: string; token: string; caData?: string; skipTlsVerify?: boolean };

/** The connection the settings name, or undefined when none is configured (use the embedded server). */
export function configuredConnection(settings: KubeSettings): KubeConnection | undefined {
  if (settings.kubeconfig) return { kind: 'kubeconfig', path: settings.kubeconfig };
  if (settings.inCluster) return { kind: 'in-cluster' };
  return undefined;
}

/**
 * The connection to a server known by its URL, a bearer token and its serving certificate (PEM,
 * trusted as the CA) — the local API server (`ApiServer` has all three).
 */
export function tokenConnection(server: {
  url: string;
  token: string;
  certificate: string;
}): KubeConnection {
  const caData = Buffer.from(server.certificate).toString('base64');
  return { kind: 'token', server: server.url, token: server.token, caData };
}

/** Builds a client-node KubeConfig for `connection`; throws when it names no usable cluster. */
export function loadKubeConfig(connection: KubeConnection): KubeConfig {
  const kubeConfig = new KubeConfig();
  if (connection.kind === 'kubeconfig') {
    const [first, ...rest] = connection.path.split(delimiter).filter(Boolean);
    if (!first) throw new Error('kubeconfig path is empty');
    kubeConfig.loadFromFile(first);
    for (const path of rest) {
      const more = new KubeConfig();
      more.loadFromFile(path);
      kubeConfig.mergeConfig(more, true);
    }
    if (connection.context) kubeConfig.setCurrentContext(connection.context);
  } else if (connection.kind === 'in-cluster') {
    kubeConfig.loadFromCluster();
  } else {
    kubeConfig.loadFromClusterAndUser(
      {
        name: 'fleet-rollout',
        server: connection.server,
        caData: connection.caData,
        // client-node 1.4 refuses plain http:// unless skipTLSVerify is set, so an http URL sets it.
        skipTLSVerify: connection.skipTlsVerify ?? connection.server.startsWith('http:'),
      },
      { name: 'fleet-rollout', token: connection.token },
    );
  }
  if (!kubeConfig.getCurrentCluster()) {
    throw new Error(`kubeconfig has no current cluster (${describe(connection)})`);
  }
  return kubeConfig;
}

function describe(connection: KubeConnection): string {
  if (connection.kind === 'kubeconfig') return connection.path;
  return connection.kind === 'in-cluster' ? 'in-cluster' : connection.server;
}

/** The KubePort over one KubeConfig: our kinds, Secrets (read by name), Leases and Events. */
export function createKubePort(kubeConfig: KubeConfig): KubePort {
  return {
    imagePolicies: new CustomResourceClient<ImagePolicy>(kubeConfig, {
      group: GROUP,
      version: VERSION,
      plural: 'imagepolicies',
      apiVersion: API_VERSION,
      kind: 'ImagePolicy',
    }),
    imageRollouts: new CustomResourceClient<ImageRollout>(kubeConfig, {
      group: GROUP,
      version: VERSION,
      plural: 'imagerollouts',
      apiVersion: API_VERSION,
      kind: 'ImageRollout',
    }),
    notificationChannels: new CustomResourceClient<NotificationChannel>(kubeConfig, {
      group: GROUP,
      version: VERSION,
      plural: 'notificationchannels',
      apiVersion: API_VERSION,
      kind: 'NotificationChannel',
    }),
    fleetFreezes: new CustomResourceClient<FleetFreeze>(kubeConfig, {
      group: GROUP,
      version: VERSION,
      plural: 'fleetfreezes',
      apiVersion: API_VERSION,
      kind: 'FleetFreeze',
    }),
    secrets: secretClient(kubeConfig.makeApiClient(CoreV1Api)),
    leases: leaseClient(kubeConfig.makeApiClient(CoordinationV1Api)),
    events: eventClient(kubeConfig.makeApiClient(EventsV1Api)),
  };
}

function secretClient(api: CoreV1Api): SecretClient {
  return {
    get: async (namespace, name) => {
      const secret = await readApi(`get secret ${namespace}/${name}`, () =>
        api.readNamespacedSecret({ namespace, name }),
      );
      if (!secret) return undefined;
      return Object.fromEntries(
        Object.entries(secret.data ?? {}).map(([key, value]) => [
          key,
          Buffer.from(value, 'base64').toString('utf8'),
        ]),
      );
    },
  };
}

function leaseClient(api: CoordinationV1Api): LeaseClient {
  return {
    get: (namespace, name) =>
      readApi(`get lease ${namespace}/${name}`, () =>
        api.readNamespacedLease({ namespace, name }),
      ).then((lease) => lease && withLeaseTimes(lease)),
    create: (lease) =>
      callApi(`create lease ${lease.metadata?.namespace}/${lease.metadata?.name}`, () =>
        api.createNamespacedLease({ namespace: lease.metadata?.namespace ?? '', body: lease }),
      ).then(withLeaseTimes),
    replace: (lease) =>
      callApi(`replace lease ${lease.metadata?.namespace}/${lease.metadata?.name}`, () =>
        api.replaceNamespacedLease({
          namespace: lease.metadata?.namespace ?? '',
          name: lease.metadata?.name ?? '',
          body: lease,
        }),
      ).then(withLeaseTimes),
  };
}

function eventClient(api: EventsV1Api): EventClient {
  return {
    create: (event) =>
      callApi(`create event ${event.metadata?.namespace}/${event.metadata?.name}`, () =>
        api.createNamespacedEvent({ namespace: event.metadata?.namespace ?? '', body: event }),
      ).then(withEventTimes),
    mergePatch: (namespace, name, patch) =>
      callApi(`patch event ${namespace}/${name}`, () =>
        api.patchNamespacedEvent(
          { namespace, name, body: patch },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        ),
      ).then(withEventTimes),
    list: (namespace, options = {}) =>
      callApi(`list events of ${namespace}`, () =>
        api.listNamespacedEvent({ namespace, ...options }),
      ).then((list) => list.items.map(withEventTimes)),
  };
}

/** client-node 1.4 leaves MicroTime fields as strings when it reads; make them V1MicroTime. */
function microTime(value: unknown): V1MicroTime | undefined {
  if (value === undefined || value === null) return undefined;
  return new V1MicroTime(value instanceof Date ? value.getTime() : String(value));
}

function withLeaseTimes(lease: V1Lease): V1Lease {
  if (!lease.spec) return lease;
  lease.spec.acquireTime = microTime(lease.spec.acquireTime);
  lease.spec.renewTime = microTime(lease.spec.renewTime);
  return lease;
}

function withEventTimes(event: EventsV1Event): EventsV1Event {
  event.eventTime = microTime(event.eventTime) ?? event.eventTime;
  if (event.series) {
    event.series.lastObservedTime =
      microTime(event.series.lastObservedTime) ?? event.series.lastObservedTime;
  }
  return event;
}
