import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret, type WebhookConfig } from '../../src/config.js';
import { type AuthInput, createAuthenticator } from '../../src/webhooks/auth.js';
import type { RegistryKind } from '../../src/webhooks/push.js';
import { PUBSUB, startTokenIssuer, type TokenIssuer } from '../support/google-tokens.js';

const SECRET = 'a-shared-secret-of-enough-length';
const PATH_TOKEN = 'Zk3l-9qP_x2mN8vR4tY7wB1cD5eF0gH6';
const body = Buffer.from('{"hello":"world"}');

function input(
  registry: RegistryKind,
  headers: Record<string, string> = {},
  pathToken?: string,
): AuthInput {
  return { registry, headers, rawBody: body, pathToken };
}

const sign = (payload: Buffer, key = SECRET) =>
  `sha256=${createHmac('sha256', key).update(payload).digest('hex')}`;

describe('shared-secret registries', () => {
  const authenticate = createAuthenticator({
    secrets: {
      ghcr: new Secret(SECRET),
      harbor: new Secret(SECRET),
      distribution: new Secret(SECRET),
      ecr: new Secret(SECRET),
      generic: new Secret(SECRET),
      dockerhub: new Secret(PATH_TOKEN),
      quay: new Secret(PATH_TOKEN),
    },
    gar: undefined,
    insecureRegistries: [],
  });

  const upperHex = sign(body).replace(/[0-9a-f]{64}$/, (hex) => hex.toUpperCase());
  const cases: Array<[string, AuthInput, string]> = [
    ['ghcr with a valid signature', input('ghcr', { 'x-hub-signature-256': sign(body) }), 'ok'],
    ['ghcr with upper-case hex', input('ghcr', { 'x-hub-signature-256': upperHex }), 'ok'],
    [
      'ghcr signed with another secret',
      input('ghcr', { 'x-hub-signature-256': sign(body, 'another-secret-entirely') }),
      'InvalidCredentials',
    ],
    [
      'ghcr signature of another body',
      input('ghcr', { 'x-hub-signature-256': sign(Buffer.from('{"hello":"World"}')) }),
      'InvalidCredentials',
    ],
    [
      'ghcr short signature',
      input('ghcr', { 'x-hub-signature-256': 'sha256=abc' }),
      'InvalidCredentials',
    ],
    ['ghcr SHA-1 only', input('ghcr', { 'x-hub-signature': 'sha1=abc' }), 'MissingCredentials'],
    [
      'ghcr with a bearer',
      input('ghcr', { authorization: `Bearer ${SECRET}` }),
      'MissingCredentials',
    ],
    ...(['harbor', 'distribution', 'ecr', 'generic'] as const).flatMap((registry): typeof cases => [
      [`${registry} bearer`, input(registry, { authorization: `Bearer ${SECRET}` }), 'ok'],
      [`${registry} bare secret`, input(registry, { authorization: SECRET }), 'ok'],
      [
        `${registry} wrong bearer`,
        input(registry, { authorization: `Bearer ${SECRET}x` }),
        'InvalidCredentials',
      ],
      [
        `${registry} empty bearer`,
        input(registry, { authorization: 'Bearer ' }),
        'InvalidCredentials',
      ],
      [`${registry} no header`, input(registry, {}), 'MissingCredentials'],
      [`${registry} secret in the path`, input(registry, {}, SECRET), 'MissingCredentials'],
    ]),
    ...(['dockerhub', 'quay'] as const).flatMap((registry): typeof cases => [
      [`${registry} path token`, input(registry, {}, PATH_TOKEN), 'ok'],
      [
        `${registry} wrong path token`,
        input(registry, {}, PATH_TOKEN.slice(1)),
        'InvalidCredentials',
      ],
      [
        `${registry} token as a bearer`,
        input(registry, { authorization: `Bearer ${PATH_TOKEN}` }),
        'MissingCredentials',
      ],
      [`${registry} no token`, input(registry, {}), 'MissingCredentials'],
    ]),
    [
      'gar without OIDC configuration',
      input('gar', { authorization: `Bearer ${SECRET}` }),
      'NotConfigured',
    ],
  ];
  it.each(cases)('%s → %s', async (_case, request, expected) => {
    const result = await authenticate(request);
    expect(result.ok ? 'ok' : result.reason).toBe(expected);
  });

  it('verifies the GitHub documentation test vector', async () => {
    const github = createAuthenticator({
      secrets: { ghcr: new Secret("It's a Secret to Everybody") },
      gar: undefined,
      insecureRegistries: [],
    });
    const signature = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';
    const request = {
      ...input('ghcr', { 'x-hub-signature-256': signature }),
      rawBody: Buffer.from('Hello, World!'),
    };
    expect(await github(request)).toEqual({ ok: true });
  });
});

