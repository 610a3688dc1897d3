import { SIMULATE_USAGE } from '../simulator/cli-args.js';
import { UsageError } from './usage-error.js';

/** What the command line asks for; flags become environment overrides read by loadConfig. */
export type CommandLine =
  | { kind: 'usage'; text: string }
  | { kind: 'version' }
  | {
      kind: 'run';
      command: CommandName;
      /** The arguments after the command, for commands that parse their own (simulate). */
      args: string[];
      /** Environment variables set by flags, which win over the environment. */
      overrides: Record<string, string>;
      /** The flag that set each overridden variable. */
      flagOf: Record<string, string>;
    };

/** A flag of the server commands, and the environment variable(s) it sets. */
interface FlagSpec {
  /** `VALUE` placeholder in the help; undefined for a boolean flag. */
  value?: string;
  help: string;
  /** The variables the flag's value sets (the value is validated first). */
  toEnv(value: string, flag: string): Record<string, string>;
}

const FLAGS = {
  kubeconfig: {
    value: 'PATH',
    help: 'kubeconfig file of the Kubernetes API (env KUBECONFIG; default in-cluster config)',
    toEnv: (value) => ({ KUBECONFIG: value }),
  },
  namespace: {
    value: 'NAME',
    help: 'watch ImagePolicies and ImageRollouts of this namespace only (env FLEET_ROLLOUT_NAMESPACE; default every namespace)',
    toEnv: (value) => ({ FLEET_ROLLOUT_NAMESPACE: value }),
  },
  'leader-elect': {
    help: '--leader-elect=false runs the controller without electing a leader: run one replica only (env FLEET_ROLLOUT_LEADER_ELECT; default true)',
    toEnv: (value, flag) => ({ FLEET_ROLLOUT_LEADER_ELECT: booleanValue(value, flag) }),
  },
  'metrics-bind-address': bindAddressFlag(
    'serve /metrics on its own address (env FLEET_ROLLOUT_METRICS_HOST and _PORT; default on the HTTP address)',
    'FLEET_ROLLOUT_METRICS_HOST',
    'FLEET_ROLLOUT_METRICS_PORT',
  ),
  'health-probe-bind-address': bindAddressFlag(
    'the HTTP address serving /healthz and /readyz, and the APIs of the role (env FLEET_ROLLOUT_HOST and FLEET_ROLLOUT_PORT; default 0.0.0.0:8080)',
    'FLEET_ROLLOUT_HOST',
    'FLEET_ROLLOUT_PORT',
  ),
} satisfies Record<string, FlagSpec>;

type FlagName = keyof typeof FLAGS;

/** The flags of the commands that run the controller (`start` and `controller`). */
const CONTROLLER_FLAGS: FlagName[] = [
  'kubeconfig',
  'namespace',
  'leader-elect',
  'metrics-bind-address',
  'health-probe-bind-address',
];

/** The commands, what each does, and which flags it takes (besides -h/--help). */
const COMMANDS = {
  start: {
    summary: 'run every role in one process on embedded defaults',
    flags: CONTROLLER_FLAGS,
  },
  controller: {
    summary: 'run the rollout controller alone, leader-elected (needs DATABASE_URL and KUBECONFIG)',
    flags: CONTROLLER_FLAGS,
  },
  'device-api': {
    summary: 'run the device API alone (needs DATABASE_URL and FLEET_ROLLOUT_ADMIN_TOKEN)',
    flags: ['metrics-bind-address', 'health-probe-bind-address'],
  },
  webhooks: {
    summary: 'run the registry webhook receiver alone (needs DATABASE_URL and KUBECONFIG)',
    flags: ['kubeconfig', 'namespace', 'metrics-bind-address', 'health-probe-bind-address'],
  },
  apiserver: { summary: 'run only the local Kubernetes API server', flags: [] },
  migrate: { summary: 'apply database migrations and exit', flags: [] },
  simulate: {
    summary: 'run simulated devices against a device API (simulate --help)',
    flags: [],
  },
} satisfies Record<string, { summary: string; flags: FlagName[] }>;

/** A command of the `fleet-rollout` binary. */
export type CommandName = keyof typeof COMMANDS;

/** Usage of `fleet-rollout` itself. */
export const USAGE = `usage: fleet-rollout <command> [flags]
       fleet-rollout --version

commands:
${Object.entries(COMMANDS)
  .map(([name, { summary }]) => `  ${name.padEnd(11)} ${summary}`)
  .join('\n')}

Run "fleet-rollout <command> --help" for a command's flags. Flags override environment
variables, which override the defaults; see the README's Configuration section.`;

