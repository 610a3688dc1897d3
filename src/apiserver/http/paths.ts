/** Parsing of resource paths below `/api/v1` and `/apis/<group>/<version>`. */

import { storable } from '../json.js';

/** What a resource path names. */
export interface ResourcePath {
  /** Namespace of a namespaced request; undefined for cluster-scoped or cluster-wide requests. */
  namespace?: string;
  plural: string;
  name?: string;
  subresource?: string;
}

/** Namespace subresources, which make `namespaces/x/status` not a resource list. */
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

/**
 * Parses the segments after the group-version prefix, or returns undefined when they cannot name
 * a resource (a segment holding what no name can, like NUL, names none): `[plural]`,
 * `[plural, name]`, `[plural, name, sub]`, `[namespaces, ns, plural]`,
 * `[namespaces, ns, plural, name]`, `[namespaces, ns, plural, name, sub]`.
 */
export function parseResourcePath(segments: string[]): ResourcePath | undefined {
  const unusable = (segment: string) =>
    segment === '' || segment === '.' || segment === '..' || !storable(segment);
  if (segments.some(unusable)) {
    return undefined;
  }
  const [first, second, third, fourth, fifth, ...rest] = segments;
  if (first === undefined || rest.length > 0) return undefined;
  if (first === 'namespaces' && second !== undefined && third !== undefined) {
    if (NAMESPACE_SUBRESOURCES.has(third) && fourth === undefined) {
      return { plural: 'namespaces', name: second, subresource: third };
    }
    return {
      namespace: second,
      plural: third,
      ...(fourth !== undefined ? { name: fourth } : {}),
      ...(fifth !== undefined ? { subresource: fifth } : {}),
    };
  }
  if (fourth !== undefined) return undefined;
  return {
    plural: first,
    ...(second !== undefined ? { name: second } : {}),
    ...(third !== undefined ? { subresource: third } : {}),
  };
}

/** Splits a URL path (without query) into decoded segments. */
export function pathSegments(path: string): string[] {
  return path
    .split('/')
    .filter((segment, index, all) => !(segment === '' && (index === 0 || index === all.length - 1)))
    .map((segment) => {
      try {
        return decodeURIComponent(segment);
      } catch {
        return '';
      }
    });
}