describe('registries without a secret', () => {
  const authenticate = createAuthenticator({
    secrets: {},
    gar: undefined,
    insecureRegistries: ['quay'],
  });

  it('rejects a registry that has no secret', async () => {
    expect(await authenticate(input('dockerhub', {}, PATH_TOKEN))).toEqual({
      ok: false,
      reason: 'NotConfigured',
    });
  });

  it('accepts a registry explicitly listed as insecure, and says so', async () => {
    expect(await authenticate(input('quay'))).toEqual({ ok: true, insecure: true });
  });
});

describe('Google Pub/Sub push tokens', () => {
  let issuer: TokenIssuer;
  let gar: NonNullable<WebhookConfig['gar']>;

  beforeAll(async () => {
    issuer = await startTokenIssuer();
    gar = { ...PUBSUB, jwksUrl: issuer.jwksUrl };
  });
  afterAll(() => issuer?.close());

  const token = (
    claims?: Record<string, unknown>,
    options?: { stranger?: boolean; expires?: string },
  ) => issuer.sign(claims, options);

  it.each([
    ['a valid token', () => token(), 'ok'],
    ['the short issuer form', () => token({ iss: 'accounts.google.com' }), 'ok'],
    [
      'another audience',
      () => token({ aud: 'https://elsewhere.example.com' }),
      'InvalidCredentials',
    ],
    ['another issuer', () => token({ iss: 'https://evil.example.com' }), 'InvalidCredentials'],
    ['another service account', () => token({ email: 'me@example.com' }), 'InvalidCredentials'],
    ['an unverified email', () => token({ email_verified: false }), 'InvalidCredentials'],
    ['an expired token', () => token({}, { expires: '-1m' }), 'InvalidCredentials'],
    ['a token signed by another key', () => token({}, { stranger: true }), 'InvalidCredentials'],
    ['garbage', async () => 'not.a.jwt', 'InvalidCredentials'],
  ])('%s → %s', async (_case, make, expected) => {
    const authenticate = createAuthenticator({ secrets: {}, gar, insecureRegistries: [] });
    const result = await authenticate(input('gar', { authorization: `Bearer ${await make()}` }));
    expect(result.ok ? 'ok' : result.reason).toBe(expected);
  });

  it('says the keys are unavailable when the key set cannot be fetched', async () => {
    const unreachable = { ...gar, jwksUrl: 'http://127.0.0.1:1/certs' };
    const authenticate = createAuthenticator({
      secrets: {},
      gar: unreachable,
      insecureRegistries: [],
    });
    const result = await authenticate(input('gar', { authorization: `Bearer ${await token()}` }));
    expect(result).toEqual({ ok: false, reason: 'KeysUnavailable' });
  });

  it('rejects a request without a token', async () => {
    const authenticate = createAuthenticator({ secrets: {}, gar, insecureRegistries: [] });
    expect(await authenticate(input('gar'))).toEqual({ ok: false, reason: 'MissingCredentials' });
  });
});
