import type { Logger } from '../telemetry/logger.js';
import { isObject, type JsonObject } from './json.js';
import { eventResource } from './resources/events.js';
import type { Services } from './rest/context.js';
import { removeNow } from './rest/remove.js';

/** How long old data is kept. */
export interface Retention {
  /** Change log entries older than this are compacted (watches from before answer 410). */
  changeLogSeconds: number;
  /** Events not seen again for this long are deleted, as a cluster's event TTL does. */
  eventSeconds: number;
}

/** When an event was last observed. */
function lastSeen(event: JsonObject): number {
  const series = isObject(event.series) ? event.series.lastObservedTime : undefined;
  const metadata = isObject(event.metadata) ? event.metadata : {};
  const candidates = [
    series,
    event.deprecatedLastTimestamp,
    event.eventTime,
    metadata.creationTimestamp,
  ];
  const time = candidates.find(
    (value) => typeof value === 'string' && !Number.isNaN(Date.parse(value)),
  );
  return time ? Date.parse(time as string) : 0;
}

/** Deletes expired events; returns how many went. */
async function expireEvents(services: Services, now: Date, ttlSeconds: number): Promise<number> {
  const cutoff = now.getTime() - ttlSeconds * 1000;
  const page = await services.store.list({
    resource: eventResource.storage,
    filter: (event) => lastSeen(event) < cutoff,
  });
  if (page.objects.length === 0) return 0;
  return services.store.write(async (writer) => {
    let removed = 0;
    for (const event of page.objects) {
      const metadata = event.metadata;
      const key = {
        resource: eventResource.storage,
        namespace: String(metadata.namespace ?? ''),
        name: String(metadata.name),
      };
      const current = await writer.get(key);
      if (current && lastSeen(current) < cutoff) {
        await removeNow(writer, services, key, current, current);
        removed += 1;
      }
    }
    return removed;
  });
}

/** Runs compaction and event expiry every `intervalMs`; returns the stop function. */
export function startMaintenance(
  services: Services,
  retention: Retention,
  intervalMs: number,
  clock: () => Date,
  logger: Logger,
): () => Promise<void> {
  let running: Promise<void> | undefined;
  const run = async () => {
    const now = clock();
    try {
      await services.store.compact(new Date(now.getTime() - retention.changeLogSeconds * 1000));
      await expireEvents(services, now, retention.eventSeconds);
    } catch (error) {
      logger.warn({ err: error }, 'apiserver maintenance failed');
    }
  };
  const timer = setInterval(() => {
    running ??= run().finally(() => {
      running = undefined;
    });
  }, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
