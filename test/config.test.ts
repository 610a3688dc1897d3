import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, secret } from '../src/config.js';

describe('device API configuration', () => {
  it('has defaults an operator can start with', () => {
    expect(loadConfig({}).devices).toEqual({
      adminToken: undefined,
      pollIntervalSeconds: 60,
      maxLongPollSeconds: 300,
      shedLagMs: 1000,
    });
  });

  it.each([
    [{ FLEET_ROLLOUT_ADMIN_TOKEN: 'short' }, /FLEET_ROLLOUT_ADMIN_TOKEN must be at least 16/],
    [{ FLEET_ROLLOUT_POLL_INTERVAL_SECONDS: '0' }, /FLEET_ROLLOUT_POLL_INTERVAL_SECONDS/],
    [{ FLEET_ROLLOUT_MAX_LONG_POLL_SECONDS: 'ten' }, /FLEET_ROLLOUT_MAX_LONG_POLL_SECONDS/],
    [{ FLEET_ROLLOUT_HTTP_BODY_IDLE_TIMEOUT_SECONDS: '0' }, /BODY_IDLE_TIMEOUT_SECONDS must be/],
    [
      { FLEET_ROLLOUT_HTTP_HEADERS_TIMEOUT_SECONDS: '90' },
      /HEADERS_TIMEOUT_SECONDS must not exceed FLEET_ROLLOUT_HTTP_REQUEST_TIMEOUT_SECONDS/,
    ],
  ])('rejects %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('has request timeouts for every HTTP server', () => {
    expect(loadConfig({}).http.timeouts).toEqual({
      headersMs: 20_000,
      requestMs: 60_000,
      bodyIdleMs: 15_000,
    });
    const env = { FLEET_ROLLOUT_HTTP_REQUEST_TIMEOUT_SECONDS: '120' };
    expect(loadConfig(env).http.timeouts.requestMs).toBe(120_000);
  });

  it.each([
    [undefined, 30 * 86_400_000],
    ['30d', 30 * 86_400_000],
    ['720h', 720 * 3_600_000],
    ['90m', 90 * 60_000],
  ])('keeps the event log for %s', (value, ms) => {
    const env = value === undefined ? {} : { FLEET_ROLLOUT_EVENT_LOG_RETENTION: value };
    expect(loadConfig(env).eventLog.retentionMs).toBe(ms);
  });

  it.each(['30m', '0', 'soon', '-5h', '30'])('refuses an event log retention of %j', (value) => {
    expect(() => loadConfig({ FLEET_ROLLOUT_EVENT_LOG_RETENTION: value })).toThrow(
      `FLEET_ROLLOUT_EVENT_LOG_RETENTION must be a duration of at least 1h, such as 720h or 30d, got "${value}"`,
    );
  });

  it('never puts a rejected secret in the message', () => {
    expect(() => loadConfig({ FLEET_ROLLOUT_ADMIN_TOKEN: 'tiny-secret' })).not.toThrow(
      /tiny-secret/,
    );
  });
});

describe('secrets from mounted files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-rollout-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, content: string) => {
    writeFileSync(join(dir, name), content);
    return join(dir, name);
  };
  const TOKEN = 'Zk3l-9qP_x2mN8vR4tY7wB1cD5eF0gH6';

  it('reads a file, trimmed, and treats an empty one as unset', () => {
    const env = { TOKEN_FILE: file('token', `${TOKEN}\n`), EMPTY_FILE: file('empty', '\n') };
    expect(secret(env, 'TOKEN', 16)).toBe(TOKEN);
    expect(secret(env, 'EMPTY', 16)).toBeUndefined();
  });

  it('treats a missing file as unset where asked: a key absent from an optional Secret', () => {
    const absent = { TOKEN_FILE: join(dir, 'absent') };
    expect(secret(absent, 'TOKEN', 16, { missingFile: 'unset' })).toBeUndefined();
    expect(() => secret(absent, 'TOKEN', 16)).toThrow(ConfigError);
    const { webhooks } = loadConfig({
      FLEET_ROLLOUT_WEBHOOK_GHCR_SECRET_FILE: file('ghcr', 'a-mounted-ghcr-secret\n'),
      FLEET_ROLLOUT_WEBHOOK_HARBOR_SECRET_FILE: join(dir, 'harbor'),
      FLEET_ROLLOUT_WEBHOOK_QUAY_SECRET_FILE: join(dir, 'quay'),
    });
    expect(Object.keys(webhooks.secrets)).toEqual(['ghcr']);
  });

  it('still rejects a missing admin token file, which `start` would silently replace', () => {
    const env = { FLEET_ROLLOUT_ADMIN_TOKEN_FILE: join(dir, 'absent') };
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(/FLEET_ROLLOUT_ADMIN_TOKEN_FILE: cannot read/);
  });

  it('rejects a path that exists but cannot be read as a file', () => {
    expect(() => secret({ TOKEN_FILE: dir }, 'TOKEN', 16)).toThrow(ConfigError);
    expect(() => secret({ TOKEN_FILE: dir }, 'TOKEN', 16)).toThrow(
      `TOKEN_FILE: cannot read ${dir}`,
    );
    const env = { FLEET_ROLLOUT_WEBHOOK_GHCR_SECRET_FILE: dir };
    expect(() => loadConfig(env)).toThrow(/GHCR_SECRET_FILE: cannot read/);
  });

  it.each([
    ['DOCKERHUB', 'a'.repeat(31), /DOCKERHUB_SECRET must be at least 32 characters/],
    ['QUAY', `${'a'.repeat(32)}/x`, /QUAY_SECRET goes into a URL path/],
    ['HARBOR', 'short', /HARBOR_SECRET must be at least 16 characters/],
  ])('validates a %s secret read from a file like one set inline', (registry, content, message) => {
    const env = { [`FLEET_ROLLOUT_WEBHOOK_${registry}_SECRET_FILE`]: file(registry, content) };
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('accepts a URL-safe path token from a file', () => {
    const env = { FLEET_ROLLOUT_WEBHOOK_QUAY_SECRET_FILE: file('quay-ok', `${TOKEN}\n`) };
    expect(loadConfig(env).webhooks.secrets.quay?.reveal()).toBe(TOKEN);
  });
});
