/** A parsed image reference, normalized the way Docker does (`nginx` → `docker.io/library/nginx`). */
export interface ImageReference {
  /** Registry host, with port when given: `docker.io`, `ghcr.io`, `localhost:5000`. */
  registry: string;
  /** Registry host plus path: `docker.io/library/nginx`. */
  repository: string;
  tag: string | undefined;
  /** `sha256:…` when the reference is pinned. */
  digest: string | undefined;
}

const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_ALIASES = new Set([
  'index.docker.io',
  'registry-1.docker.io',
  'registry.hub.docker.com',
]);
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const HOST =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::\d{1,5})?$|^\[[0-9a-fA-F:]+\](?::\d{1,5})?$/;

const PINNABLE_DIGEST = /^sha256:[a-f0-9]{64}$/;

/** True for a tag Docker accepts: a word character, then up to 127 of `[A-Za-z0-9_.-]`. */
export function isValidTag(tag: string): boolean {
  return TAG.test(tag);
}

/** True for a digest a rollout can pin (the ImageRollout CRD's form): `sha256:` and 64 hex digits. */
export function isPinnableDigest(digest: string): boolean {
  return PINNABLE_DIGEST.test(digest);
}

/** Thrown for a string that is not a valid image reference; the message says why. */
export class InvalidImageReference extends Error {}

/** Parses `[host/]path[:tag][@digest]`, normalizing Docker Hub names; throws InvalidImageReference. */
export function parseImageReference(input: string): ImageReference {
  if (input.length === 0 || input.length > 512) {
    throw new InvalidImageReference('an image reference must be 1 to 512 characters long');
  }
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw new InvalidImageReference(`invalid digest "${digest}"`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw new InvalidImageReference(`invalid tag "${tag}"`);
  }
  return { ...normalizeRepository(rest), tag, digest };
}

/** Normalizes a repository name without tag or digest; throws InvalidImageReference. */
export function normalizeRepository(name: string): { registry: string; repository: string } {
  const parts = name.split('/');
  let registry = DOCKER_HUB;
  const first = parts[0] ?? '';
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    if (!HOST.test(first)) throw new InvalidImageReference(`invalid registry host "${first}"`);
    registry = first.toLowerCase();
    parts.shift();
  }
  if (DOCKER_HUB_ALIASES.has(registry)) registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && parts.length === 1) parts.unshift('library');
  if (parts.length === 0 || parts.some((p) => !PATH_COMPONENT.test(p))) {
    throw new InvalidImageReference(`invalid repository "${name}"`);
  }
  return { registry, repository: `${registry}/${parts.join('/')}` };
}

/** Formats a reference as `repository[:tag][@digest]`. */
export function formatImageReference(ref: Pick<ImageReference, 'repository' | 'tag' | 'digest'>) {
  return `${ref.repository}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** The normalized repository of a reference, or undefined when it does not parse. */
export function repositoryOf(image: string): string | undefined {
  try {
    return parseImageReference(image).repository;
  } catch {
    return undefined;
  }
}
