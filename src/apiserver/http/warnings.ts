import type { FastifyReply, FastifyRequest } from 'fastify';
import { unstorableReason } from '../../api/storable-text.js';

/** Past this many characters of warning text in one answer, each warning is cut (upstream's limit). */
const TOTAL_CHARACTERS = 4 * 1024;
/** How long each warning may be once the total is exceeded. */
const TRUNCATED_CHARACTERS = 256;

/**
 * `Warning` header values (`299 - "text"`) for a response, as kube-apiserver's warning recorder
 * writes them: duplicates and empty texts dropped, a text with a control character or invalid
 * Unicode dropped, `"` and `\` escaped, every text cut to 256 characters once all of them pass
 * 4096, and UTF-8 sent as raw bytes. Node refuses header strings outside Latin-1, so each value
 * is the UTF-8 encoding spelled as Latin-1: on the wire it is exactly upstream's header.
 */
export function warningHeaders(warnings: readonly string[]): string[] {
  const texts = [...new Set(warnings)].filter(sendable).map((text) => [...text]);
  const total = texts.reduce((sum, characters) => sum + characters.length, 0);
  if (total <= TOTAL_CHARACTERS) return texts.map((characters) => header(characters.join('')));
  const headers: string[] = [];
  let written = 0;
  for (const characters of texts) {
    if (written >= TOTAL_CHARACTERS) break;
    const cut = characters.slice(0, TRUNCATED_CHARACTERS);
    written += cut.length;
    headers.push(header(cut.join('')));
  }
  return headers;
}

/** Whether upstream's `NewWarningHeader` accepts the text: valid UTF-8, no control character. */
function sendable(text: string): boolean {
  return text.length > 0 && unstorableReason(text) === undefined && !/\p{Cc}/u.test(text);
}

function header(text: string): string {
  const quoted = `299 - "${text.replace(/["\\]/g, (character) => `\\${character}`)}"`;
  return Buffer.from(quoted, 'utf8').toString('latin1');
}

/**
 * An `onSend` hook keeping warning bytes intact: Node writes the head of a response together
 * with a string body in the body's encoding (UTF-8), which would encode the Latin-1 spelling of
 * UTF-8 a second time; with a buffer body the head is written as Latin-1, byte for byte.
 */
export async function bodyAsBytesWithWarnings(
  _request: FastifyRequest,
  reply: FastifyReply,
  payload: unknown,
): Promise<unknown> {
  return typeof payload === 'string' && reply.hasHeader('warning') ? Buffer.from(payload) : payload;
}
