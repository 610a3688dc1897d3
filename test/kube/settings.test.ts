import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { configuredConnection, loadKubeConfig } from '../../src/kube/client-node.js';

describe('kube settings', () => {
  it('defaults to client-go timings, a default-namespace lease and no configured cluster', () => {
    const { kube } = loadConfig({});
    expect(kube).toMatchObject({
      kubeconfig: undefined,
      inCluster: false,
      leaderElection: {
        namespace: 'default',
        leaseName: 'fleet-rollout-controller',
        leaseDurationMs: 15_000,
        renewDeadlineMs: 10_000,
        retryPeriodMs: 2_000,
      },
    });
    expect(kube.leaderElection.identity).toMatch(/_[0-9a-f]{8}$/);
    expect(configuredConnection(kube)).toBeUndefined();
  });

  it.each([
    [{ KUBECONFIG: '/etc/kube/config' }, { kind: 'kubeconfig', path: '/etc/kube/config' }],
    [{ KUBERNETES_SERVICE_HOST: '10.0.0.1' }, { kind: 'in-cluster' }],
    [
      { KUBECONFIG: '/k', KUBERNETES_SERVICE_HOST: '10.0.0.1' },
      { kind: 'kubeconfig', path: '/k' },
    ],
  ])('%o connects with %o', (env, expected) => {
    expect(configuredConnection(loadConfig(env).kube)).toEqual(expected);
  });

  it.each([
    { FLEET_ROLLOUT_RENEW_DEADLINE_SECONDS: '15' },
    { FLEET_ROLLOUT_RETRY_PERIOD_SECONDS: '10' },
    { FLEET_ROLLOUT_LEASE_DURATION_SECONDS: '0' },
    { FLEET_ROLLOUT_LEASE_DURATION_SECONDS: '12' },
    {
      FLEET_ROLLOUT_LEASE_DURATION_SECONDS: '15',
      FLEET_ROLLOUT_RENEW_DEADLINE_SECONDS: '6',
      FLEET_ROLLOUT_RETRY_PERIOD_SECONDS: '5',
    },
  ])('rejects inconsistent leader election timings %o', (env) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
  });

  it('loads a kubeconfig list, the first file naming the current context', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'));
    const file = (name: string, server: string) => {
      const path = join(dir, name);
      writeFileSync(
        path,
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Config',
          clusters: [{ name, cluster: { server } }],
          users: [{ name, user: { token: `token-${name}` } }],
          contexts: [{ name, context: { cluster: name, user: name } }],
          'current-context': name,
        }),
      );
      return path;
    };
    const paths = [file('one', 'https://one.example:6443'), file('two', 'https://two.example')];
    const kubeConfig = loadKubeConfig({ kind: 'kubeconfig', path: paths.join(delimiter) });
    expect(kubeConfig.getCurrentCluster()?.server).toBe('https://one.example:6443');
    expect(kubeConfig.getContexts().map((context) => context.name)).toEqual(['one', 'two']);
  });

  it('builds an explicit server and token connection, allowing plain http', () => {
    const kubeConfig = loadKubeConfig({ kind: 'token', server: 'http://127.0.0.1:1', token: 't' });
    expect(kubeConfig.getCurrentCluster()).toMatchObject({
      server: 'http://127.0.0.1:1',
      skipTLSVerify: true,
    });
    expect(kubeConfig.getCurrentUser()?.token).toBe('t');
  });
});
