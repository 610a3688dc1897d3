import { DeliveryBuilder } from '../delivery-builder.js';
import { JsonReader } from '../json-reader.js';
import type { ParsedDelivery, RawDelivery } from '../push.js';

/** Docker Hub repository webhook: one tag per delivery, no digest, no delivery id. */
export function parseDockerHub({ body, bodyHash }: RawDelivery): ParsedDelivery {
  const doc = new JsonReader(body).object();
  return new DeliveryBuilder('dockerhub')
    .push({
      name: doc.string('repository.repo_name'),
      tag: doc.optionalString('push_data.tag'),
      pushedAt: doc.optionalNumber('push_data.pushed_at'),
      deliveryId: `sha256:${bodyHash}`,
      where: 'push_data',
    })
    .build();
}
