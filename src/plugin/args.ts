import { UsageError } from '../cli/usage-error.js';

/** A flag of the plugin: `--name`, maybe `-s`, with a value (`VALUE` placeholder) or boolean. */
interface FlagSpec {
  short?: string;
  /** Placeholder of the value in the help; undefined for a boolean flag. */
  value?: string;
  help: string;
  /** May be given several times (the values are collected). */
  repeatable?: boolean;
  /** The values it accepts, when fixed. */
  choices?: readonly string[];
}

const FLAGS = {
  kubeconfig: {
    value: 'PATH',
    help: 'kubeconfig file (default $KUBECONFIG, else ~/.kube/config)',
  },
  namespace: {
    short: 'n',
    value: 'NAME',
    help: "namespace (default the kubeconfig context's, else default)",
  },
  output: {
    short: 'o',
    value: 'FORMAT',
    help: 'json or yaml instead of text',
    choices: ['json', 'yaml'],
  },
  'all-namespaces': { short: 'A', help: 'every namespace' },
  watch: { short: 'w', help: 'redraw on every change until the rollout finishes (Ctrl-C stops)' },
  all: { help: 'approve: every batch; unfreeze: every freeze of the namespace' },
  tag: { value: 'TAG', help: 'the tag pushed' },
  image: {
    value: 'REPOSITORY',
    help: "the repository pushed (only needed when the policy's image is a glob)",
  },
  digest: {
    value: 'DIGEST',
    help: 'the digest pushed (sha256:…), which names a different rollout',
  },
  name: { value: 'ROLLOUT', help: 'preview a rollout of this name (default the webhook’s name)' },
  devices: { help: 'list every device of each batch (default the first 10)' },
  'database-url': {
    value: 'URL',
    help: 'Postgres holding the devices (default $DATABASE_URL)',
  },
  reason: { value: 'TEXT', help: 'why (shown in kubectl get and Events)' },
  start: { value: 'TIME', help: 'RFC 3339 time the freeze begins (default now)' },
  end: { value: 'TIME', help: 'RFC 3339 time the freeze ends by itself (default never)' },
  policy: { value: 'NAME', help: 'only rollouts of this policy (repeatable)', repeatable: true },
  help: { short: 'h', help: 'print this help and exit' },
} satisfies Record<string, FlagSpec>;

type FlagName = keyof typeof FLAGS;

/** Flags every command takes. */
const COMMON: FlagName[] = ['kubeconfig', 'namespace', 'output', 'help'];

interface CommandSpec {
  args: string;
  summary: string;
  /** Positional arguments: least and most. */
  min: number;
  max: number;
  flags: FlagName[];
  /** Flags that must be given. */
  required?: FlagName[];
}

const COMMANDS = {
  get: {
    args: '[rollouts|policies|freezes]',
    summary: 'list rollouts (with progress), policies and freezes',
    min: 0,
    max: 1,
    flags: ['all-namespaces'],
  },
  status: {
    args: 'ROLLOUT',
    summary:
      'a rollout: batches with progress bars, phase and what it waits for, conditions, Events',
    min: 1,
    max: 1,
    flags: ['watch'],
  },
  approve: {
    args: 'ROLLOUT',
    summary: 'approve the next batch (Manual), or promote past the interval (Staged)',
    min: 1,
    max: 1,
    flags: ['all'],
  },
  pause: { args: 'ROLLOUT', summary: 'start no further batch', min: 1, max: 1, flags: [] },
  resume: { args: 'ROLLOUT', summary: 'undo pause', min: 1, max: 1, flags: [] },
  abort: {
    args: 'ROLLOUT',
    summary: 'stop and roll every updated device back to its own previous image',
    min: 1,
    max: 1,
    flags: [],
  },
  retry: {
    args: 'ROLLOUT',
    summary: 'continue after a failure-budget pause, accepting the failures so far',
    min: 1,
    max: 1,
    flags: [],
  },
  preview: {
    args: 'POLICY --tag TAG',
    summary: 'dry run of a push: devices, batch of each, next maintenance window (writes nothing)',
    min: 1,
    max: 1,
    flags: ['tag', 'image', 'digest', 'name', 'devices', 'database-url'],
    required: ['tag'],
  },
  match: {
    args: 'IMAGE[:TAG][@DIGEST]',
    summary: 'which policies a push would trigger, and why the others would not',
    min: 1,
    max: 1,
    flags: ['all-namespaces'],
  },
  freeze: {
    args: '[NAME] --reason TEXT',
    summary: "stop the line: hold the namespace's rollouts (or some policies') and new ones",
    min: 0,
    max: 1,
    flags: ['reason', 'start', 'end', 'policy'],
    required: ['reason'],
  },
  unfreeze: {
    args: 'NAME | --all',
    summary: 'lift a freeze (--all: every freeze of the namespace); held rollouts go on',
    min: 0,
    max: 1,
    flags: ['all'],
  },
} satisfies Record<string, CommandSpec>;

/** A command of `kubectl fleet`. */
export type PluginCommand = keyof typeof COMMANDS;

/** Parsed flag values: strings, true for boolean flags, arrays for repeatable ones. */
export type PluginFlags = Partial<Record<FlagName, string | true | string[]>>;

/** What the command line asks for. */
export type PluginLine =
  | { kind: 'usage'; text: string }
  | { kind: 'run'; command: PluginCommand; args: string[]; flags: PluginFlags };

