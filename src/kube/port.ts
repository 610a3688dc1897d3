import type { EventsV1Event, V1Lease } from '@kubernetes/client-node';
import type {
  FleetFreeze,
  ImagePolicy,
  ImageRollout,
  NotificationChannel,
  ObjectMeta,
} from '../api/types.js';

/**
 * The Kubernetes client port: the one interface the controller and the webhook adapter use.
 * `client-node.ts` implements it against any Kubernetes API server (a real cluster or ours).
 */

/** Any object with standard metadata. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
}

/** The `Status` body of a failed call, as much as callers read of it. */
export interface KubeStatus {
  code?: number;
  reason?: string;
  message?: string;
  details?: { causes?: Array<{ reason?: string; message?: string; field?: string }> };
}

/** A failed API call, carrying the HTTP status and the `Status` reason (`AlreadyExists`, …). */
export class KubeApiError extends Error {
  constructor(
    message: string,
    readonly code: number,
    readonly reason: string,
    options?: { cause?: unknown; status?: KubeStatus },
  ) {
    super(message, options);
    this.status = options?.status;
  }
  /** The server's `Status` object, when it sent one (with field causes for `Invalid`). */
  readonly status: KubeStatus | undefined;
}

/** True for a 404 NotFound. */
export const isNotFound = (error: unknown): boolean =>
  error instanceof KubeApiError && error.code === 404;
/** True for a 409 AlreadyExists (a create of a name that is taken). */
export const isAlreadyExists = (error: unknown): boolean =>
  error instanceof KubeApiError && error.code === 409 && error.reason === 'AlreadyExists';
/** True for a 409 Conflict (a stale resourceVersion). */
export const isConflict = (error: unknown): boolean =>
  error instanceof KubeApiError && error.code === 409 && error.reason === 'Conflict';
/** True for a 410 Gone/Expired: the resourceVersion is too old to watch from; relist. */
export const isGone = (error: unknown): boolean =>
  error instanceof KubeApiError && error.code === 410;
/**
 * True for a 504 about a resourceVersion the server has not reached (its store was reset or
 * restored): the version is useless there; relist. A bare 504 (no Status: a watch refused up
 * front, whose body the watch client drops) counts too.
 */
export const isResourceVersionTooLarge = (error: unknown): boolean => {
  if (!(error instanceof KubeApiError) || error.code !== 504) return false;
  const status = error.status;
  return (
    status === undefined ||
    (status.details?.causes ?? []).some((cause) => cause.reason === 'ResourceVersionTooLarge') ||
    (status.message ?? '').includes('Too large resource version')
  );
};

/** Options of a list call. */
export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
}

/** A complete list and the collection's `resourceVersion`, where a watch continues from. */
export interface ListResult<T> {
  items: T[];
  resourceVersion: string;
}

/** Options of a watch; it starts after `resourceVersion`. */
export interface WatchOptions extends ListOptions {
  resourceVersion: string;
  /** Ask the server to end the watch after this long (the watcher then reconnects). */
  timeoutSeconds?: number;
}

/** Change events a watch delivers; `ERROR` events arrive as `onClose(error)` instead. */
export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';

/** Receives a watch's events, then exactly one `onClose` unless the watch was stopped. */
export interface WatchCallbacks<T> {
  onEvent(type: WatchEventType, object: T): void;
  /** The watch ended: no error for a normal end (timeout), a KubeApiError (410, …) or a network error. */
  onClose(error?: Error): void;
}

/** An open watch. `stop` closes it for good; no callback runs after it. */
export interface WatchHandle {
  stop(): void;
}

/** List and watch: what an informer needs of a resource. */
export interface Watchable<T extends KubeObject> {
  /** Lists every page of one namespace (or all, when undefined) with the collection version. */
  listWithVersion(namespace: string | undefined, options?: ListOptions): Promise<ListResult<T>>;
  /** Opens a watch; resolves once the server accepted it (callbacks may then run). */
  watch(
    namespace: string | undefined,
    options: WatchOptions,
    callbacks: WatchCallbacks<T>,
  ): Promise<WatchHandle>;
}

/** Typed access to one namespaced resource kind. */
export interface ResourceClient<T extends KubeObject> extends Watchable<T> {
  get(namespace: string, name: string): Promise<T | undefined>;
  /** Lists one namespace, or every namespace when `namespace` is undefined. */
  list(namespace: string | undefined, options?: ListOptions): Promise<T[]>;
  create(object: T): Promise<T>;
  /** Replaces spec and metadata; a stale `resourceVersion` rejects with a Conflict. */
  replace(object: T): Promise<T>;
  /** Writes `status` through the status subresource with the object's `resourceVersion`. */
  replaceStatus(object: T): Promise<T>;
  /** JSON merge patch of the main resource. */
  mergePatch(namespace: string, name: string, patch: unknown): Promise<T>;
  delete(namespace: string, name: string): Promise<void>;
}

/** `coordination.k8s.io/v1` Leases; times are `V1MicroTime` both ways. */
export interface LeaseClient {
  get(namespace: string, name: string): Promise<V1Lease | undefined>;
  create(lease: V1Lease): Promise<V1Lease>;
  /** A stale `resourceVersion` rejects with a Conflict. */
  replace(lease: V1Lease): Promise<V1Lease>;
}

/** `events.k8s.io/v1` Events; see `EventRecorder` for the way to emit them. */
export interface EventClient {
  create(event: EventsV1Event): Promise<EventsV1Event>;
  /** JSON merge patch, used to bump an event's series. */
  mergePatch(namespace: string, name: string, patch: unknown): Promise<EventsV1Event>;
  /** Lists one namespace's Events, e.g. `regarding.name=x` ones (kubectl fleet status). */
  list(namespace: string, options?: ListOptions): Promise<EventsV1Event[]>;
}

/** Reads core v1 Secrets by name (no list, no watch: the controller cannot enumerate them). */
export interface SecretClient {
  /** The Secret's `data`, decoded to text; undefined when it does not exist. */
  get(namespace: string, name: string): Promise<Record<string, string> | undefined>;
}

/** The resource kinds of this project, ready to use. */
export interface KubePort {
  imagePolicies: ResourceClient<ImagePolicy>;
  imageRollouts: ResourceClient<ImageRollout>;
  notificationChannels: ResourceClient<NotificationChannel>;
  fleetFreezes: ResourceClient<FleetFreeze>;
  secrets: SecretClient;
  leases: LeaseClient;
  events: EventClient;
}
