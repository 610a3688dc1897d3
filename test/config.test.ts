import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

describe('device API configuration', () => {
  it('has defaults an operator can start with', () => {
    expect(loadConfig({}).devices).toEqual({
      adminToken: undefined,
      pollIntervalSeconds: 60,
      maxLongPollSeconds: 300,
    });
  });

  it.each([
    [{ FLEET_ROLLOUT_ADMIN_TOKEN: 'short' }, /FLEET_ROLLOUT_ADMIN_TOKEN must be at least 16/],
    [{ FLEET_ROLLOUT_POLL_INTERVAL_SECONDS: '0' }, /FLEET_ROLLOUT_POLL_INTERVAL_SECONDS/],
    [{ FLEET_ROLLOUT_MAX_LONG_POLL_SECONDS: 'ten' }, /FLEET_ROLLOUT_MAX_LONG_POLL_SECONDS/],
  ])('rejects %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('never puts a rejected secret in the message', () => {
    expect(() => loadConfig({ FLEET_ROLLOUT_ADMIN_TOKEN: 'tiny-secret' })).not.toThrow(
      /tiny-secret/,
    );
  });
});
