import { describe, expect, it } from 'vitest';
import { redactSecrets } from '../../src/telemetry/redact.js';

describe('redactSecrets', () => {
  it.each([
    [
      'pull from https://bob:hunter2@registry.example.com/app',
      'pull from https://[redacted]@registry.example.com/app',
    ],
    ['Authorization: Bearer abcdefghijklmnop', 'Authorization: Bearer [redacted]'],
    ['token=s3cr3t-value and more', 'token=[redacted] and more'],
    ['{"password": "p@ss", "user": "bob"}', '{"password": "[redacted]", "user": "bob"}'],
    ['webhook_secret: xyz;', 'webhook_secret: [redacted];'],
    ['apiKey=AKIA1234', 'apiKey=[redacted]'],
    ['jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig_part', 'jwt [redacted]'],
    ['batch 2 of 3 started: 120 devices', 'batch 2 of 3 started: 120 devices'],
    ['image ghcr.io/acme/app:1.2.3@sha256:abc', 'image ghcr.io/acme/app:1.2.3@sha256:abc'],
  ])('%s', (input, expected) => {
    expect(redactSecrets(input)).toBe(expected);
  });
});
