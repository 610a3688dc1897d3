import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSelfSignedCertificate, loadOrCreateCertificate } from '../../src/apiserver/tls.js';

describe('serving certificate', () => {
  it('is a self-signed certificate for the given names and addresses', () => {
    const { cert } = createSelfSignedCertificate(['localhost', '127.0.0.1', '::1', 'fleet.local']);
    const x509 = new X509Certificate(cert);
    expect(x509.verify(x509.publicKey)).toBe(true);
    expect(x509.subjectAltName).toBe(
      'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, DNS:fleet.local',
    );
    expect(x509.checkHost('fleet.local')).toBe('fleet.local');
    expect(x509.checkIP('::1')).toBe('::1');
    expect(Date.parse(x509.validTo)).toBeGreaterThan(Date.now() + 365 * 86_400_000);
  });

  it('is kept in a directory and reused', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fleet-rollout-tls-'));
    try {
      const first = await loadOrCreateCertificate(dir, ['localhost']);
      const second = await loadOrCreateCertificate(dir, ['localhost']);
      expect(second).toEqual(first);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
