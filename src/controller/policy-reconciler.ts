import { sql } from 'drizzle-orm';
import type { ImagePolicy } from '../api/types.js';
import type { Db } from '../db/client.js';
import { deviceSelectorSql } from '../db/device-selector-sql.js';
import { queryRows } from '../db/rows.js';
import type { ResourceClient } from '../kube/port.js';
import { planPolicy } from '../planner/plan-policy.js';
import { validatePolicySpec } from '../planner/validate.js';
import type { EventRecorder } from './event-recorder.js';
import { splitKey } from './keys.js';
import type { ResourceReader } from './resource-reader.js';
import { writeStatus } from './status-writer.js';
import type { WorkResult } from './work-queue.js';

/** What one policy reconcile uses. */
export interface PolicyReconcilerDeps {
  db: Db;
  read: ResourceReader;
  policies: Pick<ResourceClient<ImagePolicy>, 'replaceStatus'>;
  events: EventRecorder;
  now(): Date;
  signal?: AbortSignal;
}

/**
 * One pass over the ImagePolicy `namespace/name`: count the devices its selector matches (in
 * SQL; not for an invalid spec, whose condition says why), find its newest rollout, plan the
 * status, record Events, write the status when it changed (409: requeue).
 */
export async function reconcilePolicy(
  deps: PolicyReconcilerDeps,
  key: string,
): Promise<WorkResult> {
  const { namespace, name } = splitKey(key);
  // Read the policy, its rollouts and the devices it selects.
  const policy = await deps.read.policy(namespace, name);
  if (!policy) return {};
  const valid = validatePolicySpec(policy.spec).length === 0;
  const selectedDevices = valid ? await countSelected(deps.db, policy) : undefined;
  const rollouts = await deps.read.rolloutsOf(namespace, name);
  // Plan, record the Events, write the status.
  const plan = planPolicy({ policy, selectedDevices, rollouts, now: deps.now() });
  for (const event of plan.events) void deps.events.record(policy, event);
  deps.signal?.throwIfAborted();
  const write = await writeStatus(deps.policies, policy, plan.status);
  return write.outcome === 'conflict' ? { requeueAfter: 200 } : {};
}

/** How many registered devices the policy's selector matches. */
async function countSelected(db: Db, policy: ImagePolicy): Promise<number> {
  const [row] = await queryRows<{ count: number }>(
    db,
    sql`select count(*)::int as count from devices where ${deviceSelectorSql(policy.spec.selector)}`,
  );
  return row?.count ?? 0;
}
