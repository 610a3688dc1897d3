import { eq, sql } from 'drizzle-orm';
import {
  applyOverlays,
  EMPTY_TARGET_ETAG,
  etagOf,
  type ImageOverlay,
  type TargetApps,
} from '../devices/target-document.js';
import type { Db, DbOrTx } from './client.js';
import { queryRows } from './rows.js';
import { deviceTargets } from './schema/index.js';
import { notifyTargets } from './target-notifications.js';

/** An active rollout whose started batch includes the device. */
export interface AppliedOverlay extends ImageOverlay {
  uid: string;
  namespace: string;
  name: string;
}

/**
 * What a device is told to run: its base target with every applicable rollout overlay applied
 * (active rollouts whose started batches include it, oldest first). `etag` is the content hash
 * of `apps`, so it changes exactly when the document does.
 */
export interface EffectiveTarget {
  uuid: string;
  apps: TargetApps;
  etag: string;
  baseEtag: string;
  overlays: AppliedOverlay[];
}

/**
 * The effective targets of registered devices among `uuids`, in one query. This is the single
 * place that decides what a device gets; the 200 path and every cache recompute use it.
 */
export async function loadEffectiveTargets(
  db: DbOrTx,
  uuids: readonly string[],
): Promise<Map<string, EffectiveTarget>> {
  const targets = new Map<string, EffectiveTarget>();
  if (uuids.length === 0) return targets;
  const rows = await queryRows<{
    uuid: string;
    apps: TargetApps | null;
    base_etag: string | null;
    overlays: AppliedOverlay[];
  }>(
    db,
    sql`select d.uuid::text as uuid, t.apps, t.etag as base_etag,
          coalesce((
            select jsonb_agg(jsonb_build_object('uid', r.uid, 'namespace', r.namespace,
                     'name', r.name, 'repository', r.repository, 'image', r.image,
                     'checks', r.health_checks)
                   order by r.created_at, r.uid)
            from rollout_members m join rollout_targets r on r.uid = m.rollout_uid
            where m.device_uuid = d.uuid and r.state = 'active' and m.batch <= r.started_batches
          ), '[]'::jsonb) as overlays
        from devices d left join device_targets t on t.device_uuid = d.uuid
        where d.uuid in (
          select value::uuid from jsonb_array_elements_text(${JSON.stringify(uuids)}::jsonb))`,
  );
  for (const row of rows) {
    const base = row.apps ?? {};
    const baseEtag = row.base_etag ?? EMPTY_TARGET_ETAG;
    const apps = applyOverlays(base, row.overlays);
    const etag = row.overlays.length === 0 ? baseEtag : etagOf(apps);
    targets.set(row.uuid, { uuid: row.uuid, apps, etag, baseEtag, overlays: row.overlays });
  }
  return targets;
}

/** The effective target of one device, or undefined when it is not registered. */
export async function loadEffectiveTarget(
  db: DbOrTx,
  uuid: string,
): Promise<EffectiveTarget | undefined> {
  return (await loadEffectiveTargets(db, [uuid])).get(uuid);
}

/**
 * Replaces a device's base target and announces it; false when the device does not exist.
 * Active rollouts still apply on top: the effective target is the new base, rewritten.
 */
export async function setBaseTarget(db: Db, uuid: string, apps: TargetApps): Promise<boolean> {
  return db.transaction(async (tx) => {
    const rows = await tx
      .update(deviceTargets)
      .set({ apps, etag: etagOf(apps), updatedAt: sql`now()` })
      .where(eq(deviceTargets.deviceUuid, uuid))
      .returning({ uuid: deviceTargets.deviceUuid });
    if (rows.length === 0) return false;
    await notifyTargets(tx, { type: 'devices', uuids: [uuid] });
    return true;
  });
}

/** A device's base target (before rollout overlays), or undefined when it has none. */
export async function getBaseTarget(db: DbOrTx, uuid: string): Promise<TargetApps | undefined> {
  const [row] = await db
    .select({ apps: deviceTargets.apps })
    .from(deviceTargets)
    .where(eq(deviceTargets.deviceUuid, uuid));
  return row?.apps;
}
