import { eq, sql } from 'drizzle-orm';
import type { Db, DbOrTx } from './client.js';
import { deviceReports, devices } from './schema/index.js';

/** The state a device reported: apps → services → image, status, health. */
export type ReportedApps = Record<string, unknown>;

/** What a device last reported, and when. */
export interface DeviceReport {
  apps: ReportedApps;
  reportedAt: Date;
}

/** Stores a device's report (replacing the previous one) and its last-seen time; false if unknown. */
export async function saveReport(db: Db, uuid: string, apps: ReportedApps): Promise<boolean> {
  return db.transaction(async (tx) => {
    const seen = await tx
      .update(devices)
      .set({ lastSeenAt: sql`now()` })
      .where(eq(devices.uuid, uuid))
      .returning({ uuid: devices.uuid });
    if (seen.length === 0) return false;
    await tx
      .insert(deviceReports)
      .values({ deviceUuid: uuid, apps })
      .onConflictDoUpdate({
        target: deviceReports.deviceUuid,
        set: { apps, reportedAt: sql`now()` },
      });
    return true;
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
