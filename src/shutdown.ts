import type { Logger } from './telemetry/logger.js';

/** How long stopping may take after the first signal; under Kubernetes' default grace of 30 s. */
export const SHUTDOWN_GRACE_MS = 25_000;

/**
 * Resolves on the first SIGINT or SIGTERM. Later signals are logged and ignored instead of
 * killing the process mid-shutdown with their default action (a terminal's Ctrl-C reaches the
 * process from the terminal and again relayed by `npm start` and tsx, so one press can arrive
 * twice). From the first signal on, a stop that takes longer than `graceMs` ends the process with
 * exit code 1 after saying so, so the last line is never a silent SIGKILL's.
 */
export function shutdownSignal(
  logger: Logger,
  options: { graceMs?: number; exit?: (code: number) => void } = {},
): Promise<NodeJS.Signals> {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  return new Promise((resolve) => {
    let first: NodeJS.Signals | undefined;
    const onSignal = (signal: NodeJS.Signals) => {
      if (first) {
        logger.warn({ signal }, 'already shutting down');
        return;
      }
      first = signal;
      logger.info({ signal }, 'shutting down');
      const deadline = setTimeout(() => {
        logger.error({ graceMs }, 'shutdown did not finish in time; exiting');
        exit(1);
      }, graceMs);
      deadline.unref();
      resolve(signal);
    };
    const graceMs = options.graceMs ?? SHUTDOWN_GRACE_MS;
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

/**
 * Logs an error nothing caught (an uncaught exception or unhandled rejection) as one `fatal`
 * line and on stderr, then exits with code 1: the default handler would print the stack too, but
 * not through the logger that collectors read.
 */
export function exitOnFatalErrors(logger: Logger): void {
  const fatal = (error: unknown) => {
    logger.fatal({ err: error }, 'fatal error');
    process.stderr.write(`fleet-rollout: fatal: ${String((error as Error)?.stack ?? error)}\n`);
    process.exit(1);
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
}
