import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

/** Creates the process logger: JSON lines, or pretty output when stdout is a terminal. */
export function createLogger(options: { level: string; pretty?: boolean }): Logger {
  const pretty = options.pretty ?? process.stdout.isTTY === true;
  return pino({
    level: options.level,
    base: { service: 'fleet-rollout' },
    redact: {
      paths: ['req.headers.authorization', '*.apiKey', '*.token', '*.password', '*.secret'],
      censor: '[redacted]',
    },
    ...(pretty
      ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l' } } }
      : {}),
  });
}

/** A logger that drops everything, for tests and tools that want silence. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
