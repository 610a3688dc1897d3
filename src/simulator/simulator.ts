import { minimatch } from 'minimatch';
import { DeviceApiClient } from './device-api-client.js';
import { assignFates, labelsFor } from './fates.js';
import {
  type DeviceCredentials,
  type Registration,
  type ResolvedOptions,
  resolveOptions,
  type SimulatorOptions,
} from './options.js';
import { ScriptChecks } from './script-checks.js';
import {
  type Counters,
  type DevicePhase,
  type DeviceRuntime,
  type DeviceSnapshot,
  SimulatedDevice,
} from './simulated-device.js';

/** Script health checks running at once across the fleet (each is a process). */
const SCRIPT_CONCURRENCY = 4;

/** Fleet-wide counters and sizes at one moment. */
export interface SimulatorStats extends Readonly<Counters> {
  devices: number;
  /** Devices registered by this simulator (the others were attached). */
  registered: number;
  offline: number;
}

/** How many devices are in each phase, and how many services run each image in each state. */
export interface FleetSummary {
  phases: Record<DevicePhase, number>;
  /** image → state (`starting`, `healthy`, `unhealthy`, `unknown`, `exited`) → services. */
  images: Record<string, Record<string, number>>;
}

/**
 * Starts a simulated fleet against a running device API: registers `options.register.count`
 * devices (bounded concurrency), adds `options.attach`, assigns each its fate, starts them all.
 * Throws a ConfigError on bad options and an Error (with cause) when registration fails.
 */
export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  const resolved = resolveOptions(options);
  const client = new DeviceApiClient({
    apiUrl: resolved.apiUrl,
    concurrency: resolved.concurrency,
    timeoutMs: resolved.requestTimeoutMs,
  });
  let registered: DeviceCredentials[] = [];
  try {
    if (resolved.register) registered = await registerAll(client, resolved.register, resolved);
  } catch (error) {
    client.close();
    throw new Error('register simulated devices', { cause: error });
  }
  const simulator = new Simulator(client, resolved, [...resolved.attach, ...registered]);
  resolved.logger.info(
    { devices: simulator.stats().devices, registered: registered.length, seed: resolved.seed },
    'simulated devices started',
  );
  return simulator;
}

/** A running simulated fleet; `stop()` clears every timer and closes every connection. */
export class Simulator {
  private readonly devicesByUuid = new Map<string, SimulatedDevice>();
  private readonly counters: Counters = {
    polls: 0,
    ok: 0,
    notModified: 0,
    reports: 0,
    errors: 0,
    networkErrors: 0,
    updates: 0,
    lastError: undefined,
  };
  private stopped = false;
  private readonly scripts = new ScriptChecks(SCRIPT_CONCURRENCY);

  /** Use `startSimulator`. */
  constructor(
    private readonly client: DeviceApiClient,
    private readonly options: ResolvedOptions,
    credentials: DeviceCredentials[],
  ) {
    const fates = assignFates(
      credentials.map((c) => c.uuid),
      options,
    );
    const patterns = options.failingImages;
    const runtime: DeviceRuntime = {
      client,
      options,
      counters: this.counters,
      logger: options.logger.child({ component: 'simulator' }),
      failsOn: (image) =>
        patterns.length === 0 ||
        patterns.some((glob) => minimatch(image, glob, { matchBase: true })),
      scripts: this.scripts,
    };
    for (const device of credentials) {
      const fate = fates.get(device.uuid) ?? 'healthy';
      this.devicesByUuid.set(device.uuid, new SimulatedDevice(device, fate, runtime));
    }
    for (const device of this.devicesByUuid.values()) device.start();
  }

  /** The seed the fates and jitter follow. */
  get seed(): string {
    return this.options.seed;
  }

  /** Counters so far (a copy). */
  stats(): SimulatorStats {
    let offline = 0;
    for (const device of this.devicesByUuid.values()) if (device.fate === 'offline') offline++;
    return {
      ...this.counters,
      devices: this.devicesByUuid.size,
      registered: this.devicesByUuid.size - this.options.attach.length,
      offline,
    };
  }

  /** Every device's state, in start order. */
  devices(): DeviceSnapshot[] {
    return [...this.devicesByUuid.values()].map((device) => device.snapshot());
  }

  /** One device's state, or undefined when the simulator does not run it. */
  device(uuid: string): DeviceSnapshot | undefined {
    return this.devicesByUuid.get(uuid)?.snapshot();
  }

  /** Every device's credentials, to attach to them again later. */
  credentials(): DeviceCredentials[] {
    return [...this.devicesByUuid.values()].map((device) => ({ ...device.credentials }));
  }

  /** Devices by phase, services by image and state. */
  summary(): FleetSummary {
    const phases = { offline: 0, connecting: 0, pulling: 0, starting: 0, running: 0 };
    const images: Record<string, Record<string, number>> = {};
    for (const device of this.devicesByUuid.values()) {
      const snapshot = device.snapshot();
      phases[snapshot.phase]++;
      for (const { image, status, health } of Object.values(snapshot.services)) {
        const state = status === 'running' ? health : status;
        const counts = images[image] ?? {};
        counts[state] = (counts[state] ?? 0) + 1;
        images[image] = counts;
      }
    }
    return { phases, images };
  }

  /** Stops every device and aborts requests in flight; idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const device of this.devicesByUuid.values()) device.stop();
    this.scripts.stop();
    this.client.close();
  }
}

/** Registers `count` devices, `concurrency` at a time; the first failure stops the rest. */
async function registerAll(
  client: DeviceApiClient,
  registration: Registration,
  options: ResolvedOptions,
): Promise<DeviceCredentials[]> {
  const registered: DeviceCredentials[] = new Array(registration.count);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < registration.count) {
      const index = next++;
      const body = {
        fleet: registration.fleet ?? 'sim',
        labels: labelsFor(index, registration.labels ?? {}),
        apps: registration.apps ?? {},
      };
      try {
        registered[index] = await client.register(registration.adminToken, body);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const workers = Math.min(options.concurrency, registration.count);
  await Promise.all(Array.from({ length: workers }, worker));
  return registered;
}
