import { JsonReader } from '../json-reader.js';
import type { ParsedDelivery, RawDelivery, RegistryKind } from '../push.js';
import { parseDistribution } from './distribution.js';
import { parseDockerHub } from './dockerhub.js';
import { parseEcr } from './ecr.js';
import { parseGar } from './gar.js';
import { parseGeneric } from './generic.js';
import { parseGhcr } from './ghcr.js';
import { parseHarbor } from './harbor.js';
import { parseQuay } from './quay.js';

/** The parser of each registry: pure functions from a delivery to pushes. */
export const PARSERS: Record<RegistryKind, (delivery: RawDelivery) => ParsedDelivery> = {
  dockerhub: parseDockerHub,
  ghcr: parseGhcr,
  harbor: parseHarbor,
  quay: parseQuay,
  distribution: parseDistribution,
  gar: parseGar,
  ecr: parseEcr,
  generic: parseGeneric,
};

/**
 * Guesses which registry sent a delivery, from its headers and the shape of its body, for the
 * auto-detecting `docker-registry` URL. Undefined when nothing fits.
 */
export function detectRegistry(delivery: Omit<RawDelivery, 'bodyHash'>): RegistryKind | undefined {
  const { headers } = delivery;
  if (headers['x-github-event'] !== undefined) return 'ghcr';
  if (/^application\/vnd\.docker\.distribution\.events\./.test(headers['content-type'] ?? '')) {
    return 'distribution';
  }
  const doc = new JsonReader(delivery.body);
  if (!doc.isObject()) return undefined;
  const string = (path: string) => {
    const value = doc.at(path).value;
    return typeof value === 'string' ? value : undefined;
  };
  if (Array.isArray(doc.at('events').value)) return 'distribution';
  if (doc.has('push_data') && doc.has('repository.repo_name')) return 'dockerhub';
  if (doc.has('event_data') || string('type')?.startsWith('harbor.')) return 'harbor';
  if (doc.has('updated_tags') && doc.has('docker_url')) return 'quay';
  if (doc.has('message.data') && doc.has('subscription')) return 'gar';
  if (string('source') === 'aws.ecr') return 'ecr';
  if (doc.has('package') || doc.has('registry_package')) return 'ghcr';
  if (doc.has('image')) return 'generic';
  return undefined;
}
