import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API keys are 32 random bytes, so a plain sha256 is as strong as a slow KDF here and keeps the
 * poll hot path cheap. Hashes are stored base64url-encoded.
 */
export function generateApiKey(): string {
  return randomBytes(32).toString('base64url');
}

/** The stored form of a key: sha256, base64url. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('base64url');
}

/** The raw sha256 of a key, compared against cached hashes on the hot path. */
export function apiKeyDigest(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

/** Decodes a stored hash into the bytes the hot path compares against. */
export function storedHashBytes(hash: string): Buffer {
  return Buffer.from(hash, 'base64url');
}

/** Compares two digests in constant time. */
export function sameDigest(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Extracts the token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined || header.length < 8 || header.charCodeAt(6) !== 32) return undefined;
  // The scheme is case-insensitive (RFC 9110 §11.1).
  const scheme = header.slice(0, 6);
  if (scheme !== 'Bearer' && scheme.toLowerCase() !== 'bearer') return undefined;
  const token = header.slice(7).trim();
  return token.length > 0 && token.length <= 512 ? token : undefined;
}
