import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config.js';
import { parseDuration, parseImages, parseSimulateArgs } from '../../src/simulator/cli-args.js';
import { formatCredentials, parseCredentials } from '../../src/simulator/credentials-file.js';

const URL = 'http://127.0.0.1:8080';
const UUID = '5b0a1f3e-8c1d-4a8e-9a57-2f4d7c9e0b11';

describe('parseSimulateArgs', () => {
  it('has defaults that register ten devices running nginx', () => {
    const plan = parseSimulateArgs([], URL);
    expect(plan.register).toEqual({
      count: 10,
      fleet: 'sim',
      labels: {},
      apps: { nginx: { services: { nginx: { image: 'docker.io/library/nginx:1.27' } } } },
    });
    expect(plan.options.apiUrl).toBe(URL);
    expect(plan).toMatchObject({ summaryIntervalMs: 10_000, durationMs: undefined, help: false });
  });

  it('parses every flag', () => {
    const plan = parseSimulateArgs(
      [
        ...['--api-url', 'http://h:1', '--devices', '500', '--fleet', 'edge'],
        ...['--label', 'site=a,b,c', '--label', 'hw=pi4', '--image', 'web/app=ghcr.io/acme/app:1'],
        ...['--credentials', 'in.txt', '--save-credentials', 'out.txt', '--admin-token-file', 't'],
        ...['--poll-interval', '200ms', '--long-poll', '30s', '--report-interval', '1m'],
        ...['--pull-delay', '1.5s', '--healthy-after', '0', '--failure-rate', '0.1'],
        ...['--failure-mode', 'mixed', '--fail-image', '*:2.*', '--offline', '0.05'],
        ...['--script-checks', 'pass'],
        ...['--seed', 'x', '--concurrency', '16', '--summary-interval', '5s', '--duration', '1h'],
      ],
      URL,
    );
    expect(plan).toEqual({
      options: {
        apiUrl: 'http://h:1',
        seed: 'x',
        pollIntervalMs: 200,
        longPollSeconds: 30,
        reportIntervalMs: 60_000,
        pullDelayMs: 1500,
        healthyAfterMs: 0,
        failureRate: 0.1,
        failureMode: 'mixed',
        failingImages: ['*:2.*'],
        offlineFraction: 0.05,
        scriptChecks: 'pass',
        concurrency: 16,
      },
      register: {
        count: 500,
        fleet: 'edge',
        labels: { site: ['a', 'b', 'c'], hw: ['pi4'] },
        apps: { web: { services: { app: { image: 'ghcr.io/acme/app:1' } } } },
      },
      adminTokenFile: 't',
      credentialsFile: 'in.txt',
      saveCredentialsFile: 'out.txt',
      summaryIntervalMs: 5000,
      durationMs: 3_600_000,
      help: false,
    });
  });

  it('registers nobody by default when attaching to a credentials file', () => {
    expect(parseSimulateArgs(['--credentials', 'c.txt'], URL).register.count).toBe(0);
  });

  it.each([
    [['--devices', 'ten'], '--devices must be a whole number'],
    [['--failure-rate', '1.5'], '--failure-rate must be a fraction from 0 to 1'],
    [['--offline', ''], '--offline must be a fraction'],
    [['--failure-mode', 'flaky'], '--failure-mode must be unhealthy, exited, stuck or mixed'],
    [['--script-checks', 'skip'], '--script-checks must be run or pass'],
    [['--poll-interval', '5'], '--poll-interval must be a duration like 200ms'],
    [['--long-poll', '1500ms'], '--long-poll must be whole seconds'],
    [['--label', 'site'], '--label must look like key=value1,value2'],
    [['--label', 'site=a,,b'], '--label must look like key=value1,value2'],
    [['--image', 'web/app=Not A Ref'], '--image "web/app=Not A Ref": invalid'],
    [['--image', 'app=nginx:1'], '--image must look like app/service=reference'],
    [['--bogus'], 'simulate: Unknown option'],
    [['extra'], 'simulate: Unexpected argument'],
  ])('rejects %j with a clear message', (argv, message) => {
    expect(() => parseSimulateArgs(argv, URL)).toThrow(ConfigError);
    expect(() => parseSimulateArgs(argv, URL)).toThrow(message);
  });
});

describe('parseDuration', () => {
  it.each([
    ['0', 0],
    ['200ms', 200],
    ['2s', 2000],
    ['1.5m', 90_000],
    ['1h', 3_600_000],
  ])('%s is %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '5', '1d', '-1s', '1 s', 's'])('rejects "%s"', (text) => {
    expect(() => parseDuration(text)).toThrow(ConfigError);
  });
});

describe('parseImages', () => {
  it('names services after the repository unless named, and groups them by app', () => {
    expect(
      parseImages(['redis:7', 'web/api=ghcr.io/acme/api:2', 'web/ui=ghcr.io/acme/ui:2']),
    ).toEqual({
      redis: { services: { redis: { image: 'redis:7' } } },
      web: {
        services: { api: { image: 'ghcr.io/acme/api:2' }, ui: { image: 'ghcr.io/acme/ui:2' } },
      },
    });
  });
});

describe('credentials files', () => {
  it('round-trips, ignoring comments and blank lines, lower-casing uuids', () => {
    const devices = [
      { uuid: UUID, apiKey: 'key-1' },
      { uuid: UUID.replace('5b', '6c'), apiKey: 'key_2' },
    ];
    expect(parseCredentials(formatCredentials(devices))).toEqual(devices);
    expect(parseCredentials(`\n# c\n${UUID.toUpperCase()} key\n\n`)).toEqual([
      { uuid: UUID, apiKey: 'key' },
    ]);
  });

  it.each([
    [`not-a-uuid,key`, 'line 1: "not-a-uuid" is not a device uuid'],
    [`${UUID}`, 'line 1: expected "uuid,apiKey"'],
    [`${UUID},key,extra`, 'line 1: expected "uuid,apiKey"'],
    [`# c\n${UUID},a\n${UUID},b`, `line 3: device ${UUID} again`],
  ])('rejects %j', (text, message) => {
    expect(() => parseCredentials(text, 'f.txt')).toThrow(`f.txt ${message}`);
  });
});
