import { randomUUID } from 'node:crypto';
import { and, asc, eq, gt, type SQL, sql } from 'drizzle-orm';
import { generateApiKey, hashApiKey } from '../devices/credentials.js';
import type { LabelRequirement } from '../devices/label-selector.js';
import { EMPTY_TARGET_ETAG, etagOf, type TargetApps } from '../devices/target-document.js';
import type { Db, DbOrTx } from './client.js';
import { requirementSql } from './device-selector-sql.js';
import { appendLog } from './event-log.js';
import { notifyProgress } from './progress-notifications.js';
import { queryRows } from './rows.js';
import { devices, deviceTargets } from './schema/index.js';
import { notifyTargets } from './target-notifications.js';

/** A device as admins see it (never its credential). */
export interface DeviceRecord {
  uuid: string;
  fleet: string;
  labels: Record<string, string>;
  createdAt: Date;
  lastSeenAt: Date | null;
}

/** Thrown when registering a uuid that is already taken. */
export class DeviceExistsError extends Error {}

/** Registers a device with its initial base target; the API key is returned only here. */
export async function registerDevice(
  db: Db,
  input: { uuid?: string; fleet: string; labels: Record<string, string>; apps: TargetApps },
): Promise<{ uuid: string; apiKey: string }> {
  const uuid = (input.uuid ?? randomUUID()).toLowerCase();
  const apiKey = generateApiKey();
  const inserted = await db.transaction(async (tx) => {
    const rows = await tx
      .insert(devices)
      .values({ uuid, fleet: input.fleet, labels: input.labels, apiKeyHash: hashApiKey(apiKey) })
      .onConflictDoNothing({ target: devices.uuid })
      .returning({ uuid: devices.uuid });
    if (rows.length === 0) return false;
    await tx
      .insert(deviceTargets)
      .values({ deviceUuid: uuid, apps: input.apps, etag: etagOf(input.apps) });
    await notifyTargets(tx, { type: 'devices', uuids: [uuid] });
    return true;
  });
  if (!inserted) throw new DeviceExistsError(`device ${uuid} is already registered`);
  return { uuid, apiKey };
}

const deviceColumns = {
  uuid: devices.uuid,
  fleet: devices.fleet,
  labels: devices.labels,
  createdAt: devices.createdAt,
  lastSeenAt: devices.lastSeenAt,
};

/** One page of devices ordered by uuid, filtered by fleet and label requirements. */
export async function listDevices(
  db: DbOrTx,
  query: { fleet?: string; selector?: LabelRequirement[]; limit: number; after?: string },
): Promise<{ items: DeviceRecord[]; last: string | undefined }> {
  const conditions: SQL[] = (query.selector ?? []).map(requirementSql);
  if (query.fleet !== undefined) conditions.push(eq(devices.fleet, query.fleet));
  if (query.after !== undefined) conditions.push(gt(devices.uuid, query.after));
  const items = await db
    .select(deviceColumns)
    .from(devices)
    .where(and(...conditions))
    .orderBy(asc(devices.uuid))
    .limit(query.limit + 1);
  const more = items.length > query.limit;
  if (more) items.pop();
  return { items, last: more ? items.at(-1)?.uuid : undefined };
}

/** The device, or undefined when no such uuid is registered. */
export async function getDevice(db: DbOrTx, uuid: string): Promise<DeviceRecord | undefined> {
  const [row] = await db.select(deviceColumns).from(devices).where(eq(devices.uuid, uuid));
  return row;
}

/** The uuid of the device a key hash belongs to, if any. */
export async function findDeviceByKeyHash(
  db: DbOrTx,
  keyHash: string,
): Promise<string | undefined> {
  const [row] = await db
    .select({ uuid: devices.uuid })
    .from(devices)
    .where(eq(devices.apiKeyHash, keyHash));
  return row?.uuid;
}

/** What the device cache needs of one device: its key hash and base ETag. */
export interface DeviceCredential {
  uuid: string;
  keyHash: string;
  baseEtag: string;
}

