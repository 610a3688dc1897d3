// The Lease records a leader writes: pure functions of the lease it read and the time, no I/O.
import { type V1Lease, V1MicroTime } from '@kubernetes/client-node';

/** A new Lease naming `identity` as holder since `now`. */
export function newLease(options: {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  now: number;
}): V1Lease {
  const now = new V1MicroTime(options.now);
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { namespace: options.namespace, name: options.name },
    spec: {
      holderIdentity: options.identity,
      leaseDurationSeconds: Math.ceil(options.leaseDurationMs / 1000),
      acquireTime: now,
      renewTime: now,
      leaseTransitions: 0,
    },
  };
}

/**
 * `current` held by `identity`, renewed at `now`: a renew when it already held it (acquireTime
 * kept), else a transition. Keeps `current`'s resourceVersion, so replacing it is a compare-and-swap.
 */
export function heldLease(
  current: V1Lease,
  identity: string,
  leaseDurationMs: number,
  now: number,
): V1Lease {
  const spec = current.spec ?? {};
  const renewing = spec.holderIdentity === identity;
  return {
    ...current,
    spec: {
      ...spec,
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000),
      acquireTime: renewing && spec.acquireTime ? spec.acquireTime : new V1MicroTime(now),
      renewTime: new V1MicroTime(now),
      leaseTransitions: (spec.leaseTransitions ?? 0) + (renewing ? 0 : 1),
    },
  };
}

/** `current` with no holder and a one-second duration, so a standby takes it at its next retry. */
export function releasedLease(current: V1Lease, now: number): V1Lease {
  const time = new V1MicroTime(now);
  return {
    ...current,
    spec: {
      ...current.spec,
      holderIdentity: '',
      leaseDurationSeconds: 1,
      acquireTime: time,
      renewTime: time,
    },
  };
}
