const REDACTED = '[redacted]';

const PATTERNS: Array<[RegExp, string]> = [
  // user:password@ in URLs
  [/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@:]+:[^\s/@]+@/gi, `$1${REDACTED}@`],
  // Authorization: Bearer/Basic credentials
  [/\b(bearer|basic)\s+[a-z0-9._~+/=-]{8,}/gi, `$1 ${REDACTED}`],
  // key=value / key: value for secret-looking keys
  [
    /\b([a-z_-]*(?:token|password|passwd|secret|api[_-]?key|credentials?)[a-z_-]*)(["']?\s*[=:]\s*["']?)[^\s"',;&]+/gi,
    `$1$2${REDACTED}`,
  ],
  // JSON Web Tokens anywhere
  [/\beyJ[a-z0-9_-]{5,}\.[a-z0-9_-]{5,}\.[a-z0-9_-]*/gi, REDACTED],
];

/** Replaces credentials that may hide in free text (URLs, tokens, key=value secrets). */
export function redactSecrets(text: string): string {
  return PATTERNS.reduce(
    (result, [pattern, replacement]) => result.replace(pattern, replacement),
    text,
  );
}
