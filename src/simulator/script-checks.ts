import { spawn } from 'node:child_process';
import type { TargetHealthCheck } from '../devices/health-checks.js';

/** The verdict of one service's script checks: healthy, or unhealthy and why. */
export type ScriptVerdict = { healthy: true } | { healthy: false; reason: string };

/** Who a script runs for; the script sees these as FLEET_DEVICE_UUID, FLEET_APP, … */
export interface ScriptContext {
  uuid: string;
  app: string;
  service: string;
  image: string;
}

/**
 * Runs Script health checks as a device agent would: each command as an argv (no shell) in a
 * process group of its own, with its timeout, the exit code as the verdict (0 healthy; any other
 * code, a signal, a program that cannot start, or the timeout unhealthy, with the reason). At
 * most `concurrency` scripts run at once across the whole simulated fleet; `stop()` kills those
 * that run and fails those that wait.
 */
export class ScriptChecks {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly groups = new Set<number>();
  private stopped = false;

  constructor(private readonly concurrency: number) {}

  /** Runs the Script checks among `checks` one after the other; the first failure decides. */
  async verdict(checks: readonly TargetHealthCheck[], context: ScriptContext) {
    for (const check of checks) {
      if (check.type !== 'Script' || !check.command) continue;
      const verdict = await this.run(check.command, (check.timeoutSeconds ?? 10) * 1000, context);
      if (!verdict.healthy) return verdict;
    }
    return { healthy: true } as ScriptVerdict;
  }

  /** Kills every script still running; later verdicts are unhealthy. Idempotent. */
  stop(): void {
    this.stopped = true;
    for (const group of this.groups) killGroup(group);
    for (const wake of this.waiting.splice(0)) wake();
  }

  private async run(command: readonly string[], timeoutMs: number, context: ScriptContext) {
    await this.slot();
    try {
      if (this.stopped) return { healthy: false, reason: 'the simulator stopped' } as const;
      return await this.spawn(command, timeoutMs, context);
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }

  private async slot(): Promise<void> {
    while (this.running >= this.concurrency && !this.stopped) {
      await new Promise<void>((wake) => this.waiting.push(wake));
    }
    this.running++;
  }

  private spawn(
    [program = '', ...args]: readonly string[],
    timeoutMs: number,
    context: ScriptContext,
  ): Promise<ScriptVerdict> {
    return new Promise((resolve) => {
      const child = spawn(program, args, {
        stdio: 'ignore',
        detached: true,
        env: {
          PATH: process.env.PATH,
          FLEET_DEVICE_UUID: context.uuid,
          FLEET_APP: context.app,
          FLEET_SERVICE: context.service,
          FLEET_IMAGE: context.image,
        },
      });
      const pid = child.pid;
      if (pid !== undefined) this.groups.add(pid);
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        if (pid !== undefined) killGroup(pid);
      }, timeoutMs);
      const done = (verdict: ScriptVerdict) => {
        clearTimeout(timer);
        if (pid !== undefined) this.groups.delete(pid);
        resolve(verdict);
      };
      child.once('error', (error) => {
        done({ healthy: false, reason: `cannot run ${program}: ${error.message}` });
      });
      child.once('exit', (code, signal) => {
        if (timedOut) {
          done({ healthy: false, reason: `timed out after ${timeoutMs / 1000}s` });
        } else if (code === 0) {
          done({ healthy: true });
        } else if (code !== null) {
          done({ healthy: false, reason: `exited with code ${code}` });
        } else {
          done({ healthy: false, reason: `killed by ${signal}` });
        }
      });
    });
  }
}

/** Kills a script and whatever it started (its process group); gone already is fine. */
function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // The group has exited already.
  }
}
