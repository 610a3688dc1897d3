import {
  type ImageReference,
  InvalidImageReference,
  isPinnableDigest,
  isValidTag,
  normalizeRepository,
  parseImageReference,
} from '../api/image-reference.js';
import { clipWhole } from '../api/storable-text.js';
import type { IgnoreReason, ImagePush, ParsedDelivery, RegistryKind } from './push.js';
import { PayloadError } from './push.js';

/** True for a tag naming a signature, attestation or SBOM stored next to an image (cosign). */
function isArtifactTag(tag: string): boolean {
  return tag.startsWith('sha256-') || /\.(?:sig|att|sbom)$/.test(tag);
}

/** What a parser knows about one pushed tag, before normalization. */
export interface PushInput {
  /** Repository name as the registry wrote it, with host when known (`ghcr.io/acme/app`). */
  name: string;
  tag: string | undefined;
  digest?: string | undefined;
  /** Unix seconds or an RFC 3339 string. */
  pushedAt?: number | string | undefined;
  deliveryId: string;
  /** Where in the body the push came from, for messages. */
  where: string;
}

/** Collects the pushes, ignored events and warnings of one delivery, normalizing as it goes. */
export class DeliveryBuilder {
  private readonly result: ParsedDelivery;

  constructor(source: RegistryKind) {
    this.result = { source, pushes: [], ignored: [], warnings: [] };
  }

  /** Records a push; an untagged or artifact tag is recorded as ignored instead. */
  push(input: PushInput): this {
    const { tag, where } = input;
    if (!tag) return this.ignore('Untagged', `${where} has no tag`);
    if (!isValidTag(tag)) throw new PayloadError(`${where}: "${clip(tag)}" is not a valid tag`);
    if (isArtifactTag(tag)) return this.ignore('ArtifactTag', `${where}: tag "${tag}"`);
    const { registry, repository } = normalize(input.name, where);
    this.result.pushes.push({
      registry,
      repository,
      tag,
      digest: this.digest(input.digest, where),
      pushedAt: this.timestamp(input.pushedAt, where),
      deliveryId: input.deliveryId,
    } satisfies ImagePush);
    return this;
  }

  /** Records an event that is fine but starts no rollout. */
  ignore(reason: IgnoreReason, detail: string): this {
    this.result.ignored.push({ reason, detail });
    return this;
  }

  /** The parsed delivery. */
  build(): ParsedDelivery {
    return this.result;
  }

  private digest(digest: string | undefined, where: string): string | undefined {
    if (!digest) return undefined;
    if (isPinnableDigest(digest)) return digest;
    this.result.warnings.push(`${where}: ignored malformed digest "${clip(digest)}"`);
    return undefined;
  }

  private timestamp(value: number | string | undefined, where: string): string | undefined {
    if (value === undefined) return undefined;
    const date = typeof value === 'number' ? new Date(value * 1000) : new Date(value);
    if (Number.isNaN(date.getTime())) {
      this.result.warnings.push(`${where}: ignored malformed push time "${clip(String(value))}"`);
      return undefined;
    }
    return date.toISOString();
  }
}

function normalize(name: string, where: string): { registry: string; repository: string } {
  return asPayloadError(where, () => normalizeRepository(name));
}

/** Parses an image reference found in a body; a bad one is a PayloadError naming `where`. */
export function referenceAt(text: string, where: string): ImageReference {
  return asPayloadError(where, () => parseImageReference(text));
}

function asPayloadError<T>(where: string, parse: () => T): T {
  try {
    return parse();
  } catch (cause) {
    if (!(cause instanceof InvalidImageReference)) throw cause;
    throw new PayloadError(`${where}: ${cause.message}`, { cause });
  }
}

/** Shortens untrusted text quoted in a message. */
export function clip(text: string): string {
  return text.length > 80 ? `${clipWhole(text, 77)}...` : text;
}