/** Credentials and base ETags of the devices in `uuids`. */
export async function loadCredentials(db: DbOrTx, uuids: readonly string[]) {
  if (uuids.length === 0) return [];
  return credentialQuery(db).where(
    sql`${devices.uuid} in (select value::uuid from jsonb_array_elements_text(${JSON.stringify(uuids)}::jsonb))`,
  );
}

/** Credentials and base ETags of every device in one uuid range (see `uuidRanges`). */
export async function loadCredentialsInRange(db: DbOrTx, range: SQL): Promise<DeviceCredential[]> {
  return credentialQuery(db).where(range);
}

function credentialQuery(db: DbOrTx) {
  return db
    .select({
      uuid: devices.uuid,
      keyHash: devices.apiKeyHash,
      baseEtag: sql<string>`coalesce(${deviceTargets.etag}, ${EMPTY_TARGET_ETAG})`,
    })
    .from(devices)
    .leftJoin(deviceTargets, eq(deviceTargets.deviceUuid, devices.uuid))
    .$dynamic();
}

/** What deleting a device removed, for its event-log entry. */
export interface DeletedDevice {
  uuid: string;
  fleet: string;
  /** `namespace/name` of the active or rolled-back rollouts the device was a member of. */
  rollouts: string[];
}

/**
 * Deletes a device with its base target and last report (foreign keys cascade), logs
 * `device.deleted` and announces it, in one transaction; undefined when no such device exists.
 * Its rollout memberships stay, since batch layouts count every member (see BatchProgress): in
 * the rollouts that still count progress, a member that had not settled (healthy or failed)
 * becomes one never heard from, so it counts as offline — not on the new image, since the
 * operator removed it — and those rollouts are told their counts changed.
 */
export async function deleteDevice(db: Db, uuid: string): Promise<DeletedDevice | undefined> {
  return db.transaction(async (tx) => {
    // Deleting first takes the row lock a concurrent report waits on, so none lands after this.
    const [device] = await tx
      .delete(devices)
      .where(eq(devices.uuid, uuid))
      .returning({ uuid: devices.uuid, fleet: devices.fleet });
    if (!device) return undefined;
    const rollouts = await queryRows<{ key: string }>(
      tx,
      sql`update rollout_members m set last_report_at = null,
            progress = case when m.progress in ('healthy', 'failed') then m.progress
              else 'scheduled' end,
            healthy_since = case when m.progress = 'healthy' then m.healthy_since end
          from rollout_targets r
          where m.device_uuid = ${uuid} and r.uid = m.rollout_uid
            and r.state in ('active', 'rolledBack')
          returning r.namespace || '/' || r.name as key`,
    );
    const deleted = { ...device, rollouts: rollouts.map((row) => row.key).sort() };
    await appendLog(tx, [{ type: 'device.deleted', subject: uuid, payload: { ...deleted } }]);
    await notifyProgress(tx, deleted.rollouts);
    await notifyTargets(tx, { type: 'devices', uuids: [uuid] });
    return deleted;
  });
}

/**
 * Gives a device a new API key, logs `device.key_rotated` (without the key) and announces it, in
 * one transaction: the old key stops working. The new key is returned only here; undefined when
 * no such device exists.
 */
export async function rotateApiKey(db: Db, uuid: string): Promise<string | undefined> {
  const apiKey = generateApiKey();
  const rotated = await db.transaction(async (tx) => {
    const [device] = await tx
      .update(devices)
      .set({ apiKeyHash: hashApiKey(apiKey) })
      .where(eq(devices.uuid, uuid))
      .returning({ uuid: devices.uuid, fleet: devices.fleet });
    if (!device) return false;
    await appendLog(tx, [{ type: 'device.key_rotated', subject: uuid, payload: { ...device } }]);
    await notifyTargets(tx, { type: 'devices', uuids: [uuid] });
    return true;
  });
  return rotated ? apiKey : undefined;
}
