// Property-based fuzzing of the API-key parser and its checksum. Runs RUNS cases per property
// with a fixed seed; FUZZ_RUNS and FUZZ_SEED change both (see test/support/fuzz.ts).
import { crc32 } from 'node:zlib';
import { expect } from 'chai';
import fc from 'fast-check';
import { fuzzParameters, fuzzRuns } from '../test/support/fuzz.ts';
import { API_KEY_LENGTH, parseApiKey } from './api-key.ts';

const RUNS = fuzzRuns(1000);
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

// The format written out again, independently of api-key.ts: the CRC32 of everything before
// the checksum, as six base62 digits, most significant first.
function checksumOf(body: string): string {
  let value = crc32(body);
  let digits = '';
  for (let i = 0; i < 6; i++, value = Math.floor(value / 62)) digits = BASE62[value % 62] + digits;
  return digits;
}

function isValidKey(text: string): boolean {
  const match = /^cbk_[0-9A-Za-z]{12}_[0-9A-Za-z]{32}([0-9A-Za-z]{6})$/.exec(text);
  return match !== null && checksumOf(text.slice(0, -6)) === match[1];
}

const base62 = (length: number) =>
  fc.string({ unit: fc.constantFrom(...BASE62), minLength: length, maxLength: length });

const validKey = fc.tuple(base62(12), base62(32)).map(([keyId, secret]) => {
  const body = `cbk_${keyId}_${secret}`;
  return { key: body + checksumOf(body), keyId };
});

/** Any character: base62, the separator, other ASCII, any code unit (lone surrogates too). */
const character = fc.oneof(
  fc.constantFrom(...BASE62, '_'),
  fc.string({ minLength: 1, maxLength: 1 }),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
);

/** A valid key with one character replaced, removed or added. */
const oneCharacterOff = fc
  .tuple(validKey, fc.nat(API_KEY_LENGTH), fc.constantFrom('replace', 'remove', 'add'), character)
  .map(([{ key }, at, edit, c]) => {
    const i = Math.min(at, key.length - (edit === 'add' ? 0 : 1));
    const text =
      edit === 'add'
        ? key.slice(0, i) + c + key.slice(i)
        : key.slice(0, i) + (edit === 'replace' ? c : '') + key.slice(i + 1);
    return { key, text };
  })
  // Replacing a character by itself changes nothing.
  .filter(({ key, text }) => text !== key)
  .map(({ text }) => text);

/** Text near and far from a key's shape, up to a few hundred kilobytes. */
const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.tuple(base62(12), base62(38)).map(([id, rest]) => `cbk_${id}_${rest}`),
  fc
    .tuple(fc.constantFrom('cbk_', 'CBK_', ' cbk_', ''), fc.string({ maxLength: 60 }))
    .map((p) => p.join('')),
  fc
    .tuple(fc.string({ minLength: 1, maxLength: 8 }), fc.integer({ min: 1, max: 50_000 }))
    .map(([s, n]) => `cbk_${s.repeat(n)}`),
);

function expectRefused(text: string): void {
  const parsed = parseApiKey(text);
  expect(parsed.ok, JSON.stringify(text)).to.equal(false);
  if (!parsed.ok) {
    expect(['malformed', 'bad-checksum']).to.include(parsed.reason);
    expect(parsed.message).to.match(/copy the whole value of api-key/);
  }
}

describe('parseApiKey fuzzing', () => {
  it(`accepts every well-formed key with its checksum, with its key id (${RUNS} cases)`, () => {
    fc.assert(
      fc.property(validKey, ({ key, keyId }) => {
        expect(parseApiKey(key)).to.deep.equal({ ok: true, keyId });
      }),
      fuzzParameters(RUNS),
    );
  });

  it(`refuses a key with any one character changed, removed or added (${RUNS} cases)`, () => {
    fc.assert(fc.property(oneCharacterOff, expectRefused), fuzzParameters(RUNS));
  });

  it(`never throws, and accepts only what has the shape and checksum (${RUNS} cases)`, () => {
    fc.assert(
      fc.property(anyText, (text) => {
        if (isValidKey(text)) expect(parseApiKey(text).ok).to.equal(true);
        else expectRefused(text);
      }),
      fuzzParameters(RUNS),
    );
  });
});
