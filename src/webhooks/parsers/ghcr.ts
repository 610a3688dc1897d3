import { isPinnableDigest } from '../../api/image-reference.js';
import { DeliveryBuilder } from '../delivery-builder.js';
import { JsonReader } from '../json-reader.js';
import { type ParsedDelivery, PayloadError, type RawDelivery } from '../push.js';

const PACKAGE_EVENTS = ['package', 'registry_package'] as const;

/**
 * GitHub `package` / `registry_package` webhook for a GHCR container push. The event name comes
 * from `X-GitHub-Event` (or, without it, from the body); `ping` and other events are ignored.
 */
export function parseGhcr({ body, headers, bodyHash }: RawDelivery): ParsedDelivery {
  const doc = new JsonReader(body).object();
  const builder = new DeliveryBuilder('ghcr');
  const event = headers['x-github-event'] ?? PACKAGE_EVENTS.find((key) => doc.has(key));
  if (event === undefined || !(PACKAGE_EVENTS as readonly string[]).includes(event)) {
    return builder.ignore('NotAPush', `GitHub event "${event ?? 'unknown'}"`).build();
  }
  const action = doc.string('action');
  if (action !== 'published' && action !== 'updated') {
    return builder.ignore('NotAPush', `package action "${action}"`).build();
  }
  const pkg = doc.object(event);
  if (!isContainerPackage(pkg)) {
    return builder.ignore('NotAPush', 'not a container package').build();
  }
  const version = pkg.object('package_version');
  return builder
    .push({
      name: imageName(pkg, version),
      tag: version.optionalString('container_metadata.tag.name'),
      digest: manifestDigest(version),
      pushedAt: pkg.optionalString('updated_at'),
      deliveryId: headers['x-github-delivery'] ?? `sha256:${bodyHash}`,
      where: `${event}.package_version`,
    })
    .build();
}

function isContainerPackage(pkg: JsonReader): boolean {
  const kinds = [pkg.optionalString('package_type'), pkg.optionalString('ecosystem')];
  return kinds.some((kind) => kind !== undefined && /^(container|docker)$/i.test(kind));
}

/** `ghcr.io/<owner>/<name>` in lower case, from `package_url` or else from namespace and name. */
function imageName(pkg: JsonReader, version: JsonReader): string {
  const url = version.optionalString('package_url');
  if (url !== undefined) return url.replace(/:[^/]*$/, '').toLowerCase();
  const owner = pkg.optionalString('namespace') ?? pkg.optionalString('owner.login');
  if (owner === undefined) {
    throw new PayloadError('package_version.package_url or the package namespace is required');
  }
  return `ghcr.io/${owner}/${pkg.string('name')}`.toLowerCase();
}

/** The digest the tag points to; GitHub's examples sometimes carry a commit id there instead. */
function manifestDigest(version: JsonReader): string | undefined {
  const candidates = [
    version.optionalString('container_metadata.tag.digest'),
    version.optionalString('container_metadata.manifest.digest'),
    version.optionalString('version'),
  ];
  return (
    candidates.find((digest) => digest !== undefined && isPinnableDigest(digest)) ??
    candidates.find((digest) => digest !== undefined)
  );
}
