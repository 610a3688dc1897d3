import { PayloadError } from './push.js';

/** GitHub's default webhook encoding: `payload=<url-encoded JSON>`. */
export const FORM_MEDIA_TYPE = /^application\/x-www-form-urlencoded\s*(?:;.*)?$/i;

/**
 * The JSON text of a form-encoded GitHub delivery: its one `payload` field, decoded. A body
 * without that field, or with it more than once, is a PayloadError. Other fields are ignored.
 */
export function formPayload(raw: Buffer): string {
  const [payload, ...others] = new URLSearchParams(raw.toString('utf8')).getAll('payload');
  if (payload === undefined) throw new PayloadError('the form body has no payload field');
  if (others.length > 0) {
    throw new PayloadError(`the form body has ${others.length + 1} payload fields; send one`);
  }
  return payload;
}