/** Usage of `kubectl fleet`. */
export const PLUGIN_USAGE = `usage: kubectl fleet <command> [flags]

Operate fleet-rollout's ImageRollouts, ImagePolicies and FleetFreezes.

commands:
${Object.entries(COMMANDS)
  .map(([name, spec]) => `  ${`${name} ${spec.args}`.padEnd(32)} ${spec.summary}`)
  .join('\n')}

flags of every command:
${flagLines(COMMON)}

Run "kubectl fleet <command> --help" for a command's own flags.`;

/** Usage of one command. */
export function pluginCommandUsage(command: PluginCommand): string {
  const spec: CommandSpec = COMMANDS[command];
  const lines = [`usage: kubectl fleet ${command} ${spec.args} [flags]`, '', spec.summary, ''];
  lines.push('flags:', flagLines([...spec.flags, ...COMMON]));
  return lines.join('\n');
}

function flagLines(names: readonly FlagName[]): string {
  return names
    .map((name) => {
      const spec: FlagSpec = FLAGS[name];
      const flag = `${spec.short ? `-${spec.short}, ` : ''}--${name}${spec.value ? ` ${spec.value}` : ''}`;
      return `  ${flag.padEnd(28)} ${spec.help}`;
    })
    .join('\n');
}

const HELP = new Set(['-h', '--help', 'help']);

/** Parses the plugin's arguments (after `kubectl-fleet`); throws UsageError. Does nothing else. */
export function parsePluginArgs(argv: readonly string[]): PluginLine {
  const [first, ...rest] = argv;
  if (first === undefined)
    throw new UsageError('no command given (kubectl fleet --help lists them)');
  if (HELP.has(first)) return { kind: 'usage', text: PLUGIN_USAGE };
  if (!Object.hasOwn(COMMANDS, first)) {
    const what = first.startsWith('-') ? 'flag' : 'command';
    throw new UsageError(`unknown ${what} "${first}" (kubectl fleet --help lists the commands)`);
  }
  const command = first as PluginCommand;
  // Help wins over everything else on the line: it never runs anything nor fails.
  if (rest.includes('-h') || rest.includes('--help')) {
    return { kind: 'usage', text: pluginCommandUsage(command) };
  }
  const spec: CommandSpec = COMMANDS[command];
  const { args, flags } = readTokens(command, rest, [...spec.flags, ...COMMON]);
  if (args.length < spec.min || args.length > spec.max) {
    const expected = spec.min === spec.max ? `${spec.min}` : `${spec.min} to ${spec.max}`;
    throw new UsageError(
      `${command}: expected ${expected} argument${spec.max === 1 ? '' : 's'} (${spec.args}), got ${args.length}`,
    );
  }
  for (const name of spec.required ?? []) {
    if (flags[name] === undefined) throw new UsageError(`${command}: --${name} is required`);
  }
  return { kind: 'run', command, args, flags };
}

function readTokens(command: PluginCommand, tokens: readonly string[], allowed: FlagName[]) {
  const args: string[] = [];
  const flags: PluginFlags = {};
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as string;
    if (token === '--') {
      args.push(...tokens.slice(i + 1));
      break;
    }
    if (!token.startsWith('-') || token === '-') {
      args.push(token);
      continue;
    }
    const { name, inline } = flagOf(command, token, allowed);
    const spec: FlagSpec = FLAGS[name];
    let value: string | true = true;
    if (spec.value) {
      const next = inline ?? tokens[i + 1];
      if (next === undefined || (inline === undefined && next.startsWith('-'))) {
        throw new UsageError(`${command}: --${name} needs a value (${spec.value})`);
      }
      if (inline === undefined) i++;
      value = next;
      if (spec.choices && !spec.choices.includes(value)) {
        throw new UsageError(
          `${command}: --${name} must be one of ${spec.choices.join(', ')}, got "${value}"`,
        );
      }
    } else if (inline !== undefined) {
      throw new UsageError(`${command}: --${name} takes no value`);
    }
    if (spec.repeatable)
      flags[name] = [...((flags[name] as string[] | undefined) ?? []), value as string];
    else flags[name] = value;
  }
  return { args, flags };
}

/** `--name`, `--name=value`, `-s`, `-s value`, `-svalue`. */
function flagOf(command: PluginCommand, token: string, allowed: FlagName[]) {
  let name: string;
  let inline: string | undefined;
  if (token.startsWith('--')) {
    const equals = token.indexOf('=');
    name = token.slice(2, equals < 0 ? undefined : equals);
    inline = equals < 0 ? undefined : token.slice(equals + 1);
  } else {
    const short = token[1] ?? '';
    const found = allowed.find((flag) => (FLAGS[flag] as FlagSpec).short === short);
    if (!found) throw unknownFlag(command, token);
    name = found;
    const attached = token.slice(2).replace(/^=/, '');
    inline = attached === '' ? undefined : attached;
  }
  if (!allowed.includes(name as FlagName)) throw unknownFlag(command, `--${name}`);
  return { name: name as FlagName, inline };
}

function unknownFlag(command: PluginCommand, flag: string) {
  return new UsageError(
    `${command}: unknown flag "${flag}" (kubectl fleet ${command} --help lists the flags)`,
  );
}

/** A string flag's value. */
export function stringFlag(flags: PluginFlags, name: FlagName): string | undefined {
  const value = flags[name];
  return typeof value === 'string' ? value : undefined;
}

/** A repeatable flag's values. */
export function listFlag(flags: PluginFlags, name: FlagName): string[] {
  const value = flags[name];
  return Array.isArray(value) ? value : [];
}
