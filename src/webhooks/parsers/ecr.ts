import { clip, DeliveryBuilder } from '../delivery-builder.js';
import { JsonReader } from '../json-reader.js';
import { type ParsedDelivery, PayloadError, type RawDelivery } from '../push.js';

const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;

/**
 * Amazon EventBridge "ECR Image Action" event, as an API destination posts it. Only a successful
 * PUSH with an `image-tag` is an image push; a push adding several tags sends one event per tag.
 */
export function parseEcr({ body }: RawDelivery): ParsedDelivery {
  const doc = new JsonReader(body).object();
  const builder = new DeliveryBuilder('ecr');
  const source = doc.string('source');
  const detailType = doc.string('detail-type');
  if (source !== 'aws.ecr' || detailType !== 'ECR Image Action') {
    return builder.ignore('NotAPush', `${source} event "${detailType}"`).build();
  }
  const action = doc.string('detail.action-type');
  const result = doc.string('detail.result');
  if (action !== 'PUSH' || result !== 'SUCCESS') {
    return builder.ignore('NotAPush', `ECR ${action} with result ${result}`).build();
  }
  return builder
    .push({
      name: `${registryHost(doc)}/${doc.string('detail.repository-name')}`,
      tag: doc.optionalString('detail.image-tag'),
      digest: doc.optionalString('detail.image-digest'),
      pushedAt: doc.optionalString('time'),
      deliveryId: doc.string('id'),
      where: 'detail',
    })
    .build();
}

/** `<account>.dkr.ecr.<region>.amazonaws.com` (`.com.cn` in the China regions). */
function registryHost(doc: JsonReader): string {
  const account = doc.string('account');
  const region = doc.string('region');
  if (!ACCOUNT.test(account)) throw new PayloadError('account must be a 12-digit AWS account id');
  if (!REGION.test(region)) throw new PayloadError(`region "${clip(region)}" is not an AWS region`);
  const domain = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `${account}.dkr.ecr.${region}.${domain}`;
}
