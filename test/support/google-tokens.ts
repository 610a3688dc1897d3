import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';

/** The audience and push service account the test tokens are for. */
export const PUBSUB = {
  audience: 'https://fleet.example.com/api/v1/webhooks/gar',
  serviceAccount: 'pubsub-push@my-project.iam.gserviceaccount.com',
};

/** A stand-in for Google's key set: serves a JWKS over loopback and signs Pub/Sub-like tokens. */
export interface TokenIssuer {
  jwksUrl: string;
  /** A token as Pub/Sub push sends; `claims` override iss, aud, email, email_verified. */
  sign(
    claims?: Record<string, unknown>,
    options?: { stranger?: boolean; expires?: string },
  ): Promise<string>;
  close(): Promise<void>;
}

/** Starts a JWKS server on a free loopback port with a fresh RS256 key. */
export async function startTokenIssuer(): Promise<TokenIssuer> {
  const pair = await generateKeyPair('RS256');
  const stranger = (await generateKeyPair('RS256')).privateKey;
  const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  const server = createServer((_request, response) => {
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    jwksUrl: `http://127.0.0.1:${port}/certs`,
    sign(claims = {}, options = {}) {
      const { iss = 'https://accounts.google.com', aud = PUBSUB.audience, ...rest } = claims;
      const key: CryptoKey = options.stranger ? stranger : pair.privateKey;
      return new SignJWT({ email: PUBSUB.serviceAccount, email_verified: true, ...rest })
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setIssuer(iss as string)
        .setAudience(aud as string)
        .setIssuedAt()
        .setExpirationTime(options.expires ?? '5m')
        .sign(key);
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
