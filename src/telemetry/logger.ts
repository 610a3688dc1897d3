import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger } from 'pino';

/**
 * Creates the process logger: JSON lines, or pretty output when stdout is a terminal. Either way
 * each line is written to stdout synchronously, before the log call returns, so a process that
 * exits or is killed right after logging never loses its last lines (pino's default stdout
 * destination buffers asynchronously, and a pino-pretty transport writes from a worker thread).
 */
export function createLogger(options: { level: string; pretty?: boolean }): Logger {
  const usePretty = options.pretty ?? process.stdout.isTTY === true;
  const destination = usePretty
    ? pretty({ translateTime: 'SYS:HH:MM:ss.l', destination: 1, sync: true })
    : pino.destination({ dest: 1, sync: true });
  return pino(
    {
      level: options.level,
      base: { service: 'fleet-rollout' },
      redact: {
        paths: ['req.headers.authorization', '*.apiKey', '*.token', '*.password', '*.secret'],
        censor: '[redacted]',
      },
    },
    destination,
  );
}

/** A logger that drops everything, for tests and tools that want silence. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
