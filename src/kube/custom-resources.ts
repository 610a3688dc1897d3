import {
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  Watch,
} from '@kubernetes/client-node';
import { callApi, readApi } from './errors.js';
import type {
  KubeObject,
  ListOptions,
  ListResult,
  ResourceClient,
  WatchCallbacks,
  WatchHandle,
  WatchOptions,
} from './port.js';
import { watchCollection } from './watch.js';

/** Which custom resource a client serves. */
export interface CustomResourceKind {
  group: string;
  version: string;
  plural: string;
  apiVersion: string;
  kind: string;
}

/** Page size of list calls; `continue` fetches the rest. */
const PAGE_SIZE = 500;

interface ListPage<T> {
  items?: T[];
  metadata?: { resourceVersion?: string; continue?: string };
}

/** A namespaced custom resource through client-node's CustomObjectsApi and Watch. */
export class CustomResourceClient<T extends KubeObject> implements ResourceClient<T> {
  private readonly api: CustomObjectsApi;
  private readonly watcher: Watch;

  constructor(
    kubeConfig: KubeConfig,
    private readonly resource: CustomResourceKind,
  ) {
    this.api = kubeConfig.makeApiClient(CustomObjectsApi);
    this.watcher = new Watch(kubeConfig);
  }

  get(namespace: string, name: string): Promise<T | undefined> {
    return readApi(this.describe('get', namespace, name), () =>
      this.api.getNamespacedCustomObject({ ...this.path(namespace), name }),
    );
  }

  async list(namespace: string | undefined, options?: ListOptions): Promise<T[]> {
    return (await this.listWithVersion(namespace, options)).items;
  }

  async listWithVersion(
    namespace: string | undefined,
    options: ListOptions = {},
  ): Promise<ListResult<T>> {
    const items: T[] = [];
    let continueToken: string | undefined;
    for (;;) {
      const page = await this.listPage(namespace, options, continueToken);
      for (const item of page.items ?? []) items.push(this.withKind(item));
      continueToken = page.metadata?.continue || undefined;
      if (!continueToken) return { items, resourceVersion: page.metadata?.resourceVersion ?? '' };
    }
  }

  create(object: T): Promise<T> {
    const namespace = object.metadata.namespace ?? '';
    return callApi(this.describe('create', namespace, object.metadata.name), () =>
      this.api.createNamespacedCustomObject({ ...this.path(namespace), body: object }),
    );
  }

  replace(object: T): Promise<T> {
    const { namespace = '', name = '' } = object.metadata;
    return callApi(this.describe('replace', namespace, name), () =>
      this.api.replaceNamespacedCustomObject({ ...this.path(namespace), name, body: object }),
    );
  }

  replaceStatus(object: T): Promise<T> {
    const { namespace = '', name = '' } = object.metadata;
    return callApi(this.describe('replace status of', namespace, name), () =>
      this.api.replaceNamespacedCustomObjectStatus({ ...this.path(namespace), name, body: object }),
    );
  }

  mergePatch(namespace: string, name: string, patch: unknown): Promise<T> {
    return callApi(this.describe('patch', namespace, name), () =>
      this.api.patchNamespacedCustomObject(
        { ...this.path(namespace), name, body: patch },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
  }

  async delete(namespace: string, name: string): Promise<void> {
    await callApi(this.describe('delete', namespace, name), () =>
      this.api.deleteNamespacedCustomObject({ ...this.path(namespace), name }),
    );
  }

  watch(
    namespace: string | undefined,
    options: WatchOptions,
    callbacks: WatchCallbacks<T>,
  ): Promise<WatchHandle> {
    const { group, version, plural } = this.resource;
    const scope = namespace === undefined ? '' : `/namespaces/${encodeURIComponent(namespace)}`;
    return watchCollection(this.watcher, `/apis/${group}/${version}${scope}/${plural}`, options, {
      onEvent: (type, object) => callbacks.onEvent(type, this.withKind(object as T)),
      onClose: (error) => callbacks.onClose(error),
    });
  }

  private listPage(
    namespace: string | undefined,
    options: ListOptions,
    continueToken: string | undefined,
  ): Promise<ListPage<T>> {
    const { group, version, plural } = this.resource;
    const query = { ...options, limit: PAGE_SIZE, _continue: continueToken };
    return callApi(this.describe('list', namespace), () =>
      namespace === undefined
        ? this.api.listClusterCustomObject({ group, version, plural, ...query })
        : this.api.listNamespacedCustomObject({ ...this.path(namespace), ...query }),
    );
  }

  private path(namespace: string) {
    const { group, version, plural } = this.resource;
    return { group, version, plural, namespace };
  }

  /** List items and watch objects may omit apiVersion and kind; fill them in. */
  private withKind(object: T): T {
    return { ...object, apiVersion: this.resource.apiVersion, kind: this.resource.kind };
  }

  private describe(verb: string, namespace: string | undefined, name?: string): string {
    const where = namespace === undefined ? 'all namespaces' : namespace;
    return `${verb} ${this.resource.plural} ${name ? `${where}/${name}` : where}`;
  }
}
