import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * Whether a presented secret equals the expected one, in time that depends on neither their
 * contents nor their lengths: both are hashed to 32-byte SHA-256 digests, which are compared with
 * `timingSafeEqual`. The one comparison of tokens and shared secrets every server uses.
 */
export function sameSecret(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}
