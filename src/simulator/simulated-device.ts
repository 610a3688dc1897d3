import type { TargetApps } from '../devices/target-document.js';
import type { Logger } from '../telemetry/logger.js';
import {
  type DeviceApiClient,
  DeviceApiError,
  describeError,
  type ReportedService,
} from './device-api-client.js';
import { type Change, DeviceServices, keyOf, type Outcome } from './device-services.js';
import { jittered, randomSource } from './fates.js';
import {
  type DeviceCredentials,
  type DeviceFate,
  FALLBACK_POLL_INTERVAL_MS,
  type ResolvedOptions,
} from './options.js';
import type { ScriptChecks, ScriptVerdict } from './script-checks.js';

/** Where a device is: never polls, no target yet, downloading, starting, or settled. */
export type DevicePhase = 'offline' | 'connecting' | 'pulling' | 'starting' | 'running';

/** A device as a test sees it; `services` is keyed `app/service`. */
export interface DeviceSnapshot {
  uuid: string;
  fate: DeviceFate;
  phase: DevicePhase;
  etag: string | undefined;
  target: TargetApps | undefined;
  services: Record<string, ReportedService>;
  polls: number;
  reports: number;
  /** Failed requests of any kind. */
  errors: number;
}

/** Fleet-wide counters, shared by every device of a simulator. */
export interface Counters {
  polls: number;
  ok: number;
  notModified: number;
  reports: number;
  /** Answers other than the expected one (4xx, 5xx, a malformed document). */
  errors: number;
  /** Requests without an answer: refused or reset connections, timeouts. */
  networkErrors: number;
  /** Changed targets received (the first target a device sees does not count). */
  updates: number;
  lastError: string | undefined;
}

/** What every device of a simulator shares. */
export interface DeviceRuntime {
  client: DeviceApiClient;
  options: ResolvedOptions;
  counters: Counters;
  logger: Logger;
  /** Whether a failing device fails on this image (the `failingImages` filter). */
  failsOn(image: string): boolean;
  /** Runs the Script health checks of started services. */
  scripts: ScriptChecks;
}

const FAILED: Record<Exclude<DeviceFate, 'healthy' | 'offline'>, Outcome> = {
  unhealthy: { status: 'running', health: 'unhealthy' },
  exited: { status: 'exited', health: 'unknown' },
  stuck: { status: 'running', health: 'unknown' },
};

/**
 * One simulated device: polls its target, "pulls" and starts changed images, reports them
 * healthy or failing per its fate, and re-sends its state as a heartbeat. It holds at most one
 * timer of each kind (poll, update, heartbeat) and one request of each kind (poll, report).
 */
export class SimulatedDevice {
  private readonly random: () => number;
  private etag: string | undefined;
  private target: TargetApps | undefined;
  private readonly services: DeviceServices;
  private phase: DevicePhase;
  private serverIntervalMs: number | undefined;
  private failures = 0;
  /** Counts changes started, so a settle whose scripts outlived its change is dropped. */
  private changes = 0;
  /** Whether the device has shifted its poll phase by a random part of an interval yet. */
  private phased = false;
  /** A report is in flight; `reportsWanted` counts requests, so changes during it send again. */
  private reporting = false;
  private reportsWanted = 0;
  private stopped = false;
  private readonly timers: Record<'poll' | 'update' | 'heartbeat', NodeJS.Timeout | undefined> = {
    poll: undefined,
    update: undefined,
    heartbeat: undefined,
  };
  private readonly counts = { polls: 0, reports: 0, errors: 0 };

  constructor(
    readonly credentials: DeviceCredentials,
    readonly fate: DeviceFate,
    private readonly runtime: DeviceRuntime,
  ) {
    this.random = randomSource(runtime.options.seed, credentials.uuid);
    const failed = fate === 'healthy' || fate === 'offline' ? undefined : FAILED[fate];
    this.services = new DeviceServices((image) =>
      failed && runtime.failsOn(image) ? failed : undefined,
    );
    this.phase = fate === 'offline' ? 'offline' : 'connecting';
  }

  /** Starts polling after a random part of the start window; offline devices do nothing. */
  start(): void {
    if (this.fate === 'offline') return;
    this.schedule('poll', this.random() * this.runtime.options.startSpreadMs, () => this.poll());
  }

  /** Clears every timer; requests in flight are aborted by the client. */
  stop(): void {
    this.stopped = true;
    for (const kind of ['poll', 'update', 'heartbeat'] as const) clearTimeout(this.timers[kind]);
  }

  /** A copy of the device's state. */
  snapshot(): DeviceSnapshot {
    return {
      uuid: this.credentials.uuid,
      fate: this.fate,
      phase: this.phase,
      etag: this.etag,
      target: this.target,
      services: this.services.services(),
      ...this.counts,
    };
  }

  private schedule(kind: keyof SimulatedDevice['timers'], delayMs: number, run: () => unknown) {
    clearTimeout(this.timers[kind]);
    if (this.stopped) return;
    this.timers[kind] = setTimeout(() => {
      this.timers[kind] = undefined;
      run();
    }, delayMs);
  }

