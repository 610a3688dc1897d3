import type { ImagePolicy, ImageRollout, ObjectMeta } from '../api/types.js';

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

/** A failed API call, carrying the HTTP status and the `Status` reason (`AlreadyExists`, …). */
export class KubeApiError extends Error {
  constructor(
    message: string,
    readonly code: number,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
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

/** Options of a list call. */
export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
}

/** Typed access to one namespaced resource kind. */
export interface ResourceClient<T extends KubeObject> {
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

/** The resource kinds of this project, ready to use. */
export interface KubePort {
  imagePolicies: ResourceClient<ImagePolicy>;
  imageRollouts: ResourceClient<ImageRollout>;
}
