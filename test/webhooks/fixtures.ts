import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { API_VERSION, type ImagePolicy, type ImagePolicySpec } from '../../src/api/types.js';

/** Two well-formed digests for tests. */
export const DIGEST_A = `sha256:${'a'.repeat(64)}`;
export const DIGEST_B = `sha256:${'b'.repeat(64)}`;

const FOLDER = fileURLToPath(new URL('../fixtures/registry-webhooks/', import.meta.url));

/** The raw text of a sample in test/fixtures/registry-webhooks. */
export function fixtureText(name: string): string {
  return readFileSync(`${FOLDER}${name}`, 'utf8');
}

/** A sample, parsed. */
export function fixture(name: string): Record<string, unknown> {
  return JSON.parse(fixtureText(name)) as Record<string, unknown>;
}

/** Hex SHA-256, as the receiver computes it over a raw body. */
export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The GitHub package sample with a real tag and digest, as GHCR sends for a tagged push. */
export function taggedGhcrPackage(tag: string, digest: string): Record<string, unknown> {
  const body = fixture('ghcr-package-published.json') as {
    package: { package_version: { container_metadata: object; package_url: string } };
  };
  const version = body.package.package_version;
  version.container_metadata = { ...version.container_metadata, tag: { name: tag, digest } };
  version.package_url = `ghcr.io/Codertocat/hello-world:${tag}`;
  return body;
}

/** An ImagePolicy with a uid, matching `ghcr.io/acme/*` for fleet `lab` unless `spec` says otherwise. */
export function testPolicy(
  name: string,
  spec: Partial<ImagePolicySpec> = {},
  namespace = 'fleet',
): ImagePolicy {
  return {
    apiVersion: API_VERSION,
    kind: 'ImagePolicy',
    metadata: { name, namespace, uid: `uid-${name}-${namespace}` },
    spec: { image: 'ghcr.io/acme/*', selector: { fleets: ['lab'] }, ...spec },
  };
}
