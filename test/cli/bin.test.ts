import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const VERSION: string = (await import('../../package.json', { with: { type: 'json' } })).default
  .version;

/** Runs the package's binary as a user of the checkout would, right after `npm ci`. */
async function cli(args: string[], env: Record<string, string> = {}, bin = 'bin/fleet-rollout.js') {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('FLEET_ROLLOUT_')),
  );
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], {
      env: { ...clean, KUBECONFIG: '', DATABASE_URL: '', ...env },
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    if (typeof failed.code !== 'number') throw error;
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const COMMANDS = ['start', 'controller', 'device-api', 'webhooks', 'apiserver', 'migrate'];

// Each run loads the whole program through tsx, seconds on a busy machine: the runs go in parallel.
describe.concurrent('fleet-rollout binary', { timeout: 180_000 }, () => {
  it.each(['--help', '-h'])('%s lists every command and exits 0', async (flag) => {
    const { code, stdout, stderr } = await cli([flag]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    for (const command of [...COMMANDS, 'simulate']) expect(stdout).toContain(`  ${command} `);
  });

  // Every command with one of the two (test/cli/command-line.test.ts checks both on each).
  it.each(
    [...COMMANDS, 'simulate', 'simulate'].map((command, index) => [
      command,
      index % 2 ? '-h' : '--help',
    ]),
  )('%s %s prints the command usage, starts nothing and exits 0', async (command, flag) => {
    // A bad setting would stop any command that loads its configuration: help does not.
    const { code, stdout, stderr } = await cli([command, flag], { FLEET_ROLLOUT_PORT: 'nope' });
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toContain(`usage: fleet-rollout ${command} [flags]`);
    expect(stdout).not.toContain('"level"');
  });

  it('prints the controller-runtime flags in the controller usage', async () => {
    const { stdout } = await cli(['controller', '--help']);
    for (const flag of [
      '--kubeconfig',
      '--namespace',
      '--leader-elect',
      '--metrics-bind-address',
      '--health-probe-bind-address',
    ]) {
      expect(stdout).toContain(flag);
    }
  });

  it.each(['--version', '-v'])('%s prints the version of package.json', async (flag) => {
    expect(await cli([flag])).toEqual({
      code: 0,
      stdout: `fleet-rollout ${VERSION}\n`,
      stderr: '',
    });
  });

  it.each([
    [
      ['deploy'],
      'fleet-rollout: unknown command "deploy" (fleet-rollout --help lists the commands)\n',
    ],
    [
      ['--verbose'],
      'fleet-rollout: unknown flag "--verbose" (fleet-rollout --help lists the commands)\n',
    ],
    [
      ['controller', '--leader-election'],
      'fleet-rollout: controller: unknown flag "--leader-election" (fleet-rollout controller --help lists the flags)\n',
    ],
    [
      ['simulate', '--device', '3'],
      /^fleet-rollout: simulate: Unknown option '--device'.* \(fleet-rollout simulate --help lists the flags\)\n$/,
    ],
    [[], 'fleet-rollout: no command given (fleet-rollout --help lists them)\n'],
  ])('%j is one line on stderr and exit code 2', async (args, message) => {
    const { code, stdout, stderr } = await cli(args);
    expect({ code, stdout }).toEqual({ code: 2, stdout: '' });
    expect(stderr).toMatch(message);
    expect(stderr.trimEnd()).not.toContain('\n');
  });

  it('a flag overrides the environment variable', async () => {
    // The flag's bad value is reported under the flag's name although the variable is good...
    const flagWins = await cli(['controller', '--namespace', 'Not_A_Name'], {
      FLEET_ROLLOUT_NAMESPACE: 'good',
    });
    expect(flagWins).toMatchObject({ code: 2, stdout: '' });
    expect(flagWins.stderr).toBe(
      'fleet-rollout: --namespace must be a namespace name (lower-case letters, digits and -), got "Not_A_Name"\n',
    );
    // ...and a good flag hides the variable's bad value: the controller gets as far as its next need.
    const variableHidden = await cli(['controller', '--namespace', 'good'], {
      FLEET_ROLLOUT_NAMESPACE: 'Not_A_Name',
    });
    expect(variableHidden).toEqual({
      code: 1,
      stdout: '',
      stderr: 'fleet-rollout: controller needs DATABASE_URL (the Postgres the device API uses)\n',
    });
  });

  it.each([
    [['--help'], 'usage: kubectl fleet <command> [flags]'],
    [['status', 'web', '--watch', '-h'], 'usage: kubectl fleet status ROLLOUT [flags]'],
  ])('the kubectl-fleet binary: %j prints its usage and connects nowhere', async (args, usage) => {
    // A kubeconfig that does not exist would fail any command that connects: help does not.
    const result = await cli(
      args,
      { KUBECONFIG: '/nonexistent/kubeconfig' },
      'bin/kubectl-fleet.js',
    );
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toContain(usage);
  });

  describe('with a data directory', () => {
    let dataDir: string;
    beforeAll(async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'fleet-rollout-cli-'));
    });
    afterAll(() => rm(dataDir, { recursive: true, force: true }));

    it('warns about an unknown FLEET_ROLLOUT_ variable at start-up, naming the closest known one', async () => {
      const { code, stdout } = await cli(['migrate'], {
        FLEET_ROLLOUT_DATA_DIR: dataDir,
        FLEET_ROLLOUT_LOG_LEVEL: 'info',
        FLEET_ROLLOUT_POLL_INTERVAL_SECOND: '30',
      });
      expect(code).toBe(0);
      const warnings = stdout
        .split('\n')
        .filter((line) => line.includes('unknown environment variable'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(
        'unknown environment variable FLEET_ROLLOUT_POLL_INTERVAL_SECOND is ignored (did you mean FLEET_ROLLOUT_POLL_INTERVAL_SECONDS?)',
      );
      expect(stdout).toContain('migrations applied');
    });
  });
});
