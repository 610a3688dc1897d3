import { createHash } from 'node:crypto';
import { repositoryOf } from '../api/image-reference.js';
import type { HealthCheck } from '../api/types.js';
import { checksForService } from './health-checks.js';

/** One service of a device's target: at least an image; other settings pass through untouched. */
export interface TargetService {
  image: string;
  [setting: string]: unknown;
}

/** One app of a device's target: its services by name. */
export interface TargetApp {
  services: Record<string, TargetService>;
  [setting: string]: unknown;
}

/** A device's target state: apps → services → image. */
export type TargetApps = Record<string, TargetApp>;

/** Serializes JSON with object keys sorted, so equal documents give equal text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.keys(value as Record<string, unknown>)
    .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
    .sort()
    .map(
      (key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`,
    );
  return `{${entries.join(',')}}`;
}

/** The content hash of a target document: equal content, equal ETag value (unquoted). */
export function etagOf(apps: TargetApps): string {
  return createHash('sha256').update(canonicalJson(apps)).digest('base64url').slice(0, 27);
}

/** ETag of the empty document, the target of a device registered without apps. */
export const EMPTY_TARGET_ETAG = etagOf({});

/** Result of rewriting a document's images: the new document and what each changed service ran. */
export interface ImageRewrite {
  apps: TargetApps;
  /** `app/service` → the image it had before the rewrite. */
  previous: Record<string, string>;
}

/**
 * Points every service whose image repository equals `repository` at `image`; pure. With
 * `checks` (the rollout's health checks), each rewritten service carries the ones that apply to
 * it as `healthChecks`, replacing those of its previous image; without (null: an overlay from
 * before rollouts carried checks), it keeps its own.
 */
export function rewriteImages(
  apps: TargetApps,
  repository: string,
  image: string,
  checks?: readonly HealthCheck[] | null,
): ImageRewrite {
  const previous: Record<string, string> = {};
  const next: TargetApps = {};
  for (const [appName, app] of Object.entries(apps)) {
    const services: Record<string, TargetService> = {};
    for (const [serviceName, service] of Object.entries(app.services)) {
      if (service.image !== image && repositoryOf(service.image) === repository) {
        previous[`${appName}/${serviceName}`] = service.image;
        services[serviceName] = withChecks({ ...service, image }, serviceName, checks);
      } else {
        services[serviceName] = service;
      }
    }
    next[appName] = { ...app, services };
  }
  return { apps: next, previous };
}

function withChecks(
  service: TargetService,
  name: string,
  checks: readonly HealthCheck[] | null | undefined,
): TargetService {
  if (!checks) return service;
  const { healthChecks: _replaced, ...rest } = service;
  const own = checksForService(checks, name);
  return own.length > 0 ? { ...rest, healthChecks: own } : rest;
}

/**
 * A rollout's rewrite as it applies to a device: every service of `repository` runs `image`,
 * with the rollout's `checks` when it has any.
 */
export interface ImageOverlay {
  repository: string;
  image: string;
  checks?: readonly HealthCheck[] | null;
}

/** The effective document: the base with each overlay's rewrite applied in order; pure. */
export function applyOverlays(base: TargetApps, overlays: readonly ImageOverlay[]): TargetApps {
  let apps = base;
  for (const overlay of overlays)
    apps = rewriteImages(apps, overlay.repository, overlay.image, overlay.checks).apps;
  return apps;
}
