import { DeliveryBuilder } from '../delivery-builder.js';
import { JsonReader, MAX_ARRAY_ITEMS } from '../json-reader.js';
import { type ParsedDelivery, PayloadError, type RawDelivery } from '../push.js';

/**
 * Quay "Repository Push" notification. `updated_tags` is a list of tags, or in the legacy
 * format a map of tag → image id. No digest, no time, no delivery id.
 */
export function parseQuay({ body, bodyHash }: RawDelivery): ParsedDelivery {
  const doc = new JsonReader(body).object();
  const name = doc.string('docker_url');
  const builder = new DeliveryBuilder('quay');
  const tags = updatedTags(doc);
  if (tags.length === 0) builder.ignore('Untagged', 'updated_tags is empty');
  for (const [index, tag] of tags.entries()) {
    builder.push({
      name,
      tag,
      deliveryId: `sha256:${bodyHash}`,
      where: `updated_tags[${index}]`,
    });
  }
  return builder.build();
}

function updatedTags(doc: JsonReader): string[] {
  const tags = doc.at('updated_tags');
  // Legacy format: { "<tag>": "<image id>" }.
  if (tags.isObject()) {
    const keys = Object.keys(tags.value as object);
    if (keys.length > MAX_ARRAY_ITEMS) {
      throw new PayloadError(`updated_tags has more than ${MAX_ARRAY_ITEMS} tags`);
    }
    return keys;
  }
  return doc.array('updated_tags').map((item, index) => {
    if (typeof item.value !== 'string') {
      throw new PayloadError(`updated_tags[${index}] must be a string`);
    }
    return item.value;
  });
}