/** Usage of one command (not simulate, which has its own). */
export function commandUsage(command: Exclude<CommandName, 'simulate'>): string {
  const lines = [`usage: fleet-rollout ${command} [flags]`, '', COMMANDS[command].summary, ''];
  const flags: [string, string][] = COMMANDS[command].flags.map((name: FlagName) => {
    const spec: FlagSpec = FLAGS[name];
    return [`--${name}${spec.value ? ` ${spec.value}` : ''}`, spec.help];
  });
  flags.push(['-h, --help', 'print this help and exit']);
  for (const [flag, help] of flags) lines.push(`  ${flag}`, `      ${help}`);
  lines.push(
    '',
    'Flags override environment variables; every other setting is an environment variable.',
  );
  return lines.join('\n');
}

const HELP = new Set(['-h', '--help', 'help']);

/** Parses `argv` (without node and the script); throws UsageError. Starts nothing. */
export function parseCommandLine(argv: readonly string[]): CommandLine {
  const [first, ...rest] = argv;
  if (first === undefined)
    throw new UsageError('no command given (fleet-rollout --help lists them)');
  if (HELP.has(first)) return { kind: 'usage', text: USAGE };
  if (first === '--version' || first === '-v') return { kind: 'version' };
  if (first.startsWith('-')) {
    throw new UsageError(`unknown flag "${first}" (fleet-rollout --help lists the commands)`);
  }
  if (!isCommand(first)) {
    throw new UsageError(`unknown command "${first}" (fleet-rollout --help lists the commands)`);
  }
  if (first === 'simulate') {
    // simulate parses its own flags; only help is answered here, before any configuration loads.
    const end = rest.indexOf('--');
    const flags = end < 0 ? rest : rest.slice(0, end);
    if (flags.includes('-h') || flags.includes('--help'))
      return { kind: 'usage', text: SIMULATE_USAGE };
    return { kind: 'run', command: first, args: rest, overrides: {}, flagOf: {} };
  }
  return parseFlags(first, rest);
}

function parseFlags(command: Exclude<CommandName, 'simulate'>, args: string[]): CommandLine {
  const allowed: readonly string[] = COMMANDS[command].flags;
  const overrides: Record<string, string> = {};
  const flagOf: Record<string, string> = {};
  // Help wins over everything else on the line, so that it never starts anything nor fails.
  if (args.includes('-h') || args.includes('--help')) {
    return { kind: 'usage', text: commandUsage(command) };
  }
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (!arg.startsWith('--')) {
      throw new UsageError(
        `${command}: unexpected argument "${arg}" (fleet-rollout ${command} --help lists the flags)`,
      );
    }
    const equals = arg.indexOf('=');
    const name = arg.slice(2, equals < 0 ? undefined : equals);
    if (!allowed.includes(name)) {
      throw new UsageError(
        `${command}: unknown flag "--${name}" (fleet-rollout ${command} --help lists the flags)`,
      );
    }
    const spec: FlagSpec = FLAGS[name as FlagName];
    let value: string;
    if (equals >= 0) value = arg.slice(equals + 1);
    else if (!spec.value) value = 'true';
    else {
      const next = args[i + 1];
      if (next === undefined || next.startsWith('-')) {
        throw new UsageError(`${command}: --${name} needs a value (${spec.value})`);
      }
      value = next;
      i++;
    }
    for (const [variable, setting] of Object.entries(spec.toEnv(value, `--${name}`))) {
      overrides[variable] = setting;
      flagOf[variable] = `--${name}`;
    }
  }
  return { kind: 'run', command, args: [], overrides, flagOf };
}

function isCommand(name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name);
}

function booleanValue(value: string, flag: string): string {
  if (value === 'true' || value === 'false') return value;
  throw new UsageError(`${flag} must be true or false, got "${value}"`);
}

/** `host:port`, `:port` (every interface) or `[ipv6]:port`. */
/** A `[HOST]:PORT` flag that sets a host and a port variable. */
function bindAddressFlag(help: string, hostVariable: string, portVariable: string): FlagSpec {
  return {
    value: '[HOST]:PORT',
    help,
    toEnv: (value, flag) => {
      const { host, port } = bindAddress(value, flag);
      return { [hostVariable]: host, [portVariable]: port };
    },
  };
}

function bindAddress(value: string, flag: string): { host: string; port: string } {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]*)):(\d{1,5})$/.exec(value);
  const port = Number(match?.[3]);
  if (!match || port > 65535) {
    throw new UsageError(`${flag} must look like HOST:PORT or :PORT, got "${value}"`);
  }
  return { host: match[1] ?? (match[2] || '0.0.0.0'), port: String(port) };
}