  private async poll(): Promise<void> {
    const { client, counters, options } = this.runtime;
    counters.polls++;
    this.counts.polls++;
    const started = performance.now();
    let delay: number;
    try {
      const answer = await client.poll(this.credentials, this.etag, options.longPollSeconds);
      if (this.stopped) return;
      this.serverIntervalMs = answer.pollIntervalMs ?? this.serverIntervalMs;
      if (answer.status === 200) {
        counters.ok++;
        this.receive(answer.etag, answer.apps);
      } else {
        counters.notModified++;
      }
      this.failures = 0;
      delay = this.nextPollDelay(answer.status, performance.now() - started);
    } catch (error) {
      if (this.stopped) return;
      this.failed(error);
      delay = this.retryDelay(this.intervalMs(), error);
    }
    this.schedule('poll', delay, () => this.poll());
  }

  private intervalMs(): number {
    return (
      this.runtime.options.pollIntervalMs ?? this.serverIntervalMs ?? FALLBACK_POLL_INTERVAL_MS
    );
  }

  /**
   * Long polls follow each other at once, unless the server answered 304 early (it caps or
   * ignores `wait`): then the device waits an interval rather than spin. After the first target,
   * a device waits a random part of an interval, so a fleet started together drifts apart.
   */
  private nextPollDelay(status: 200 | 304, elapsedMs: number): number {
    const { longPollSeconds, jitter } = this.runtime.options;
    if (longPollSeconds > 0 && (status === 200 || elapsedMs >= longPollSeconds * 500)) return 0;
    if (!this.phased) {
      this.phased = true;
      return this.random() * this.intervalMs();
    }
    return jittered(this.intervalMs(), jitter, this.random);
  }

  /**
   * Exponential backoff from 0.5 s, at most `ceilingMs`, with jitter; never sooner than the
   * server's Retry-After, as a real agent must honour it.
   */
  private retryDelay(ceilingMs: number, error: unknown): number {
    this.failures = Math.min(this.failures + 1, 20);
    const backoff = jittered(Math.min(ceilingMs, 500 * 2 ** (this.failures - 1)), 0.5, this.random);
    const asked = error instanceof DeviceApiError ? (error.retryAfterMs ?? 0) : 0;
    return Math.max(backoff, asked);
  }

  private failed(error: unknown): void {
    const { counters, logger } = this.runtime;
    if (error instanceof DeviceApiError) counters.errors++;
    else counters.networkErrors++;
    this.counts.errors++;
    counters.lastError = describeError(error);
    logger.debug({ err: error, device: this.credentials.uuid }, 'device request failed');
  }

  private receive(etag: string, apps: TargetApps): void {
    const first = this.target === undefined;
    this.etag = etag;
    this.target = apps;
    if (first) {
      this.install(apps);
    } else {
      this.runtime.counters.updates++;
      this.update();
    }
  }

  /** The first target a device sees is what it runs already: healthy, nothing to pull. */
  private install(apps: TargetApps): void {
    this.services.install(apps);
    this.phase = 'running';
    this.report();
  }

  /** Moves towards the current target: pull what is missing, then start what changed. */
  private update(): void {
    clearTimeout(this.timers.update);
    this.changes++;
    const change = this.services.plan(this.target ?? {});
    if (change === undefined) {
      this.phase = 'running';
      return;
    }
    this.phase = change.pull ? 'pulling' : 'starting';
    const delay = change.pull ? this.runtime.options.pullDelayMs : 0;
    this.schedule('update', delay, () => this.startServices(change));
  }

  private startServices(change: Change): void {
    const id = ++this.changes;
    this.services.start(change);
    this.phase = 'starting';
    this.report();
    this.schedule('update', this.runtime.options.healthyAfterMs, () => this.settle(change, id));
  }

  /** The started services settle once their Script checks (if any) have given a verdict. */
  private async settle(change: Change, id: number): Promise<void> {
    const scripts = await this.runScripts(change);
    if (this.stopped || id !== this.changes) return;
    this.services.settle(change, scripts);
    this.phase = 'running';
    this.report();
  }

  private async runScripts(change: Change): Promise<Map<string, ScriptVerdict>> {
    const verdicts = new Map<string, ScriptVerdict>();
    await Promise.all(
      change.start.map(async (service) => {
        if (this.runtime.options.scriptChecks === 'pass') return;
        if (!service.checks?.some((check) => check.type === 'Script')) return;
        const context = { uuid: this.credentials.uuid, ...service };
        verdicts.set(keyOf(service), await this.runtime.scripts.verdict(service.checks, context));
      }),
    );
    return verdicts;
  }

  /** Sends the state now, or right after the report in flight; one report at a time. */
  private report(): void {
    if (this.stopped) return;
    this.reportsWanted++;
    if (!this.reporting) void this.sendReports();
  }

  private async sendReports(): Promise<void> {
    const { client, counters, options } = this.runtime;
    this.reporting = true;
    clearTimeout(this.timers.heartbeat);
    let next = jittered(options.reportIntervalMs, options.jitter, this.random);
    let sent: number;
    do {
      sent = this.reportsWanted;
      try {
        await client.report(this.credentials, this.services.reported());
        counters.reports++;
        this.counts.reports++;
        if (this.counts.reports === 1) next = this.random() * options.reportIntervalMs;
      } catch (error) {
        if (this.stopped) return;
        this.failed(error);
        next = this.retryDelay(options.reportIntervalMs, error);
      }
    } while (sent !== this.reportsWanted && !this.stopped);
    this.reporting = false;
    this.schedule('heartbeat', next, () => this.report());
  }
}
