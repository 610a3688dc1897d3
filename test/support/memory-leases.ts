import type { V1Lease } from '@kubernetes/client-node';
import { type Clock, systemClock } from '../../src/controller/clock.js';
import { KubeApiError, type LeaseClient } from '../../src/kube/port.js';

/**
 * In-memory Leases with resourceVersion conflicts, shared by the clients it hands out. `clock`
 * (give the test's manual clock) times the calls clients record and their latency.
 */
export class MemoryLeaseStore {
  private readonly leases = new Map<string, V1Lease>();
  private version = 0;

  constructor(readonly clock: Clock = systemClock) {}

  /** A client of this store whose calls the test can make fail or hang. */
  client(): MemoryLeaseClient {
    return new MemoryLeaseClient(this);
  }

  /** The stored lease, as the server would return it. */
  read(namespace: string, name: string): V1Lease | undefined {
    return structuredClone(this.leases.get(`${namespace}/${name}`));
  }

  /** Creates (`expectedVersion` null) or replaces a lease, checking the resourceVersion. */
  write(lease: V1Lease, create: boolean): V1Lease {
    const key = `${lease.metadata?.namespace}/${lease.metadata?.name}`;
    const current = this.leases.get(key);
    if (create && current) throw new KubeApiError('exists', 409, 'AlreadyExists');
    if (!create && !current) throw new KubeApiError('not found', 404, 'NotFound');
    if (!create && current?.metadata?.resourceVersion !== lease.metadata?.resourceVersion) {
      throw new KubeApiError('conflict', 409, 'Conflict');
    }
    const stored = structuredClone({
      ...lease,
      metadata: { ...lease.metadata, resourceVersion: String(++this.version) },
    });
    this.leases.set(key, stored);
    return structuredClone(stored);
  }
}

/** One process's view of a MemoryLeaseStore. */
export class MemoryLeaseClient implements LeaseClient {
  /** When set, every call rejects as a network failure would. */
  failing = false;
  /** When set, every call never settles (a partitioned connection). */
  hanging = false;
  /**
   * A slow server: each call reaches the store `latencyMs / 2` after it was made (on the store's
   * clock) and answers `latencyMs` after it was made.
   */
  latencyMs = 0;
  /** Leases this client wrote, as passed in. */
  readonly written: V1Lease[] = [];
  /** Every call made, with the store's clock time it was made at. */
  readonly calls: Array<{ method: 'get' | 'create' | 'replace'; at: number }> = [];
  /** While set, replaces wait for it and then run in the order they were made. */
  private writesHeld: Promise<void> | undefined;

  constructor(private readonly store: MemoryLeaseStore) {}

  get(namespace: string, name: string): Promise<V1Lease | undefined> {
    return this.call('get', () => this.store.read(namespace, name));
  }

  create(lease: V1Lease): Promise<V1Lease> {
    return this.call('create', () => {
      this.written.push(lease);
      return this.store.write(lease, true);
    });
  }

  async replace(lease: V1Lease): Promise<V1Lease> {
    if (this.writesHeld) await this.writesHeld;
    return this.call('replace', () => {
      this.written.push(lease);
      return this.store.write(lease, false);
    });
  }

  /** Holds back replaces (as a slow network would) until the returned function is called. */
  holdWrites(): () => void {
    let release = () => {};
    this.writesHeld = new Promise((resolve) => {
      release = () => {
        this.writesHeld = undefined;
        resolve();
      };
    });
    return release;
  }

  private call<T>(method: 'get' | 'create' | 'replace', operation: () => T): Promise<T> {
    const { clock } = this.store;
    this.calls.push({ method, at: clock.now() });
    if (this.hanging) return new Promise(() => {});
    if (this.failing) return Promise.reject(new Error('connect ECONNREFUSED'));
    if (this.latencyMs === 0) return new Promise((resolve) => resolve(operation()));
    const half = this.latencyMs / 2;
    return new Promise((resolve, reject) => {
      clock.setTimeout(() => {
        let answer: () => void;
        try {
          const result = operation();
          answer = () => resolve(result);
        } catch (error) {
          answer = () => reject(error);
        }
        clock.setTimeout(answer, half);
      }, half);
    });
  }
}
