import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCommandLine } from '../../src/cli/command-line.js';
import { UsageError } from '../../src/cli/usage-error.js';
import { knownVariables, loadConfig, unknownVariables } from '../../src/config.js';

function run(argv: string[]) {
  const line = parseCommandLine(argv);
  if (line.kind !== 'run') throw new Error(`expected a command to run, got ${line.kind}`);
  return line;
}

describe('command line', () => {
  it('maps the controller-runtime flags onto the environment variables loadConfig reads', () => {
    const line = run([
      'controller',
      '--kubeconfig',
      '/tmp/kc',
      '--namespace=team-a',
      '--leader-elect=false',
      '--metrics-bind-address',
      '127.0.0.1:9090',
      '--health-probe-bind-address=:8081',
    ]);
    expect(line.overrides).toEqual({
      KUBECONFIG: '/tmp/kc',
      FLEET_ROLLOUT_NAMESPACE: 'team-a',
      FLEET_ROLLOUT_LEADER_ELECT: 'false',
      FLEET_ROLLOUT_METRICS_HOST: '127.0.0.1',
      FLEET_ROLLOUT_METRICS_PORT: '9090',
      FLEET_ROLLOUT_HOST: '0.0.0.0',
      FLEET_ROLLOUT_PORT: '8081',
    });
    const config = loadConfig({ FLEET_ROLLOUT_NAMESPACE: 'team-b', ...line.overrides });
    expect(config.kube.namespace).toBe('team-a');
    expect(config.kube.kubeconfig).toBe('/tmp/kc');
    expect(config.kube.leaderElection.enabled).toBe(false);
    expect(config.metrics).toEqual({ host: '127.0.0.1', port: 9090 });
    expect(config.http).toMatchObject({ host: '0.0.0.0', port: 8081 });
  });

  it('takes a bare --leader-elect as true and an IPv6 bind address in brackets', () => {
    const line = run(['start', '--leader-elect', '--metrics-bind-address', '[::1]:0']);
    expect(line.overrides).toMatchObject({
      FLEET_ROLLOUT_LEADER_ELECT: 'true',
      FLEET_ROLLOUT_METRICS_HOST: '::1',
      FLEET_ROLLOUT_METRICS_PORT: '0',
    });
  });

  it.each([
    [['nope'], 'unknown command "nope"'],
    [['--nope'], 'unknown flag "--nope"'],
    [['device-api', '--namespace', 'x'], 'device-api: unknown flag "--namespace"'],
    [['controller', '--leader-elect=maybe'], '--leader-elect must be true or false'],
    [['controller', '--metrics-bind-address', '8080'], 'must look like HOST:PORT'],
    [['controller', '--metrics-bind-address', ':70000'], 'must look like HOST:PORT'],
    [['controller', '--kubeconfig'], '--kubeconfig needs a value'],
    [['controller', 'extra'], 'unexpected argument "extra"'],
    [[], 'no command given'],
  ])('%j is a usage error', (argv, message) => {
    expect(() => parseCommandLine(argv)).toThrow(UsageError);
    expect(() => parseCommandLine(argv)).toThrow(message);
  });

  it.each(
    ['start', 'controller', 'device-api', 'webhooks', 'apiserver', 'migrate', 'simulate'].flatMap(
      (command) => [
        [command, '--help'],
        [command, '-h'],
      ],
    ),
  )('%s %s is the usage of the command', (command, flag) => {
    const line = parseCommandLine([command, flag]);
    expect(line.kind).toBe('usage');
    expect(line.kind === 'usage' && line.text).toContain(`usage: fleet-rollout ${command} [flags]`);
  });

  it('answers help before any flag is checked', () => {
    expect(parseCommandLine(['controller', '--bogus=1', '-h'])).toMatchObject({ kind: 'usage' });
    expect(() => parseCommandLine(['controller', '--bogus=1', '-h'])).not.toThrow();
  });
});

describe('environment variables', () => {
  it('reports a FLEET_ROLLOUT_ variable nothing reads, with the closest known name', () => {
    expect(
      unknownVariables({
        FLEET_ROLLOUT_PROT: '1',
        FLEET_ROLLOUT_PORT: '1',
        FLEET_ROLLOUT_SOMETHING_ELSE_ENTIRELY: 'x',
        OTHER: 'y',
      }),
    ).toEqual([
      { name: 'FLEET_ROLLOUT_PROT', suggestion: 'FLEET_ROLLOUT_PORT' },
      { name: 'FLEET_ROLLOUT_SOMETHING_ELSE_ENTIRELY', suggestion: undefined },
    ]);
  });

  it('knows every FLEET_ROLLOUT_ variable named anywhere in src/', () => {
    const named = new Set<string>();
    for (const file of sources('src')) {
      for (const [name] of readFileSync(file, 'utf8').matchAll(
        /FLEET_ROLLOUT_[A-Z0-9_]*[A-Z0-9]/g,
      )) {
        named.add(name);
      }
    }
    const known = knownVariables();
    // Prefixes of names built from parts (FLEET_ROLLOUT_WEBHOOK_, FLEET_ROLLOUT_HTTP_) are no variables.
    const missing = [...named].filter(
      (name) => !known.has(name) && ![...known].some((each) => each.startsWith(`${name}_`)),
    );
    expect(missing).toEqual([]);
    expect(known.has('FLEET_ROLLOUT_WEBHOOK_GAR_JWKS_URL')).toBe(true);
    expect(known.has('FLEET_ROLLOUT_WEBHOOK_GHCR_SECRET_FILE')).toBe(true);
  });
});

function* sources(dir: string): Generator<string> {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) yield* sources(path);
    else if (path.endsWith('.ts')) yield path;
  }
}
