import type { TargetHealthCheck } from '../devices/health-checks.js';
import type { TargetApps } from '../devices/target-document.js';
import type { ReportedApps, ReportedService } from './device-api-client.js';
import type { ScriptVerdict } from './script-checks.js';

/** How a service ends up after starting: its status and health. */
export type Outcome = Omit<ReportedService, 'image'>;

/** One service of the target: where it lives, the image it should run, its health checks. */
export interface WantedService {
  app: string;
  service: string;
  image: string;
  checks?: TargetHealthCheck[];
}

/** What moving to a target takes: services to (re)start, services to remove, and a pull or not. */
export interface Change {
  start: WantedService[];
  remove: string[];
  pull: boolean;
}

const HEALTHY: Outcome = { status: 'running', health: 'healthy' };

/**
 * What a device runs, as a container engine would: services by `app/service`, the images it
 * has pulled, and the images it has run healthy (which never fail it again, so a rollback to
 * its previous image comes up healthy). No I/O, no timers: the device drives it.
 */
export class DeviceServices {
  private readonly running = new Map<string, ReportedService & WantedService>();
  private readonly pulled = new Set<string>();
  private readonly good = new Set<string>();

  /** `failure(image)`: how this device fails on a new image, or undefined when it does not. */
  constructor(private readonly failure: (image: string) => Outcome | undefined) {}

  /** Takes `apps` as already running and healthy (the device's factory state). */
  install(apps: TargetApps): void {
    for (const wanted of servicesOf(apps)) {
      this.running.set(keyOf(wanted), { ...wanted, ...HEALTHY });
      this.pulled.add(wanted.image);
      this.good.add(wanted.image);
    }
  }

  /** What reaching `apps` takes; services still starting are started again. Undefined: nothing. */
  plan(apps: TargetApps): Change | undefined {
    const wanted = new Map(servicesOf(apps).map((service) => [keyOf(service), service]));
    const remove = [...this.running.keys()].filter((key) => !wanted.has(key));
    const start = [...wanted.values()].filter((service) => {
      const now = this.running.get(keyOf(service));
      return now?.image !== service.image || now.status === 'starting';
    });
    if (start.length === 0 && remove.length === 0) return undefined;
    return { start, remove, pull: start.some((service) => !this.pulled.has(service.image)) };
  }

  /** The images are pulled: removes what goes, marks what starts as `starting`. */
  start(change: Change): void {
    for (const key of change.remove) this.running.delete(key);
    for (const service of change.start) {
      this.pulled.add(service.image);
      this.running.set(keyOf(service), { ...service, status: 'starting', health: 'unknown' });
    }
  }

  /**
   * The started services settle: healthy, unless the image fails this device or a script check
   * of the service failed (`scripts`: verdicts by `app/service`).
   */
  settle(change: Change, scripts: ReadonlyMap<string, ScriptVerdict> = new Map()): void {
    for (const service of change.start) {
      const script = scripts.get(keyOf(service));
      const outcome: Outcome =
        script && !script.healthy
          ? { status: 'running', health: 'unhealthy', healthReason: script.reason }
          : this.outcome(service.image);
      this.running.set(keyOf(service), { ...service, ...outcome });
    }
  }

  /** The reported state: apps → services → image, status, health. */
  reported(): ReportedApps {
    const apps: ReportedApps = {};
    for (const { app, service, image, status, health, healthReason } of this.running.values()) {
      const reported = apps[app] ?? { services: {} };
      reported.services[service] = { image, status, health, ...reason(healthReason) };
      apps[app] = reported;
    }
    return apps;
  }

  /** Services by `app/service` (copies). */
  services(): Record<string, ReportedService> {
    const services: Record<string, ReportedService> = {};
    for (const [key, { image, status, health, healthReason }] of this.running) {
      services[key] = { image, status, health, ...reason(healthReason) };
    }
    return services;
  }

  private outcome(image: string): Outcome {
    const failure = this.good.has(image) ? undefined : this.failure(image);
    if (failure) return failure;
    this.good.add(image);
    return HEALTHY;
  }
}

function servicesOf(apps: TargetApps): WantedService[] {
  return Object.entries(apps).flatMap(([app, { services }]) =>
    Object.entries(services).map(([service, { image, healthChecks }]) => ({
      app,
      service,
      image,
      ...(Array.isArray(healthChecks) ? { checks: healthChecks as TargetHealthCheck[] } : {}),
    })),
  );
}

function reason(healthReason: string | undefined) {
  return healthReason === undefined ? {} : { healthReason };
}

/** A service's key: `app/service`. */
export function keyOf(service: WantedService): string {
  return `${service.app}/${service.service}`;
}
