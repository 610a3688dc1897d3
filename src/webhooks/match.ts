import { Minimatch } from 'minimatch';
import semver from 'semver';
import { InvalidImageReference, normalizeRepository } from '../api/image-reference.js';
import type { ImagePolicy, ImagePolicySpec } from '../api/types.js';
import type { ImagePush } from './push.js';

/** Whether a push matches a policy, and why not when it does not. */
export type MatchResult = { matched: true } | { matched: false; reason: string };

/** The policies a push starts a rollout for: not suspended, not being deleted, matching. */
export function matchingPolicies(policies: ImagePolicy[], push: ImagePush): ImagePolicy[] {
  return policies.filter((policy) => policyVerdict(policy, push).matched);
}

/**
 * Whether a push starts a rollout for one policy, and why not: its image or tags do not match
 * (matchPolicy), or it matches but the policy is suspended or being deleted. The receiver's own rule, also what
 * `kubectl fleet match` explains.
 */
export function policyVerdict(
  policy: ImagePolicy,
  push: Pick<ImagePush, 'repository' | 'tag'>,
): MatchResult {
  const matched = matchPolicy(policy.spec, push);
  if (!matched.matched) return matched;
  if (policy.spec.suspend === true) return { matched: false, reason: 'the policy is suspended' };
  if (policy.metadata.deletionTimestamp !== undefined) {
    return { matched: false, reason: 'the policy is being deleted' };
  }
  return matched;
}

/**
 * Matches a push against a policy spec: `image` is a minimatch glob over the normalized
 * repository (a plain name without glob characters is normalized first, so `nginx` means
 * `docker.io/library/nginx`); `tags.pattern` is a glob over the tag; `tags.semver` a range
 * that the tag (with or without a leading `v`) must satisfy, pre-releases only when
 * `includePrerelease`.
 */
export function matchPolicy(
  spec: Pick<ImagePolicySpec, 'image' | 'tags'>,
  push: Pick<ImagePush, 'repository' | 'tag'>,
): MatchResult {
  if (!imageMatches(spec.image, push.repository)) {
    return { matched: false, reason: `repository does not match "${spec.image}"` };
  }
  const { pattern, semver: range, includePrerelease = false } = spec.tags ?? {};
  if (pattern !== undefined && !new Minimatch(pattern, { dot: true }).match(push.tag)) {
    return { matched: false, reason: `tag does not match "${pattern}"` };
  }
  if (range !== undefined) return semverMatch(push.tag, range, includePrerelease);
  return { matched: true };
}

function imageMatches(pattern: string, repository: string): boolean {
  const glob = new Minimatch(pattern, { dot: true });
  if (glob.hasMagic()) return glob.match(repository);
  try {
    return normalizeRepository(pattern).repository === repository;
  } catch (error) {
    if (error instanceof InvalidImageReference) return false;
    throw error;
  }
}

function semverMatch(tag: string, range: string, includePrerelease: boolean): MatchResult {
  if (semver.validRange(range, { loose: true }) === null) {
    return { matched: false, reason: `invalid semver range "${range}"` };
  }
  const version = semver.parse(tag, { loose: true });
  if (version === null) return { matched: false, reason: 'tag is not a semantic version' };
  if (version.prerelease.length > 0 && !includePrerelease) {
    return { matched: false, reason: 'tag is a pre-release and includePrerelease is off' };
  }
  if (!semver.satisfies(version, range, { loose: true, includePrerelease: true })) {
    return { matched: false, reason: `tag does not satisfy "${range}"` };
  }
  return { matched: true };
}
