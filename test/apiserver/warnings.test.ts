import { describe, expect, it } from 'vitest';
import { warningHeaders } from '../../src/apiserver/http/warnings.js';

/** What a client decoding the header's bytes as UTF-8 (as client-go does) reads. */
const read = (value: string) => Buffer.from(value, 'latin1').toString('utf8');

describe('Warning headers', () => {
  it.each([
    ['ASCII text', 'unknown field "spec.x"', '299 - "unknown field \\"spec.x\\""'],
    ['Latin-1 text', 'unknown field "spec.ü"', '299 - "unknown field \\"spec.ü\\""'],
    ['text outside Latin-1', 'unknown field "spec.日本"', '299 - "unknown field \\"spec.日本\\""'],
    ['an emoji', 'unknown field "spec.🚀"', '299 - "unknown field \\"spec.🚀\\""'],
    ['a backslash', 'unknown field "spec.a\\b"', '299 - "unknown field \\"spec.a\\\\b\\""'],
  ])('sends %s as upstream does, UTF-8 on the wire', (_name, text, expected) => {
    const [header] = warningHeaders([text]);
    expect(header).toMatch(/^[\x20-\x7e\x80-\xff]*$/);
    expect(read(header as string)).toBe(expected);
  });

  it.each([
    ['a newline', 'unknown field "spec.a\nb"'],
    ['a NUL', 'unknown field "spec.a\u0000b"'],
    ['a C1 control character', 'unknown field "spec.a\u0085b"'],
    ['an unpaired surrogate', 'unknown field "spec.a\ud800b"'],
    ['nothing', ''],
  ])('drops a warning with %s, as upstream', (_name, text) => {
    expect(warningHeaders([text, 'kept'])).toEqual(['299 - "kept"']);
  });

  it('sends each text once', () => {
    expect(warningHeaders(['a', 'b', 'a'])).toEqual(['299 - "a"', '299 - "b"']);
  });

  it('cuts every warning to 256 characters once they pass 4096 in all, and stops there', () => {
    const long = (i: number) => `${String(i).padStart(3, '0')}${'日'.repeat(997)}`;
    const headers = warningHeaders(Array.from({ length: 40 }, (_, i) => long(i)));
    expect(headers).toHaveLength(16);
    for (const [i, header] of headers.entries()) {
      expect(read(header)).toBe(`299 - "${long(i).slice(0, 256)}"`);
    }
  });

  it('keeps everything when the total fits', () => {
    const texts = Array.from({ length: 4 }, (_, i) => `${i}${'x'.repeat(1000)}`);
    expect(warningHeaders(texts).map(read)).toEqual(texts.map((text) => `299 - "${text}"`));
  });
});
