/** The registries the receiver understands, each with its own URL and authenticity check. */
export const REGISTRY_KINDS = [
  'dockerhub',
  'ghcr',
  'harbor',
  'quay',
  'distribution',
  'gar',
  'ecr',
  'generic',
] as const;

/** One of REGISTRY_KINDS. */
export type RegistryKind = (typeof REGISTRY_KINDS)[number];

/** True when `value` names a registry the receiver understands. */
export function isRegistryKind(value: string): value is RegistryKind {
  return (REGISTRY_KINDS as readonly string[]).includes(value);
}

/** One image push, in the same form whatever registry announced it. */
export interface ImagePush {
  /** Registry host, with port when given: `docker.io`, `ghcr.io`, `localhost:5000`. */
  registry: string;
  /** Normalized repository, Docker-style: `docker.io/library/nginx`. */
  repository: string;
  tag: string;
  /** `sha256:…` when the registry said which manifest the tag points to. */
  digest: string | undefined;
  /** When the registry says the push happened, RFC 3339. */
  pushedAt: string | undefined;
  /** Id of the event that announced the push (the registry's, or a hash of the body). */
  deliveryId: string;
}

/** Why an event of a delivery starts no rollout although the delivery is fine. */
export type IgnoreReason = 'NotAPush' | 'Untagged' | 'ArtifactTag';

/** An event of a delivery that is not a push we act on, and why. */
export interface IgnoredEvent {
  reason: IgnoreReason;
  detail: string;
}

/** What a parser made of one delivery. */
export interface ParsedDelivery {
  source: RegistryKind;
  pushes: ImagePush[];
  ignored: IgnoredEvent[];
  /** Things that were dropped but did not make the delivery invalid (a malformed digest). */
  warnings: string[];
}

/** A delivery as the parsers see it: JSON already parsed, header names in lower case. */
export interface RawDelivery {
  body: unknown;
  headers: Record<string, string | undefined>;
  /** Hex SHA-256 of the raw body: the delivery id when the registry sends none. */
  bodyHash: string;
}

/** A body that cannot be what it claims to be; the message says what is wrong and where. */
export class PayloadError extends Error {}
