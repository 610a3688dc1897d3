import { sql } from 'drizzle-orm';
import { Gauge, type Registry } from 'prom-client';
import type { Database } from '../db/client.js';
import { ROLLOUT_DEFAULTS } from '../planner/defaults.js';
import { parseDuration } from '../planner/duration.js';
import { METRIC_PREFIX } from '../telemetry/metrics.js';

/** A device that reported within this long counts as seen recently (the rollouts' default). */
export const SEEN_RECENTLY_MS = parseDuration(ROLLOUT_DEFAULTS.offlineAfter);

/** The fleet counts are read from the database at most this often, whatever the scrape rate. */
const REFRESH_MS = 15_000;

interface FleetRow {
  fleet: string;
  online: number;
  offline: number;
  never: number;
}

/**
 * `fleet_rollout_fleet_devices{fleet, state}`: registered devices per fleet that reported
 * recently (`online`), not for SEEN_RECENTLY_MS (`offline`), or never (`never_seen`). One
 * grouped query at scrape time, at most every `refreshMs` (15 s); bounded by the number of
 * fleets. When the query fails the last counts stay (a scrape never fails because the database
 * did).
 */
export function registerFleetMetrics(
  registry: Registry,
  database: Pick<Database, 'query'>,
  refreshMs = REFRESH_MS,
): void {
  let rows: FleetRow[] = [];
  let readAt = Number.NEGATIVE_INFINITY;
  new Gauge({
    name: `${METRIC_PREFIX}fleet_devices`,
    help: `Registered devices per fleet: reported in the last ${ROLLOUT_DEFAULTS.offlineAfter} (online), earlier (offline), or never (never_seen).`,
    labelNames: ['fleet', 'state'] as const,
    registers: [registry],
    async collect() {
      if (performance.now() - readAt >= refreshMs) {
        try {
          rows = await database.query<FleetRow>(sql`
            select fleet,
              count(*) filter (where last_seen_at >= now() - ${SEEN_RECENTLY_MS / 1000} * interval '1 second')::int as online,
              count(*) filter (where last_seen_at < now() - ${SEEN_RECENTLY_MS / 1000} * interval '1 second')::int as offline,
              count(*) filter (where last_seen_at is null)::int as never
            from devices group by fleet`);
          readAt = performance.now();
        } catch {
          // Keep the last counts; /readyz and the connection state report the database.
        }
      }
      this.reset();
      for (const row of rows) {
        this.set({ fleet: row.fleet, state: 'online' }, row.online);
        this.set({ fleet: row.fleet, state: 'offline' }, row.offline);
        this.set({ fleet: row.fleet, state: 'never_seen' }, row.never);
      }
    },
  });
}
