import { isConflict, type KubeObject, type ResourceClient } from '../kube/port.js';
import { statusEqual } from '../planner/conditions.js';

/** What `writeStatus` did. On `conflict` the caller requeues the key and writes nothing else. */
export type StatusWrite<T> =
  | { outcome: 'unchanged'; object: T }
  | { outcome: 'written'; object: T }
  | { outcome: 'conflict' };

/**
 * Writes `status` through the status subresource with the resourceVersion of `read`, and only when
 * it differs from `read.status`. A 409 Conflict (someone wrote since the read) is reported, not
 * thrown; any other error is thrown.
 */
export async function writeStatus<T extends KubeObject & { status?: unknown }>(
  client: Pick<ResourceClient<T>, 'replaceStatus'>,
  read: T,
  status: T['status'],
): Promise<StatusWrite<T>> {
  if (statusEqual(read.status, status)) return { outcome: 'unchanged', object: read };
  try {
    return { outcome: 'written', object: await client.replaceStatus({ ...read, status }) };
  } catch (error) {
    if (isConflict(error)) return { outcome: 'conflict' };
    throw error;
  }
}
