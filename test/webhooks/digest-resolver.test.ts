import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDigestResolver, parseChallenge } from '../../src/webhooks/digest-resolver.js';

const DIGEST = `sha256:${'c'.repeat(64)}`;
const MANIFEST = '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}';

/** A registry that wants an anonymous bearer token for `acme/private`, like Docker Hub does. */
function registry(host: () => string) {
  return (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://x');
    if (url.pathname === '/token') {
      const ok = url.searchParams.get('scope') === 'repository:acme/private:pull';
      response.writeHead(ok ? 200 : 403, { 'content-type': 'application/json' });
      return response.end(JSON.stringify(ok ? { token: 'anon-token' } : {}));
    }
    const accepts = request.headers.accept?.includes('application/vnd.oci.image.index.v1+json');
    if (url.pathname === '/v2/acme/private/manifests/1.0' && accepts) {
      if (request.headers.authorization !== 'Bearer anon-token') {
        const challenge = `Bearer realm="http://${host()}/token",service="test",scope="repository:acme/private:pull"`;
        response.writeHead(401, { 'www-authenticate': challenge });
        return response.end();
      }
      response.writeHead(200, { 'docker-content-digest': DIGEST });
      return response.end();
    }
    if (url.pathname === '/v2/acme/plain/manifests/2.0' && accepts) {
      response.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' });
      return response.end(request.method === 'GET' ? MANIFEST : undefined);
    }
    if (url.pathname === '/v2/acme/basic/manifests/1.0') {
      response.writeHead(401, { 'www-authenticate': 'Basic realm="registry"' });
      return response.end();
    }
    response.writeHead(404);
    response.end();
  };
}

describe('digest resolution over the Distribution API', () => {
  let server: Server;
  let host = '';
  const resolve = () => createDigestResolver({ timeoutMs: 2000, plainHttpRegistries: [host] });
  const image = (path: string, tag: string) => ({
    registry: host,
    repository: `${host}/${path}`,
    tag,
  });

  beforeAll(async () => {
    server = createServer(registry(() => host));
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((done) => server?.close(done)));

  it('follows the anonymous token flow and reads Docker-Content-Digest', async () => {
    expect(await resolve()(image('acme/private', '1.0'))).toBe(DIGEST);
  });

  it('hashes the manifest when the registry sends no digest header', async () => {
    const expected = `sha256:${createHash('sha256').update(MANIFEST).digest('hex')}`;
    expect(await resolve()(image('acme/plain', '2.0'))).toBe(expected);
  });

  it.each([
    ['an unknown tag', () => image('acme/private', 'nope'), /registry answered 404/],
    [
      'a registry that wants a password',
      () => image('acme/basic', '1.0'),
      /credentials other than/,
    ],
    [
      'an unreachable registry',
      () => ({ registry: '127.0.0.1:1', repository: '127.0.0.1:1/a/b', tag: '1' }),
      /cannot reach 127.0.0.1:1/,
    ],
  ])('fails with a reason for %s', async (_case, target, message) => {
    await expect(resolve()(target())).rejects.toThrow(message);
  });

  it('parses Bearer challenges', () => {
    expect(
      parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io"'),
    ).toEqual({
      realm: 'https://auth.docker.io/token',
      service: 'registry.docker.io',
    });
    expect(parseChallenge('Basic realm="x"')).toBeUndefined();
  });
});
