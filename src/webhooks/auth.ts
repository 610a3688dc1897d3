import { createHmac, timingSafeEqual } from 'node:crypto';
import { createRemoteJWKSet, errors, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { sameSecret } from '../api/same-secret.js';
import type { Secret, WebhookConfig } from '../config.js';
import type { RegistryKind } from './push.js';

/**
 * Why a delivery was not believed. Logged and recorded, never told to the sender.
 * `KeysUnavailable`: the token could not be checked because the signing keys could not be fetched.
 */
export type AuthFailure =
  | 'NotConfigured'
  | 'MissingCredentials'
  | 'InvalidCredentials'
  | 'KeysUnavailable';

/** The outcome of an authenticity check. */
export type AuthResult = { ok: true; insecure?: boolean } | { ok: false; reason: AuthFailure };

/** What an authenticity check looks at. */
export interface AuthInput {
  registry: RegistryKind;
  /** Header names in lower case. */
  headers: Record<string, string | undefined>;
  rawBody: Buffer;
  /** The token from the URL path, for registries that can send nothing else. */
  pathToken: string | undefined;
}

/** Checks that a delivery comes from the registry it claims to, the way that registry allows. */
export type Authenticator = (input: AuthInput) => Promise<AuthResult>;

/** How each registry proves itself (see the README's registry setup section). */
const METHOD: Record<RegistryKind, 'hmac' | 'header' | 'path' | 'oidc'> = {
  ghcr: 'hmac',
  harbor: 'header',
  distribution: 'header',
  ecr: 'header',
  generic: 'header',
  dockerhub: 'path',
  quay: 'path',
  gar: 'oidc',
};

const GOOGLE_ISSUERS = ['accounts.google.com', 'https://accounts.google.com'];

/** Builds the authenticator of every registry from configuration. */
export function createAuthenticator(
  config: Pick<WebhookConfig, 'secrets' | 'gar' | 'insecureRegistries'>,
): Authenticator {
  const jwks = config.gar ? createRemoteJWKSet(new URL(config.gar.jwksUrl)) : undefined;
  return async (input) => {
    const method = METHOD[input.registry];
    const secret = config.secrets[input.registry];
    if (method === 'oidc' && config.gar && jwks) {
      return verifyPubSubToken(input.headers.authorization, jwks, config.gar);
    }
    if (method !== 'oidc' && secret) return verifyShared(method, secret, input);
    if (config.insecureRegistries.includes(input.registry)) return { ok: true, insecure: true };
    return { ok: false, reason: 'NotConfigured' };
  };
}

function verifyShared(method: 'hmac' | 'header' | 'path', secret: Secret, input: AuthInput) {
  switch (method) {
    case 'hmac':
      return verifyGitHubSignature(input.headers['x-hub-signature-256'], input.rawBody, secret);
    case 'header':
      return verifyAuthorization(input.headers.authorization, secret);
    case 'path':
      return result(input.pathToken, (token) => sameSecret(token, secret.reveal()));
  }
}

/** GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`. */
function verifyGitHubSignature(
  header: string | undefined,
  body: Buffer,
  secret: Secret,
): AuthResult {
  return result(header, (value) => {
    const match = /^sha256=([0-9a-f]{64})$/i.exec(value);
    if (!match?.[1]) return false;
    const expected = createHmac('sha256', secret.reveal()).update(body).digest();
    return timingSafeEqual(expected, Buffer.from(match[1], 'hex'));
  });
}

/** Harbor, Distribution, EventBridge and generic: `Authorization: Bearer <secret>` or the bare secret. */
function verifyAuthorization(header: string | undefined, secret: Secret): AuthResult {
  return result(header, (value) => {
    const token = value.replace(/^Bearer\s+/i, '');
    return sameSecret(token, secret.reveal());
  });
}

/** Google Pub/Sub push: a Google-signed OIDC token for the configured audience and account. */
async function verifyPubSubToken(
  header: string | undefined,
  jwks: JWTVerifyGetKey,
  gar: NonNullable<WebhookConfig['gar']>,
): Promise<AuthResult> {
  const token = /^Bearer\s+(\S+)$/i.exec(header ?? '')?.[1];
  if (!token) return { ok: false, reason: 'MissingCredentials' };
  try {
    const { payload } = await jwtVerify(token, jwks, {
      issuer: GOOGLE_ISSUERS,
      audience: gar.audience,
      algorithms: ['RS256'],
    });
    const verified = payload.email === gar.serviceAccount && payload.email_verified === true;
    return verified ? { ok: true } : { ok: false, reason: 'InvalidCredentials' };
  } catch (error) {
    // A JOSE error is about the token; anything else (fetch failed) or a JWKS error is about the keys.
    const keys =
      !(error instanceof errors.JOSEError) ||
      error instanceof errors.JWKSTimeout ||
      error instanceof errors.JWKSInvalid;
    return { ok: false, reason: keys ? 'KeysUnavailable' : 'InvalidCredentials' };
  }
}

function result(credential: string | undefined, check: (value: string) => boolean): AuthResult {
  if (!credential) return { ok: false, reason: 'MissingCredentials' };
  return check(credential) ? { ok: true } : { ok: false, reason: 'InvalidCredentials' };
}
