import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';

const TOKEN = 'Zk3l-9qP_x2mN8vR4tY7wB1cD5eF0gH6';

describe('webhook configuration', () => {
  it('has safe defaults: no secrets, nothing insecure', () => {
    const { webhooks } = loadConfig({});
    expect(webhooks).toMatchObject({
      secrets: {},
      gar: undefined,
      insecureRegistries: [],
      bodyLimitBytes: 1_048_576,
      rateLimit: { perMinute: 300, burst: 100 },
    });
  });

  it('reads secrets from variables and mounted files, and never prints them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleet-rollout-secret-'));
    writeFileSync(join(dir, 'ghcr'), 'from-a-mounted-file-123\n');
    const { webhooks } = loadConfig({
      FLEET_ROLLOUT_WEBHOOK_GHCR_SECRET_FILE: join(dir, 'ghcr'),
      FLEET_ROLLOUT_WEBHOOK_QUAY_SECRET: TOKEN,
    });
    rmSync(dir, { recursive: true });
    expect(webhooks.secrets.ghcr?.reveal()).toBe('from-a-mounted-file-123');
    expect(webhooks.secrets.quay?.reveal()).toBe(TOKEN);
    const printed = `${JSON.stringify(webhooks)} ${inspect(webhooks)} ${String(webhooks.secrets.quay)}`;
    expect(printed).not.toContain(TOKEN);
    expect(printed).not.toContain('from-a-mounted-file');
  });

  it('configures Pub/Sub OIDC verification with Google keys by default', () => {
    const { webhooks } = loadConfig({
      FLEET_ROLLOUT_WEBHOOK_GAR_AUDIENCE: 'https://fleet.example.com/api/v1/webhooks/gar',
      FLEET_ROLLOUT_WEBHOOK_GAR_SERVICE_ACCOUNT: 'push@p.iam.gserviceaccount.com',
    });
    expect(webhooks.gar?.jwksUrl).toBe('https://www.googleapis.com/oauth2/v3/certs');
  });

  it.each([
    [{ FLEET_ROLLOUT_WEBHOOK_HARBOR_SECRET: 'short' }, /HARBOR_SECRET must be at least 16/],
    [{ FLEET_ROLLOUT_WEBHOOK_DOCKERHUB_SECRET: 'a'.repeat(31) }, /at least 32 characters/],
    [{ FLEET_ROLLOUT_WEBHOOK_QUAY_SECRET: `${'a'.repeat(32)}/x` }, /goes into a URL path/],
    [
      {
        FLEET_ROLLOUT_WEBHOOK_ECR_SECRET: 'x'.repeat(16),
        FLEET_ROLLOUT_WEBHOOK_ECR_SECRET_FILE: '/x',
      },
      /set FLEET_ROLLOUT_WEBHOOK_ECR_SECRET or FLEET_ROLLOUT_WEBHOOK_ECR_SECRET_FILE, not both/,
    ],
    [{ FLEET_ROLLOUT_WEBHOOK_GHCR_SECRET_FILE: tmpdir() }, /GHCR_SECRET_FILE: cannot read/],
    [{ FLEET_ROLLOUT_WEBHOOK_INSECURE_REGISTRIES: 'quay,nexus' }, /unknown registry "nexus"/],
    [{ FLEET_ROLLOUT_WEBHOOK_GAR_AUDIENCE: 'x' }, /set both/],
    [{ FLEET_ROLLOUT_WEBHOOK_BODY_LIMIT_BYTES: '10' }, /BODY_LIMIT_BYTES must be an integer/],
  ])('rejects %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });
});
