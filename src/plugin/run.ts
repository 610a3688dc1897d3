import { UsageError } from '../cli/usage-error.js';
import { OperationError } from '../operations/errors.js';
import { FreezeError } from '../operations/freeze.js';
import { parsePluginArgs, stringFlag } from './args.js';
import { type CommandContext, type PluginIo, runCommand } from './commands.js';
import { connect, isUnreachable } from './connect.js';

/**
 * `kubectl fleet ARGS`: parses the line (help does nothing else), connects as kubectl does, runs
 * the command and resolves to the exit code: 0, 1 for a refusal or an API error, 2 for a command
 * line it cannot run. Every failure is one `error: …` line on `err`.
 */
export async function runPlugin(
  argv: readonly string[],
  io: PluginIo & { err: { write(text: string): unknown } },
): Promise<number> {
  let server: string | undefined;
  try {
    const line = parsePluginArgs(argv);
    if (line.kind === 'usage') {
      io.out.write(`${line.text}\n`);
      return 0;
    }
    const connection = connect({
      kubeconfig: stringFlag(line.flags, 'kubeconfig'),
      namespace: stringFlag(line.flags, 'namespace'),
      env: io.env,
    });
    server = connection.server;
    const context: CommandContext = { ...connection, ...line, io };
    return await runCommand(context);
  } catch (error) {
    io.err.write(`error: ${describeError(error, server)}\n`);
    return error instanceof UsageError ? 2 : 1;
  }
}

function describeError(error: unknown, server: string | undefined): string {
  if (error instanceof UsageError || error instanceof OperationError) return error.message;
  if (error instanceof FreezeError) return error.message;
  if (isUnreachable(error)) {
    const detail = error instanceof Error ? `: ${rootMessage(error)}` : '';
    return `cannot reach the Kubernetes API server at ${server ?? '(unknown)'}${detail}`;
  }
  return error instanceof Error ? error.message : String(error);
}

function rootMessage(error: Error): string {
  let current: unknown = error;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return (current as Error).message;
}
