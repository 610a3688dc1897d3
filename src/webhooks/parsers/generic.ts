import { isPinnableDigest } from '../../api/image-reference.js';
import { clip, DeliveryBuilder, referenceAt } from '../delivery-builder.js';
import { JsonReader } from '../json-reader.js';
import { type ParsedDelivery, PayloadError, type RawDelivery } from '../push.js';

/**
 * Our own format, for CI pipelines and registries we do not know (documented in the README):
 * `{"image": "ghcr.io/acme/app", "tag": "1.2.3", "digest": "sha256:…", "pushedAt": "…",
 * "id": "…"}`. `image` may carry the tag and digest itself; only `image` and a tag are required.
 */
export function parseGeneric({ body, bodyHash }: RawDelivery): ParsedDelivery {
  const doc = new JsonReader(body).object();
  const image = referenceAt(doc.string('image'), 'image');
  const tag = pick('tag', image.tag, doc.optionalString('tag'));
  const digest = pick('digest', image.digest, doc.optionalString('digest'));
  if (tag === undefined) throw new PayloadError('tag is required (in "tag" or in "image")');
  if (digest !== undefined && !isPinnableDigest(digest)) {
    throw new PayloadError('digest must be sha256: and 64 hex digits');
  }
  const pushedAt = doc.optionalString('pushedAt');
  if (pushedAt !== undefined && Number.isNaN(Date.parse(pushedAt))) {
    throw new PayloadError('pushedAt must be an RFC 3339 time');
  }
  return new DeliveryBuilder('generic')
    .push({
      name: image.repository,
      tag,
      digest,
      pushedAt,
      deliveryId: doc.optionalString('id') ?? `sha256:${bodyHash}`,
      where: 'image',
    })
    .build();
}

/** The one value given, in the image reference or in its own field; both must agree. */
function pick(field: string, inImage: string | undefined, own: string | undefined) {
  if (inImage !== undefined && own !== undefined && inImage !== own) {
    throw new PayloadError(`${field} "${clip(own)}" disagrees with the ${field} in image`);
  }
  return own ?? inImage;
}
