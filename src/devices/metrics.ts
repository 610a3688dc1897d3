import { Counter, Gauge, type Registry } from 'prom-client';
import type { DeviceCache } from './device-cache.js';

/** Metrics of the device API; labels are bounded (never a device id). */
export interface DeviceMetrics {
  /** Poll outcomes, counted with plain increments on the hot path and exported at scrape. */
  polls: { ok: number; notModified: number };
  notifications: Counter<'type'>;
  reloads: Counter;
  recomputed: Counter;
  batchStarts: Counter<'source'>;
  /** Device requests refused with 503 because the event loop ran late (load shedding). */
  shed: Counter<'route'>;
}

/** Registers the device API's metrics on `registry`. */
export function createDeviceMetrics(registry: Registry, cache: DeviceCache): DeviceMetrics {
  const polls = { ok: 0, notModified: 0 };
  new Counter({
    name: 'fleet_rollout_device_polls_total',
    help: 'Device state polls answered, by outcome: 200 (new target sent) or 304 (unchanged).',
    labelNames: ['outcome'] as const,
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ outcome: '200' }, polls.ok);
      this.inc({ outcome: '304' }, polls.notModified);
    },
  });
  new Gauge({
    name: 'fleet_rollout_devices_registered',
    help: 'Registered devices, as known to this process.',
    registers: [registry],
    collect() {
      this.set(cache.size);
    },
  });
  new Gauge({
    name: 'fleet_rollout_device_long_polls',
    help: 'Long polls currently waiting for a target change.',
    registers: [registry],
    collect() {
      this.set(cache.waiting);
    },
  });
  return {
    polls,
    notifications: new Counter({
      name: 'fleet_rollout_device_cache_notifications_total',
      help: 'Target change notifications received by the device cache, by type.',
      labelNames: ['type'] as const,
      registers: [registry],
    }),
    reloads: new Counter({
      name: 'fleet_rollout_device_cache_reloads_total',
      help: 'Full reloads of the device cache (start, reconnect, recovery).',
      registers: [registry],
    }),
    recomputed: new Counter({
      name: 'fleet_rollout_device_cache_recomputed_total',
      help: 'Devices whose cache entry was recomputed from the database.',
      registers: [registry],
    }),
    batchStarts: new Counter({
      name: 'fleet_rollout_device_cache_batch_starts_total',
      help: 'Started batches applied to the device cache, by where their members came from: memory (prepared ahead) or the database.',
      labelNames: ['source'] as const,
      registers: [registry],
    }),
    shed: new Counter({
      name: 'fleet_rollout_device_requests_shed_total',
      help: 'Device requests answered 503 with Retry-After because the event loop ran later than FLEET_ROLLOUT_DEVICE_SHED_LAG_MS, by route.',
      labelNames: ['route'] as const,
      registers: [registry],
    }),
  };
}
