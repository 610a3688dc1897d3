import { afterEach, describe, expect, it } from 'vitest';
import type { TargetHealthCheck } from '../../src/devices/health-checks.js';
import { ScriptChecks } from '../../src/simulator/script-checks.js';

const context = {
  uuid: '5b0a1f3e-8c1d-4a8e-9a57-2f4d7c9e0b11',
  app: 'web',
  service: 'nginx',
  image: 'docker.io/library/nginx:1.28',
};
const check = (command: string[], timeoutSeconds = 5): TargetHealthCheck => ({
  type: 'Script',
  periodSeconds: 10,
  command,
  timeoutSeconds,
});

describe('script health checks in the simulator', () => {
  let scripts = new ScriptChecks(2);
  afterEach(() => {
    scripts.stop();
    scripts = new ScriptChecks(2);
  });

  it.each<[string, string[], object]>([
    ['exit 0 is healthy', ['sh', '-c', 'exit 0'], { healthy: true }],
    [
      'exit 7 is unhealthy',
      ['sh', '-c', 'exit 7'],
      { healthy: false, reason: 'exited with code 7' },
    ],
    [
      'the script sees who it runs for',
      [
        'sh',
        '-c',
        'test "$FLEET_DEVICE_UUID/$FLEET_APP/$FLEET_SERVICE/$FLEET_IMAGE" = "$0"',
        `${context.uuid}/web/nginx/${context.image}`,
      ],
      { healthy: true },
    ],
    [
      'no shell: an argv is not split',
      ['true x'],
      { healthy: false, reason: expect.stringContaining('ENOENT') },
    ],
    [
      'a program that does not exist',
      ['/nonexistent/check'],
      { healthy: false, reason: expect.stringContaining('cannot run /nonexistent/check') },
    ],
    ['a signal', ['sh', '-c', 'kill -TERM $$'], { healthy: false, reason: 'killed by SIGTERM' }],
  ])('%s', async (_name, command, verdict) => {
    expect(await scripts.verdict([check(command)], context)).toEqual(verdict);
  });

  it('fails a script past its timeout and kills what it started', async () => {
    const started = performance.now();
    const verdict = await scripts.verdict([check(['sh', '-c', 'sleep 60; exit 0'], 1)], context);
    expect(verdict).toEqual({ healthy: false, reason: 'timed out after 1s' });
    // The verdict does not wait for the grandchild `sleep`: the whole group was killed.
    expect(performance.now() - started).toBeLessThan(30_000);
  });

  it('runs every Script check of a service and ignores the other types', async () => {
    const checks: TargetHealthCheck[] = [
      { type: 'TCP', periodSeconds: 10, port: 1 },
      check(['true']),
      check(['false']),
    ];
    expect(await scripts.verdict(checks, context)).toEqual({
      healthy: false,
      reason: 'exited with code 1',
    });
    expect(await scripts.verdict(checks.slice(0, 2), context)).toEqual({ healthy: true });
  });

  it('stops: running scripts are killed and waiting ones fail', async () => {
    const slow = check(['sh', '-c', 'sleep 60'], 120);
    const verdicts = Promise.all([1, 2, 3].map(() => scripts.verdict([slow], context)));
    scripts.stop();
    const results = await verdicts;
    expect(results.every((verdict) => !verdict.healthy)).toBe(true);
    expect(results.map((verdict) => ('reason' in verdict ? verdict.reason : ''))).toContain(
      'the simulator stopped',
    );
  });
});
