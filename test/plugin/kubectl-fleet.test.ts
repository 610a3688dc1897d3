import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import type { ImageRollout } from '../../src/api/types.js';
import { writeKubeconfig } from '../../src/apiserver/kubeconfig.js';
import { registerDevice } from '../../src/db/device-store.js';
import { queryRows } from '../../src/db/rows.js';
import type { RolloutPreview } from '../../src/operations/preview.js';
import { approveRollout } from '../../src/operations/rollout-actions.js';
import { runPlugin } from '../../src/plugin/run.js';
import { type Engine, startEngine } from '../support/engine.js';

const BIN = fileURLToPath(new URL('../../bin/kubectl-fleet.js', import.meta.url));
const apps = { web: { services: { nginx: { image: 'docker.io/library/nginx:1.27' } } } };

/**
 * Every command of `kubectl fleet` against the local API server with the controller running
 * (Postgres, so preview has a DATABASE_URL): what it printed, and what it changed.
 */
describe('kubectl fleet', () => {
  let engine: Engine;
  let dir: string;
  let kubeconfig: string;
  let rolloutName = '';

  beforeAll(async () => {
    engine = await startEngine('postgres');
    dir = await mkdtemp(join(tmpdir(), 'kubectl-fleet-'));
    const { url, token, certificate } = engine.server;
    kubeconfig = await writeKubeconfig(join(dir, 'kubeconfig'), {
      server: url,
      token,
      certificate,
    });
    for (let i = 0; i < 20; i++) {
      await registerDevice(engine.database.db, { fleet: 'sim', labels: {}, apps });
    }
    await engine.policy('web', { strategy: { type: 'Manual', batches: [10, 50, 100] } });
  }, 120_000);
  afterAll(async () => {
    await engine?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Runs `kubectl fleet ARGS --kubeconfig …` in this process. */
  async function fleet(...args: string[]) {
    let out = '';
    let err = '';
    const code = await runPlugin([...args, '--kubeconfig', kubeconfig], {
      out: { write: (text: string) => (out += text) },
      err: { write: (text: string) => (err += text) },
      env: { DATABASE_URL: engine.databaseUrl },
      signal: new AbortController().signal,
      now: () => new Date(),
    });
    return { code, out, err };
  }
  const current = () => engine.get(rolloutName);

  it('preview: the devices and their batches, written nowhere; then the real membership equals it', async () => {
    const text = await fleet('preview', 'web', '--tag', '1.28');
    expect(text.code).toBe(0);
    expect(text.out).toContain('Devices:      20 in 3 batches');
    expect(text.out).toContain('Next window:  no maintenance windows: batches start any time');
    expect(text.out).toContain(
      'First step:   WaitingForApproval: Batch 1/3 waits for approval: set spec.approvedBatches to 1',
    );
    expect(await engine.kube.imageRollouts.list('default')).toEqual([]);
    const json = await fleet('preview', 'web', '--tag', '1.28', '-o', 'json');
    const preview = JSON.parse(json.out) as RolloutPreview;
    expect(preview.batches.map((batch) => batch.devices.length)).toEqual([2, 8, 10]);

    // The push happens: the webhook's rollout, then the controller selects its members.
    const { generation: _g, creationTimestamp: _c, ...metadata } = preview.rollout.metadata;
    const created = await engine.kube.imageRollouts.create({ ...preview.rollout, metadata });
    rolloutName = created.metadata.name ?? '';
    await engine.until(rolloutName, (r) => expect(r.status?.phase).toBe('WaitingForApproval'));
    const members = await queryRows<{ uuid: string; batch: number }>(
      engine.database.db,
      sql`select device_uuid::text as uuid, batch from rollout_members
          where rollout_uid = ${created.metadata.uid} order by rank`,
    );
    expect(members).toEqual(
      preview.batches.flatMap((batch) =>
        batch.devices.map((uuid) => ({ uuid, batch: batch.batch })),
      ),
    );
  });

  it('match: which policy takes the push, and that its rollout exists', async () => {
    const { code, out } = await fleet('match', 'nginx:1.28');
    expect(code).toBe(0);
    expect(out).toContain('docker.io/library/nginx:1.28: 1 of 1 policies would roll it out');
    expect(out).toMatch(new RegExp(`web\\s+yes\\s+exists already: ImageRollout ${rolloutName}`));
    const other = await fleet('match', 'ghcr.io/acme/app:1.0');
    expect(other.out).toMatch(/web\s+no\s+repository does not match "docker.io\/library\/nginx"/);
  });

  it('get and status: progress at a glance, and what the rollout waits for', async () => {
    const get = await fleet('get');
    expect(get.code).toBe(0);
    expect(get.out).toMatch(/NAME\s+IMAGE\s+TAGS\s+STRATEGY/);
    expect(get.out).toMatch(/web\s+docker.io\/library\/nginx\s+\*\s+Manual 10\/50\/100%/);
    expect(get.out).toMatch(
      new RegExp(
        `${rolloutName}\\s+web\\s+docker.io/library/nginx:1.28\\s+WaitingForApproval\\s+0/3`,
      ),
    );
    const list = parse((await fleet('get', 'rollouts', '-o', 'yaml')).out);
    expect(list.items.map((item: ImageRollout) => item.metadata.name)).toEqual([rolloutName]);
    const status = await fleet('status', rolloutName);
    expect(status.out).toContain(
      `Waiting for:  approval of batch 1 (kubectl fleet approve ${rolloutName})`,
    );
    expect(status.out).toMatch(/1\s+10%\s+2\s+\[·+\]/);
    // The controller records its Events beside the status write: the view shows them.
    await vi.waitFor(async () =>
      expect((await fleet('status', rolloutName)).out).toMatch(/Normal\s+RolloutStarted\s+/),
    );
  });

  it('approve, pause, resume: print what they did and change the spec', async () => {
    const help = await fleet('approve', rolloutName, '--help');
    expect(help).toMatchObject({ code: 0, err: '' });
    expect(help.out).toContain('usage: kubectl fleet approve ROLLOUT [flags]');
    expect((await current()).spec.approvedBatches).toBeUndefined();

    const approve = await fleet('approve', rolloutName);
    expect(approve).toEqual({
      code: 0,
      out: `imagerollout.fleet.iotistic.io/${rolloutName} approved: batches 1..1 may start\n`,
      err: '',
    });
    expect((await current()).spec.approvedBatches).toBe(1);
    await engine.until(rolloutName, (r) => expect(r.status?.currentBatch).toBe(1));

    const pause = await fleet('pause', rolloutName, '-o', 'json');
    expect(JSON.parse(pause.out).spec.paused).toBe(true);
    expect((await current()).spec.paused).toBe(true);
    const resume = await fleet('resume', rolloutName);
    expect(resume.out).toBe(`imagerollout.fleet.iotistic.io/${rolloutName} resumed\n`);
    expect((await current()).spec.paused).toBe(false);

    const retry = await fleet('retry', rolloutName);
    expect(retry.code).toBe(1);
    expect(retry.err).toMatch(
      /^error: ImageRollout default\/\S+ is not paused by its failure budget/,
    );
  });

  it('kubectl fleet status --watch redraws when the rollout changes (kubectl runs the bin)', async () => {
    // kubectl finds plugins as kubectl-<name> on the PATH: link the package's bin there.
    const plugins = join(dir, 'plugins');
    await mkdir(plugins);
    await symlink(BIN, join(plugins, 'kubectl-fleet'));
    const child = spawn(
      'kubectl',
      ['fleet', 'status', rolloutName, '--watch', '--kubeconfig', kubeconfig],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, HOME: dir, PATH: `${plugins}${delimiter}${process.env.PATH ?? ''}` },
      },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      await vi.waitFor(
        () => expect(out).toContain('Strategy:     Manual, batches 10% 50% 100%, 1 approved'),
        {
          timeout: 30_000,
          interval: 100,
        },
      );
      const views = out.split('Watching default/').length - 1;
      await approveRollout(engine.kube, { namespace: 'default', name: rolloutName });
      await vi.waitFor(
        () => {
          expect(out.split('Watching default/').length - 1).toBeGreaterThan(views);
          expect(out).toContain('Strategy:     Manual, batches 10% 50% 100%, 2 approved');
        },
        { timeout: 30_000, interval: 100 },
      );
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  });

  it('abort rolls back; actions after it are refused', async () => {
    const abort = await fleet('abort', rolloutName);
    expect(abort.out).toBe(
      `imagerollout.fleet.iotistic.io/${rolloutName} aborted: updated devices roll back\n`,
    );
    expect((await current()).spec.abort).toBe(true);
    const approve = await fleet('approve', rolloutName);
    expect(approve.code).toBe(1);
    expect(approve.err).toBe(
      `error: ImageRollout default/${rolloutName} was aborted and is rolling back: cannot approve\n`,
    );
  });

  it('retry continues a failure-budget pause by accepting the failures so far', async () => {
    // The status a controller writes when batch 2 spent its budget, held still: no controller.
    await engine.controller?.stop();
    const created = await engine.rollout('budget', { policy: 'web', approvedBatches: 2 });
    await engine.kube.imageRollouts.replaceStatus({
      ...created,
      status: {
        phase: 'Paused',
        currentBatch: 2,
        totalBatches: 3,
        conditions: [
          {
            type: 'Progressing',
            status: 'False',
            reason: 'FailureBudgetExceeded',
            message: 'Paused, batch 2: 3 failed',
            lastTransitionTime: new Date().toISOString(),
          },
        ],
      },
    });
    const resume = await fleet('resume', 'budget');
    expect(resume.code).toBe(1);
    expect(resume.err).toContain('is paused by its failure budget, not by spec.paused: retry');
    expect((await fleet('status', 'budget')).out).toContain(
      'Waiting for:  an operator: the failure budget is spent (kubectl fleet retry budget accepts the failures',
    );
    expect(await fleet('retry', 'budget')).toEqual({
      code: 0,
      out: 'imagerollout.fleet.iotistic.io/budget retried: failures of batches 1..2 accepted\n',
      err: '',
    });
    expect((await engine.get('budget')).spec.acceptedFailureBatches).toBe(2);
  });

  it('freeze and unfreeze a namespace', async () => {
    const frozen = await fleet('freeze', 'holiday', '--reason', 'change freeze', '--policy', 'web');
    expect(frozen).toEqual({
      code: 0,
      out: 'fleetfreeze.fleet.iotistic.io/holiday created\n',
      err: '',
    });
    expect((await engine.kube.fleetFreezes.get('default', 'holiday'))?.spec).toMatchObject({
      reason: 'change freeze',
      scope: { policies: ['web'] },
    });
    expect((await fleet('match', 'nginx:1.30')).out).toMatch(
      /web\s+yes\s+creates ImageRollout web-\w+, held by FleetFreeze holiday until it lifts/,
    );
    expect((await fleet('get', 'freezes')).out).toMatch(
      /holiday\s+Active\s+-\s+-\s+\d+\s+change freeze/,
    );
    const again = await fleet('freeze', 'holiday', '--reason', 'twice');
    expect(again).toMatchObject({
      code: 1,
      err: 'error: FleetFreeze default/holiday already exists\n',
    });
    expect(await fleet('unfreeze', 'holiday')).toMatchObject({
      code: 0,
      out: 'fleetfreeze.fleet.iotistic.io/holiday deleted\n',
    });
    expect(await engine.kube.fleetFreezes.get('default', 'holiday')).toBeUndefined();
  });

  it('errors: an unknown rollout, a bad flag, a missing value, an unreachable server', async () => {
    expect(await fleet('status', 'nope')).toEqual({
      code: 1,
      out: '',
      err: 'error: ImageRollout default/nope not found\n',
    });
    expect(await fleet('pause', 'nope', '-n', 'elsewhere')).toMatchObject({
      code: 1,
      err: 'error: ImageRollout elsewhere/nope not found\n',
    });
    expect(await fleet('approve', rolloutName, '--every')).toMatchObject({
      code: 2,
      err: 'error: approve: unknown flag "--every" (kubectl fleet approve --help lists the flags)\n',
    });
    expect(await fleet('get', '-o', 'xml')).toMatchObject({
      code: 2,
      err: 'error: get: --output must be one of json, yaml, got "xml"\n',
    });
    expect(await fleet('preview', 'web')).toMatchObject({
      code: 2,
      err: 'error: preview: --tag is required\n',
    });
    const closed = await writeKubeconfig(join(dir, 'closed'), {
      server: 'https://127.0.0.1:1',
      token: 't',
      certificate: engine.server.certificate,
    });
    let err = '';
    const code = await runPlugin(['get', '--kubeconfig', closed], {
      out: { write: () => true },
      err: { write: (text: string) => (err += text) },
      env: {},
      signal: new AbortController().signal,
      now: () => new Date(),
    });
    expect(code).toBe(1);
    expect(err).toMatch(
      /^error: cannot reach the Kubernetes API server at https:\/\/127.0.0.1:1: .*ECONNREFUSED/,
    );
  });
});
