import { DeliveryBuilder, referenceAt } from '../delivery-builder.js';
import { JsonReader, parseJson } from '../json-reader.js';
import { type ParsedDelivery, PayloadError, type RawDelivery } from '../push.js';

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/**
 * Google Artifact Registry notification through a Pub/Sub push subscription: the envelope's
 * `message.data` is base64 JSON `{action, digest, tag}` with full references. Only an INSERT
 * with a tag is an image push; `messageId` is the delivery id (Pub/Sub delivers at least once).
 */
export function parseGar({ body }: RawDelivery): ParsedDelivery {
  const envelope = new JsonReader(body).object();
  const message = envelope.object('message');
  const deliveryId = message.optionalString('messageId') ?? message.string('message_id');
  const pushedAt = message.optionalString('publishTime') ?? message.optionalString('publish_time');
  const data = decodeData(message.string('data'));
  const builder = new DeliveryBuilder('gar');
  const action = data.string('action');
  if (action !== 'INSERT') return builder.ignore('NotAPush', `GAR ${action}`).build();
  const tagged = data.optionalString('tag');
  if (tagged === undefined) return builder.ignore('Untagged', 'message.data has no tag').build();
  const image = referenceAt(tagged, 'message.data.tag');
  if (image.tag === undefined) throw new PayloadError('message.data.tag must be <image>:<tag>');
  return builder
    .push({
      name: image.repository,
      tag: image.tag,
      digest: digestOf(data.optionalString('digest'), image.repository),
      pushedAt,
      deliveryId,
      where: 'message.data',
    })
    .build();
}

/** The digest of `<image>@<digest>`, which must name the same image as the tag. */
function digestOf(reference: string | undefined, repository: string): string | undefined {
  if (reference === undefined) return undefined;
  const at = reference.lastIndexOf('@');
  const where = 'message.data.digest';
  if (at < 0) throw new PayloadError(`${where} must be <image>@<digest>`);
  if (referenceAt(reference.slice(0, at), where).repository !== repository) {
    throw new PayloadError(`${where} and message.data.tag name different images`);
  }
  return reference.slice(at + 1);
}

function decodeData(data: string): JsonReader {
  if (!BASE64.test(data)) throw new PayloadError('message.data must be base64');
  const text = Buffer.from(data, 'base64').toString('utf8');
  return new JsonReader(parseJson(text, 'message.data'), 'message.data').object();
}
