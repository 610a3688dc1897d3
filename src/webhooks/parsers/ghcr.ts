import { isPinnableDigest } from '../../api/image-reference.js';
import { DeliveryBuilder } from '../delivery-builder.js';
import { JsonReader } from '../json-reader.js';
import { type ParsedDelivery, PayloadError, type RawDelivery } from '../push.js';

const PACKAGE_EVENTS = ['package', 'registry_package'] as const;

/** Actions GitHub names a container version push by; others count when they carry one. */
const PUSH_ACTIONS = ['published', 'updated'];
/** Actions that remove a version: never a push, whatever they carry. */
const DELETIONS = ['deleted', 'removed'];

/**
 * GitHub `package` / `registry_package` webhook for a GHCR container push. The event name comes
 * from `X-GitHub-Event` (or, without it, from the body); `ping` and other events are ignored.
 * GitHub has named the action several ways over time (`published`, `updated`, `create`, …), so
 * any action but a deletion is a push when its version carries a tag and a digest.
 */
export function parseGhcr({ body, headers, bodyHash }: RawDelivery): ParsedDelivery {
  const doc = new JsonReader(body).object();
  const builder = new DeliveryBuilder('ghcr');
  const event = headers['x-github-event'] ?? PACKAGE_EVENTS.find((key) => doc.has(key));
  if (event === undefined || !(PACKAGE_EVENTS as readonly string[]).includes(event)) {
    return builder.ignore('NotAPush', `GitHub event "${event ?? 'unknown'}"`).build();
  }
  const action = doc.optionalString('action');
  if (action !== undefined && DELETIONS.includes(action.toLowerCase())) {
    return builder.ignore('NotAPush', `package action "${action}"`).build();
  }
  const pkg = doc.object(event);
  if (!isContainerPackage(pkg)) {
    return builder.ignore('NotAPush', 'not a container package').build();
  }
  const version = pkg.object('package_version');
  const tag = version.optionalString('container_metadata.tag.name');
  const digest = manifestDigest(version);
  const known = action !== undefined && PUSH_ACTIONS.includes(action.toLowerCase());
  if (!known && (tag === undefined || digest === undefined)) {
    const detail = `package action "${action ?? 'none'}" without a tagged version and digest`;
    return builder.ignore('NotAPush', detail).build();
  }
  return builder
    .push({
      name: imageName(pkg, version),
      tag,
      digest,
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
