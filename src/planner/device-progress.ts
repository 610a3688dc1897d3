import { parseImageReference, repositoryOf } from '../api/image-reference.js';

/** A member's progress on a rollout's image, as stored in `rollout_members.progress`. */
export type MemberProgress = 'scheduled' | 'updating' | 'soaking' | 'healthy' | 'failed';

/** What a device reports: apps → services → image, status, health (all optional). */
export type ReportedApps = Record<string, unknown>;

/** What one report says about a device on a rollout's image. */
export interface ReportReading {
  /** Every watched service runs the new image. */
  updated: boolean;
  /** …and every one is running and healthy. */
  healthy: boolean;
  /** A watched service runs the new image and exited or is unhealthy. */
  failing: boolean;
  /** Every service the rollout changed runs its previous image again. */
  restored: boolean;
}

/** The rollout and member a report is read against. */
export interface MemberView {
  /** The rollout's normalized repository and full new reference. */
  repository: string;
  image: string;
  /** `app/service` → the image it ran before the rollout (`rollout_members.previous`). */
  previous: Record<string, string>;
}

interface ReportedService {
  image?: unknown;
  status?: unknown;
  health?: unknown;
}

/**
 * Reads a report against a member. The watched services are those the rollout changed plus any
 * reported service of the rollout's repository; a device with none has nothing to update and
 * reads as updated and healthy. Images compare by repository, and digest when both have one,
 * else tag, so `nginx:1.28` matches `docker.io/library/nginx:1.28`.
 */
export function readReport(apps: ReportedApps, member: MemberView): ReportReading {
  const services = flattenReport(apps);
  const watched = new Set(Object.keys(member.previous));
  for (const [key, service] of services) {
    if (typeof service.image === 'string' && repositoryOf(service.image) === member.repository) {
      watched.add(key);
    }
  }
  let updated = true;
  let healthy = true;
  let failing = false;
  for (const key of watched) {
    const service = services.get(key);
    const onNew = typeof service?.image === 'string' && sameImage(service.image, member.image);
    if (!onNew) {
      updated = false;
      healthy = false;
      continue;
    }
    const running = service?.status === 'running';
    if (service?.status === 'exited' || (running && service?.health === 'unhealthy')) {
      failing = true;
    }
    if (!running || service?.health !== 'healthy') healthy = false;
  }
  const restored = Object.entries(member.previous).every(([key, image]) => {
    const reported = services.get(key)?.image;
    return typeof reported === 'string' && sameImage(reported, image);
  });
  return { updated, healthy: updated && healthy && !failing, failing, restored };
}

/** A member's stored progress and whether its soak time has passed. */
export interface StoredProgress {
  progress: MemberProgress;
  /**
   * The soak time has passed since the healthy streak began (since now when it has not
   * begun: true only for a zero soak time).
   */
  soakElapsed: boolean;
}

/**
 * The next progress of a member after a report. Failing is final for the rollout (a later
 * healthy report does not undo it); healthy needs a healthy report at least the soak time after
 * the first one of an unbroken healthy streak — anything else restarts the soak. Healthy is
 * settled too: only a failing report (the new image exited or unhealthy) changes it, so a
 * restart (starting, health unknown) does not hold its batch open again.
 */
export function nextProgress(stored: StoredProgress, reading: ReportReading): MemberProgress {
  if (stored.progress === 'failed' || reading.failing) return 'failed';
  if (stored.progress === 'healthy') return 'healthy';
  if (reading.healthy) {
    return stored.soakElapsed ? 'healthy' : 'soaking';
  }
  return reading.updated ? 'updating' : 'scheduled';
}

/** `{ app: { services: { svc: x } } }` → `app/svc` → x, ignoring anything malformed. */
function flattenReport(apps: ReportedApps): Map<string, ReportedService> {
  const services = new Map<string, ReportedService>();
  for (const [appName, app] of Object.entries(apps)) {
    const byName = (app as { services?: unknown } | null)?.services;
    if (typeof byName !== 'object' || byName === null) continue;
    for (const [serviceName, service] of Object.entries(byName)) {
      if (typeof service === 'object' && service !== null) {
        services.set(`${appName}/${serviceName}`, service as ReportedService);
      }
    }
  }
  return services;
}

/** Same repository, and the same digest when both are pinned, else the same tag. */
export function sameImage(a: string, b: string): boolean {
  if (a === b) return true;
  const left = parse(a);
  const right = parse(b);
  if (!left || !right || left.repository !== right.repository) return false;
  if (left.digest && right.digest) return left.digest === right.digest;
  return (left.tag ?? 'latest') === (right.tag ?? 'latest');
}

function parse(image: string) {
  try {
    return parseImageReference(image);
  } catch {
    return undefined;
  }
}
