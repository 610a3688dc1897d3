import { generateKeyPairSync, randomBytes, sign, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { writePrivateFile } from '../db/private-dir.js';

/**
 * A self-signed serving certificate for the local API server. kubectl sends bearer tokens only
 * over TLS, so the server speaks HTTPS; the kubeconfig trusts exactly this certificate. Written
 * with Node's crypto (ECDSA P-256) and a few lines of DER, to need no X.509 library.
 */

/** A PEM certificate and its PEM (PKCS#8) private key. */
export interface ServingCertificate {
  cert: string;
  key: string;
}

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let rest = n; rest > 0; rest >>= 8) bytes.unshift(rest & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

const sequence = (...items: Buffer[]) => tlv(0x30, ...items);

function oid(dotted: string): Buffer {
  const [a = 0, b = 0, ...rest] = dotted.split('.').map(Number);
  const bytes = [40 * a + b];
  for (const part of rest) {
    const group: number[] = [part & 0x7f];
    for (let value = part >> 7; value > 0; value >>= 7) group.unshift((value & 0x7f) | 0x80);
    bytes.push(...group);
  }
  return tlv(0x06, Buffer.from(bytes));
}

function positiveInteger(bytes: Buffer): Buffer {
  const first = bytes[0] ?? 0;
  return tlv(0x02, first & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
}

function time(date: Date): Buffer {
  const iso = date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return date.getUTCFullYear() < 2050
    ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`))
    : tlv(0x18, Buffer.from(`${iso}Z`));
}

function name(commonName: string): Buffer {
  return sequence(tlv(0x31, sequence(oid('2.5.4.3'), tlv(0x0c, Buffer.from(commonName)))));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return sequence(oid(id), ...(critical ? [tlv(0x01, Buffer.from([0xff]))] : []), tlv(0x04, value));
}

function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  const [head = '', tail = ''] = ip.split('::');
  const groups = (part: string) => (part ? part.split(':') : []);
  const missing = 8 - groups(head).length - groups(tail).length;
  const all = [
    ...groups(head),
    ...Array(ip.includes('::') ? missing : 0).fill('0'),
    ...groups(tail),
  ];
  return Buffer.concat(all.map((group) => Buffer.from(group.padStart(4, '0'), 'hex')));
}

/** Creates a self-signed certificate valid for `hosts` (names and IP addresses). */
export function createSelfSignedCertificate(hosts: string[], days = 3650): ServingCertificate {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ecdsaWithSha256 = sequence(oid('1.2.840.10045.4.3.2'));
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(notBefore.getTime() + days * 86_400_000);
  const altNames = hosts.map((host) =>
    isIP(host) ? tlv(0x87, ipBytes(host)) : tlv(0x82, Buffer.from(host)),
  );
  const extensions = [
    extension('2.5.29.19', true, sequence(tlv(0x01, Buffer.from([0xff])))),
    extension('2.5.29.15', true, tlv(0x03, Buffer.from([0x02, 0x84]))),
    extension('2.5.29.37', false, sequence(oid('1.3.6.1.5.5.7.3.1'))),
    extension('2.5.29.17', false, sequence(...altNames)),
  ];
  const subject = name('fleet-rollout local API server');
  const tbs = sequence(
    tlv(0xa0, tlv(0x02, Buffer.from([2]))),
    positiveInteger(randomBytes(16)),
    ecdsaWithSha256,
    subject,
    sequence(time(notBefore), time(notAfter)),
    subject,
    publicKey.export({ type: 'spki', format: 'der' }),
    tlv(0xa3, sequence(...extensions)),
  );
  const signature = sign('sha256', tbs, privateKey);
  const der = sequence(tbs, ecdsaWithSha256, tlv(0x03, Buffer.from([0]), signature));
  const base64 = der.toString('base64').replace(/(.{64})/g, '$1\n');
  return {
    cert: `-----BEGIN CERTIFICATE-----\n${base64.trimEnd()}\n-----END CERTIFICATE-----\n`,
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/** Names a local certificate covers: loopback, this host, and the bound address. */
export function localHosts(bindHost: string): string[] {
  const hosts = ['localhost', '127.0.0.1', '::1'];
  if (/^[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?$/.test(hostname())) hosts.push(hostname());
  if (bindHost !== '0.0.0.0' && bindHost !== '::' && !hosts.includes(bindHost))
    hosts.push(bindHost);
  return hosts;
}

/**
 * The serving certificate kept in `dir` (`tls.crt`, `tls.key`), created when missing or expiring
 * within a month, so kubeconfigs written earlier stay valid across restarts.
 */
export async function loadOrCreateCertificate(
  dir: string,
  hosts: string[],
): Promise<ServingCertificate> {
  const certPath = join(dir, 'tls.crt');
  const keyPath = join(dir, 'tls.key');
  try {
    const [cert, key] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
    const validTo = Date.parse(new X509Certificate(cert).validTo);
    if (validTo - Date.now() > 30 * 86_400_000) return { cert, key };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new Error(`read the API server certificate in ${dir}`, { cause: error });
    }
  }
  const created = createSelfSignedCertificate(hosts);
  await writePrivateFile(keyPath, created.key);
  await writePrivateFile(certPath, created.cert);
  return created;
}
