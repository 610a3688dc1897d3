import type { EventsV1Event } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import type { ImageRollout } from '../api/types.js';
import { UsageError } from '../cli/usage-error.js';
import { openDatabase } from '../db/client.js';
import { freeze, listFreezes, unfreeze, unfreezeAll } from '../operations/freeze.js';
import { matchImage } from '../operations/match.js';
import { previewRollout } from '../operations/preview.js';
import {
  abortRollout,
  approveRollout,
  pauseRollout,
  resumeRollout,
  retryRollout,
} from '../operations/rollout-actions.js';
import { isTerminal } from '../planner/siblings.js';
import { silentLogger } from '../telemetry/logger.js';
import { listFlag, type PluginCommand, type PluginFlags, stringFlag } from './args.js';
import type { Connection } from './connect.js';
import { followRollout } from './follow.js';
import { renderMatch, renderPreview } from './reports.js';
import { renderStatus } from './status-view.js';
import { freezeTable, policyTable, rolloutTable } from './tables.js';

/** Where a command writes, what it reads from the environment, and what stops `--watch`. */
export interface PluginIo {
  out: { write(text: string): unknown; isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  /** Aborts `status --watch` (Ctrl-C). */
  signal: AbortSignal;
  now(): Date;
}

/** One parsed command line, connected. */
export interface CommandContext extends Connection {
  command: PluginCommand;
  args: string[];
  flags: PluginFlags;
  io: PluginIo;
}

const RESOURCE = 'imagerollout.fleet.iotistic.io';

/** Runs one command; resolves to the exit code. Refusals and API errors reject. */
export async function runCommand(context: CommandContext): Promise<number> {
  const { command, args, kube, namespace } = context;
  const ref = { namespace, name: args[0] ?? '' };
  switch (command) {
    case 'get':
      return get(context);
    case 'status':
      return status(context);
    case 'approve': {
      const all = context.flags.all === true;
      const rollout = await approveRollout(kube, ref, { all });
      const approved = rollout.spec.approvedBatches ?? 0;
      return done(context, rollout, `approved: batches 1..${approved} may start`);
    }
    case 'pause':
      return done(context, await pauseRollout(kube, ref), 'paused: no further batch starts');
    case 'resume':
      return done(context, await resumeRollout(kube, ref), 'resumed');
    case 'abort':
      return done(context, await abortRollout(kube, ref), 'aborted: updated devices roll back');
    case 'retry': {
      const rollout = await retryRollout(kube, ref);
      const accepted = rollout.spec.acceptedFailureBatches ?? 0;
      return done(context, rollout, `retried: failures of batches 1..${accepted} accepted`);
    }
    case 'preview':
      return preview(context);
    case 'match': {
      const all = context.flags['all-namespaces'] === true;
      const report = await matchImage(kube, ref.name, all ? undefined : namespace);
      return print(context, report, () => renderMatch(report, all));
    }
    case 'freeze':
      return freezeCommand(context);
    case 'unfreeze':
      return unfreezeCommand(context);
  }
}

/** Prints `-o json|yaml` of `object`, else the text. */
function print(context: CommandContext, object: unknown, text: () => string): number {
  const output = stringFlag(context.flags, 'output');
  if (output === 'json') context.io.out.write(`${JSON.stringify(object, null, 2)}\n`);
  else if (output === 'yaml') context.io.out.write(stringify(object));
  else context.io.out.write(text());
  return 0;
}

function done(context: CommandContext, rollout: ImageRollout, what: string): number {
  return print(context, rollout, () => `${RESOURCE}/${rollout.metadata.name} ${what}\n`);
}

async function get(context: CommandContext): Promise<number> {
  const { kube, flags, io } = context;
  const kind = context.args[0];
  if (kind !== undefined && !['rollouts', 'policies', 'freezes'].includes(kind)) {
    throw new UsageError(`get: unknown kind "${kind}" (rollouts, policies or freezes)`);
  }
  const all = flags['all-namespaces'] === true;
  const namespace = all ? undefined : context.namespace;
  const now = io.now();
  const rollouts =
    kind === undefined || kind === 'rollouts' ? await kube.imageRollouts.list(namespace) : [];
  const policies =
    kind === undefined || kind === 'policies' ? await kube.imagePolicies.list(namespace) : [];
  const freezes =
    kind === undefined || kind === 'freezes' ? await listFreezes(kube, { namespace, now }) : [];
  const items = [...policies, ...rollouts, ...freezes.map((item) => item.freeze)];
  return print(context, { apiVersion: 'v1', kind: 'List', items }, () => {
    const sections: string[] = [];
    if (kind === undefined || kind === 'policies') sections.push(policyTable(policies, now, all));
    if (kind === undefined || kind === 'rollouts') sections.push(rolloutTable(rollouts, now, all));
    if (kind === 'freezes' || (kind === undefined && freezes.length > 0)) {
      sections.push(freezeTable(freezes, all));
    }
    return `${sections.join('\n\n')}\n`;
  });
}

async function status(context: CommandContext): Promise<number> {
  const { kube, namespace, io } = context;
  const name = context.args[0] ?? '';
  const draw = async (rollout: ImageRollout, live: boolean) => {
    const events = await eventsOf(context, rollout);
    if (stringFlag(context.flags, 'output')) return print(context, rollout, () => '');
    const view = renderStatus(rollout, events, io.now());
    if (!live) return print(context, rollout, () => view);
    const footer = `\nWatching ${namespace}/${name} (updated ${io.now().toISOString()}; Ctrl-C stops)\n`;
    io.out.write(io.out.isTTY ? `\x1b[H\x1b[2J${view}${footer}` : `${view}${footer}\n`);
    return 0;
  };
  if (context.flags.watch !== true) {
    const rollout = await kube.imageRollouts.get(namespace, name);
    if (!rollout) throw new Error(`ImageRollout ${namespace}/${name} not found`);
    return draw(rollout, false);
  }
  let seen = false;
  const end = await followRollout(
    kube,
    { namespace, name },
    async (rollout) => {
      seen = true;
      await draw(rollout, true);
      return isTerminal(rollout.status?.phase);
    },
    io.signal,
  );
  if (end === 'deleted') {
    throw new Error(`ImageRollout ${namespace}/${name} ${seen ? 'was deleted' : 'not found'}`);
  }
  return 0;
}

/** The Events about this rollout (this uid: not an earlier rollout of the same name). */
async function eventsOf(context: CommandContext, rollout: ImageRollout): Promise<EventsV1Event[]> {
  const fieldSelector = `regarding.kind=ImageRollout,regarding.name=${rollout.metadata.name}`;
  const events = await context.kube.events.list(context.namespace, { fieldSelector });
  const uid = rollout.metadata.uid;
  return events.filter((event) => !uid || !event.regarding?.uid || event.regarding.uid === uid);
}

async function preview(context: CommandContext): Promise<number> {
  const { flags, io } = context;
  const url = stringFlag(flags, 'database-url') ?? io.env.DATABASE_URL;
  if (!url) {
    throw new Error(
      'preview reads the devices from Postgres: set DATABASE_URL or pass --database-url',
    );
  }
  const database = await openDatabase({ url, logger: silentLogger(), poolSize: 1 });
  try {
    const result = await previewRollout(
      { kube: context.kube, db: database.db, now: io.now() },
      {
        policy: { namespace: context.namespace, name: context.args[0] ?? '' },
        tag: stringFlag(flags, 'tag') ?? '',
        image: stringFlag(flags, 'image'),
        digest: stringFlag(flags, 'digest'),
        rolloutName: stringFlag(flags, 'name'),
      },
    );
    return print(context, result, () => renderPreview(result, flags.devices === true));
  } finally {
    await database.close();
  }
}

async function freezeCommand(context: CommandContext): Promise<number> {
  const { flags, io } = context;
  const policies = listFlag(flags, 'policy');
  const start = stringFlag(flags, 'start');
  const end = stringFlag(flags, 'end');
  const created = await freeze(
    context.kube,
    {
      namespace: context.namespace,
      name: context.args[0],
      reason: stringFlag(flags, 'reason') ?? '',
      scope: policies.length > 0 ? { policies } : undefined,
      window: start || end ? { start, end } : undefined,
    },
    io.now(),
  );
  return print(
    context,
    created,
    () => `fleetfreeze.fleet.iotistic.io/${created.metadata.name} created\n`,
  );
}

async function unfreezeCommand(context: CommandContext): Promise<number> {
  const name = context.args[0];
  const all = context.flags.all === true;
  if ((name === undefined) === !all) {
    throw new UsageError('unfreeze: give a freeze NAME or --all (one of them)');
  }
  if (all) {
    const lifted = await unfreezeAll(context.kube, { namespace: context.namespace });
    return print(context, { apiVersion: 'v1', kind: 'List', items: lifted }, () =>
      lifted.length === 0
        ? `No FleetFreezes in ${context.namespace}.\n`
        : lifted
            .map((item) => `fleetfreeze.fleet.iotistic.io/${item.metadata.name} deleted\n`)
            .join(''),
    );
  }
  const lifted = await unfreeze(context.kube, { namespace: context.namespace, name: name ?? '' });
  return print(
    context,
    lifted,
    () => `fleetfreeze.fleet.iotistic.io/${lifted.metadata.name} deleted\n`,
  );
}
