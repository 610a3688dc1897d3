import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';

const REGISTRY_BINARY = '/usr/bin/docker-registry';

/** A CNCF Distribution registry (Debian's docker-registry) running for one test. */
export interface TestRegistry {
  /** `127.0.0.1:<port>`: the registry host of the images pushed to it. */
  host: string;
  /** Copies the image of an OCI layout to `<host>/<repository>:<tag>` with skopeo. */
  push(layoutDir: string, layoutTag: string, repository: string, tag: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts a registry on a free loopback port with its own storage, notifying `notifyUrl` of every
 * event with `Authorization: <authorization>`. Its own log (which prints that header) is dropped.
 */
export async function startRegistry(options: {
  notifyUrl: string;
  authorization: string;
}): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-rollout-registry-'));
  const config = {
    version: 0.1,
    log: { level: 'info', formatter: 'json' },
    storage: { filesystem: { rootdirectory: join(dir, 'data') } },
    http: { addr: '127.0.0.1:0', secret: 'test-upload-secret' },
    notifications: {
      endpoints: [
        {
          name: 'fleet-rollout',
          url: options.notifyUrl,
          headers: { Authorization: [options.authorization] },
          timeout: '2s',
          threshold: 5,
          backoff: '200ms',
        },
      ],
    },
  };
  writeFileSync(join(dir, 'config.yml'), stringify(config));
  const child = spawn(REGISTRY_BINARY, ['serve', join(dir, 'config.yml')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stop = async () => {
    await stopProcess(child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const host = await listeningAddress(child);
    return {
      host,
      push: (layout, from, repository, tag) =>
        skopeoCopy(layout, from, `${host}/${repository}:${tag}`),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Waits for the registry's "listening on <addr>" log line. */
function listeningAddress(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('registry did not start within 10 s')), 10_000);
    const onData = (chunk: Buffer) => {
      const match = /listening on (127\.0\.0\.1:\d+)/.exec(chunk.toString());
      if (!match?.[1]) return;
      clearTimeout(timer);
      resolve(match[1]);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`registry exited with ${code} before listening`));
    });
  });
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

async function skopeoCopy(layoutDir: string, layoutTag: string, destination: string) {
  await promisify(execFile)(
    'skopeo',
    [
      'copy',
      '--insecure-policy',
      '--dest-tls-verify=false',
      `oci:${layoutDir}:${layoutTag}`,
      `docker://${destination}`,
    ],
    { timeout: 60_000 },
  );
}
