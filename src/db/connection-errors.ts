/**
 * SQLSTATEs of a connection the server ended or cannot give: admin, crash and startup
 * shutdowns (57P01–57P03) and the connection exception class (08xxx).
 */
const SQLSTATES = new Set(['57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006']);

/** Socket errors of a database we cannot reach. */
const ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** What pg and pg-pool say when a connection died, could not be made, or waited too long. */
const MESSAGES = [
  /^Connection terminated/,
  /is not queryable/,
  /^timeout exceeded when trying to connect/,
  /^terminating connection/,
];

/** How long clients should wait before retrying while the database is unreachable. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

/**
 * Whether `error` (or one of its causes: drizzle wraps driver errors) says the database is
 * unreachable or dropped the connection, rather than that the statement was wrong: the one
 * place that decides between "retry later" (503) and a bug (500).
 */
export function isConnectionError(error: unknown): boolean {
  return connectionErrorOf(error) !== undefined;
}

/** The innermost error that makes `error` a connection error, for logging its code and message. */
export function connectionErrorOf(error: unknown): Error | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current instanceof Error; depth++) {
    if (matches(current)) return current;
    const nested = (current as { errors?: unknown }).errors;
    if (Array.isArray(nested) && nested.some((inner) => inner instanceof Error && matches(inner))) {
      return current;
    }
    current = current.cause;
  }
  return undefined;
}

function matches(error: Error): boolean {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (SQLSTATES.has(code) || ERRNOS.has(code))) return true;
  return MESSAGES.some((pattern) => pattern.test(error.message));
}
