import { eq, sql } from 'drizzle-orm';
import type { ReportedApps } from '../planner/device-progress.js';
import type { Db, DbOrTx } from './client.js';
import { recordReportProgress } from './progress-store.js';
import { deviceReports, devices } from './schema/index.js';

export type { ReportedApps } from '../planner/device-progress.js';

/** What a device last reported, and when. */
export interface DeviceReport {
  apps: ReportedApps;
  reportedAt: Date;
}

/**
 * Stores a device's report (replacing the previous one), its last-seen time and its progress in
 * the rollouts it takes part in, in one transaction. Undefined for an unknown device; else the
 * rollouts (`namespace/name`) whose device counts changed.
 */
export async function saveReport(
  db: Db,
  uuid: string,
  apps: ReportedApps,
): Promise<{ rollouts: string[] } | undefined> {
  return db.transaction(async (tx) => {
    const seen = await tx
      .update(devices)
      .set({ lastSeenAt: sql`now()` })
      .where(eq(devices.uuid, uuid))
      .returning({ uuid: devices.uuid });
    if (seen.length === 0) return undefined;
    await tx
      .insert(deviceReports)
      .values({ deviceUuid: uuid, apps })
      .onConflictDoUpdate({
        target: deviceReports.deviceUuid,
        set: { apps, reportedAt: sql`now()` },
      });
    return { rollouts: await recordReportProgress(tx, uuid, apps) };
  });
}

/** The device's last report, or undefined when it never reported. */
export async function getReport(db: DbOrTx, uuid: string): Promise<DeviceReport | undefined> {
  const [row] = await db
    .select({ apps: deviceReports.apps, reportedAt: deviceReports.reportedAt })
    .from(deviceReports)
    .where(eq(deviceReports.deviceUuid, uuid));
  return row;
}
