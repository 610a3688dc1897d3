import { DeliveryBuilder, referenceAt } from '../delivery-builder.js';
import { JsonReader } from '../json-reader.js';
import { type ParsedDelivery, PayloadError, type RawDelivery } from '../push.js';

/**
 * Harbor webhook, in its "Default" format (`type: PUSH_ARTIFACT`, `event_data`) or its
 * "CloudEvents" format (`type: harbor.artifact.pushed`, `data`). One push event may list several
 * tags of one digest; the registry host is only found in each resource's `resource_url`.
 */
export function parseHarbor({ body, bodyHash }: RawDelivery): ParsedDelivery {
  const doc = new JsonReader(body).object();
  const cloudEvent = doc.has('specversion');
  const type = doc.string('type');
  const builder = new DeliveryBuilder('harbor');
  if (type !== (cloudEvent ? 'harbor.artifact.pushed' : 'PUSH_ARTIFACT')) {
    return builder.ignore('NotAPush', `Harbor event "${type}"`).build();
  }
  const data = cloudEvent ? doc.object('data') : doc.object('event_data');
  const deliveryId = (cloudEvent ? doc.optionalString('id') : undefined) ?? `sha256:${bodyHash}`;
  const pushedAt = cloudEvent ? doc.optionalString('time') : doc.optionalNumber('occur_at');
  const resources = data.array('resources');
  if (resources.length === 0) throw new PayloadError('the push event lists no resources');
  for (const [index, resource] of resources.entries()) {
    const where = `resources[${index}]`;
    const digest = resource.optionalString('digest');
    const tag = resource.optionalString('tag');
    builder.push({
      name: referenceAt(resource.string('resource_url'), `${where}.resource_url`).repository,
      // Harbor reports an artifact pushed by digest with the digest as its "tag".
      tag: tag === digest ? undefined : tag,
      digest,
      pushedAt,
      deliveryId,
      where,
    });
  }
  return builder.build();
}
