import { DeliveryBuilder } from '../delivery-builder.js';
import { JsonReader } from '../json-reader.js';
import { type ParsedDelivery, PayloadError, type RawDelivery } from '../push.js';

/** Manifest media types whose push by tag is an image push (blobs and others are not). */
const MANIFEST_MEDIA_TYPES = new Set([
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
]);

/**
 * CNCF Distribution notification envelope (`events.v1+json` or `events.v2+json`): many events per
 * delivery, of which only manifest pushes that carry a tag are image pushes. Each event has an id.
 */
export function parseDistribution({ body, bodyHash }: RawDelivery): ParsedDelivery {
  const doc = new JsonReader(body).object();
  if (!Array.isArray(doc.at('events').value)) throw new PayloadError('events must be an array');
  const builder = new DeliveryBuilder('distribution');
  for (const [index, event] of doc.array('events').entries()) {
    const where = `events[${index}]`;
    event.object();
    const action = event.optionalString('action');
    const mediaType = event.optionalString('target.mediaType');
    if (action !== 'push' || mediaType === undefined || !MANIFEST_MEDIA_TYPES.has(mediaType)) {
      builder.ignore('NotAPush', `${where}: ${action ?? 'no action'} of ${mediaType ?? 'unknown'}`);
      continue;
    }
    builder.push({
      name: `${event.string('request.host')}/${event.string('target.repository')}`,
      tag: event.optionalString('target.tag'),
      digest: event.optionalString('target.digest'),
      pushedAt: event.optionalString('timestamp'),
      deliveryId: event.optionalString('id') ?? `sha256:${bodyHash}#${index}`,
      where,
    });
  }
  return builder.build();
}
