import { createHash } from 'node:crypto';
import { isPinnableDigest } from '../api/image-reference.js';
import type { ImagePush } from './push.js';

/** Resolves a pushed tag to the digest of its manifest; rejects with a reason when it cannot. */
export type DigestResolver = (
  image: Pick<ImagePush, 'registry' | 'repository' | 'tag'>,
) => Promise<string>;

/** Media types we accept for a tag: image indexes first (multi-arch), then single manifests. */
const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

/**
 * A resolver speaking the Distribution v2 API: `HEAD /v2/<name>/manifests/<tag>` and its
 * `Docker-Content-Digest` header (or the hash of the manifest when a registry omits it), with
 * the anonymous bearer-token flow for registries that answer 401 with `WWW-Authenticate: Bearer`.
 */
export function createDigestResolver(options: {
  timeoutMs: number;
  /** Registry hosts reached over plain HTTP (a registry on localhost, in a lab). */
  plainHttpRegistries: string[];
}): DigestResolver {
  return async ({ registry, repository, tag }) => {
    const scheme = options.plainHttpRegistries.includes(registry) ? 'http' : 'https';
    const host = registry === 'docker.io' ? 'registry-1.docker.io' : registry;
    const name = repository.slice(registry.length + 1);
    const url = `${scheme}://${host}/v2/${name}/manifests/${encodeURIComponent(tag)}`;
    const signal = AbortSignal.timeout(options.timeoutMs);
    let token: string | undefined;
    let response = await request(url, 'HEAD', token, signal);
    if (response.status === 401) {
      token = await anonymousToken(response.headers.get('www-authenticate'), name, signal);
      response = await request(url, 'HEAD', token, signal);
    }
    if (response.ok && !response.headers.get('docker-content-digest')) {
      response = await request(url, 'GET', token, signal);
    }
    if (!response.ok)
      throw new Error(`registry answered ${response.status} for ${repository}:${tag}`);
    return digestOf(response);
  };
}

async function request(
  url: string,
  method: 'HEAD' | 'GET',
  token: string | undefined,
  signal: AbortSignal,
) {
  const headers: Record<string, string> = { accept: MANIFEST_ACCEPT };
  if (token) headers.authorization = `Bearer ${token}`;
  try {
    return await fetch(url, { method, headers, signal, redirect: 'follow' });
  } catch (cause) {
    throw new Error(`cannot reach ${new URL(url).host}`, { cause });
  }
}

async function digestOf(response: Response): Promise<string> {
  const header = response.headers.get('docker-content-digest');
  const digest =
    header ??
    `sha256:${createHash('sha256')
      .update(Buffer.from(await response.arrayBuffer()))
      .digest('hex')}`;
  if (!isPinnableDigest(digest)) throw new Error('registry sent a malformed digest');
  return digest;
}

/** The anonymous token flow: `WWW-Authenticate: Bearer realm=…,service=…,scope=…` → token. */
async function anonymousToken(challenge: string | null, name: string, signal: AbortSignal) {
  const params = parseChallenge(challenge ?? '');
  if (!params?.realm || !/^https?:\/\//.test(params.realm)) {
    throw new Error('registry requires credentials other than an anonymous token');
  }
  const url = new URL(params.realm);
  if (params.service) url.searchParams.set('service', params.service);
  url.searchParams.set('scope', params.scope ?? `repository:${name}:pull`);
  const response = await fetch(url, { signal }).catch((cause: unknown) => {
    throw new Error(`cannot reach token service ${url.host}`, { cause });
  });
  if (!response.ok) throw new Error(`token service answered ${response.status}`);
  const body = (await response.json()) as { token?: unknown; access_token?: unknown };
  const token = body.token ?? body.access_token;
  if (typeof token !== 'string' || token === '') throw new Error('token service sent no token');
  return token;
}

/** Parameters of a `Bearer` challenge, or undefined for another scheme. */
export function parseChallenge(header: string): Record<string, string> | undefined {
  const match = /^Bearer\s+(.*)$/i.exec(header.trim());
  if (!match?.[1]) return undefined;
  const params: Record<string, string> = {};
  for (const [, key, quoted, bare] of match[1].matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]*))/g)) {
    if (key) params[key.toLowerCase()] = quoted ?? bare ?? '';
  }
  return params;
}
