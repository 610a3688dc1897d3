/**
 * Whether an If-None-Match header matches `etag` (quoted). The common case, the exact value the
 * server sent, is one string compare; lists, weak tags (`W/"…"`, weak comparison per RFC 9110
 * §13.1.2) and `*` take the slow path.
 */
export function etagMatches(header: string, etag: string): boolean {
  return header === etag || listMatches(header, etag);
}

function listMatches(header: string, etag: string): boolean {
  if (header.trim() === '*') return true;
  for (const candidate of header.split(',')) {
    const tag = candidate.trim();
    if (tag === etag || (tag.startsWith('W/') && tag.slice(2) === etag)) return true;
  }
  return false;
}
