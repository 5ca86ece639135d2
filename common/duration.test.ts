import { expect } from 'chai';
import { formatDuration, parseDuration } from './duration.ts';

const HOUR = 3_600_000;
const MINUTE = 60_000;

describe('parseDuration', () => {
  // Each expectation is what Go 1.26's time.ParseDuration returned, converted to milliseconds.
  const accepted: [string, number][] = [
    ['24h', 24 * HOUR],
    ['90m', 90 * MINUTE],
    ['1h30m', 90 * MINUTE],
    ['2160h', 2160 * HOUR],
    ['45s', 45_000],
    ['500ms', 500],
    ['0', 0],
    ['-0', 0],
    ['0s', 0],
    ['+5s', 5000],
    ['-1h', -HOUR],
    ['1.5h', 90 * MINUTE],
    ['.5s', 500],
    ['5.s', 5000],
    ['1.5ms', 1.5],
    ['1h0m0s', HOUR],
    ['1s500ms', 1500],
    ['1m1m', 2 * MINUTE],
    ['1.0000000001s', 1000],
    ['0.000000001s', 0.000001],
    ['2562047h', 2562047 * HOUR],
    ['0.1234567890123456789h', 444444.440444],
  ];
  for (const [text, ms] of accepted) {
    it(`reads "${text}" as ${ms} ms`, () => expect(parseDuration(text)).to.equal(ms));
  }

  const rejected: [string, RegExp][] = [
    ['', /empty/],
    ['-', /empty/],
    ['1', /has no unit/],
    ['1h1', /has no unit/],
    ['.h', /needs digits/],
    ['h', /expected a number/],
    [' 1h', /expected a number/],
    ['1 h', /unit " h" is unknown/],
    ['1d', /unit "d" is unknown \(use h, m, s or ms\)/],
    ['1hh', /unit "hh" is unknown/],
    ['100ns', /unit "ns" is not supported here/],
    ['3us', /unit "us" is not supported here/],
    ['3µs', /unit "µs" is not supported here/],
    ['2562048h', /longer than Go durations allow/],
    ['9223372036854775808ms', /longer than Go durations allow/],
  ];
  for (const [text, message] of rejected) {
    it(`rejects "${text}" saying what is wrong`, () => {
      expect(() => parseDuration(text)).to.throw(message);
      expect(() => parseDuration(text)).to.throw(/write it like "24h"/);
    });
  }
});

describe('formatDuration', () => {
  const cases: [number, string][] = [
    [0, '0s'],
    [24 * HOUR, '24h'],
    [90 * MINUTE, '1h30m'],
    [HOUR + 30_000, '1h30s'],
    [1500, '1s500ms'],
    [1.5, '1.5ms'],
    [-45_000, '-45s'],
  ];
  for (const [ms, text] of cases) {
    it(`writes ${ms} ms as "${text}"`, () => expect(formatDuration(ms)).to.equal(text));
  }

  it('writes strings that parse back to the same value', () => {
    const samples = [1, 999, 1000, 59_999, 3_599_999, 2160 * HOUR + 1, 123_456_789, 0.25];
    for (const ms of samples) expect(parseDuration(formatDuration(ms))).to.equal(ms);
  });

  it('refuses values that are not finite', () => {
    expect(() => formatDuration(Number.NaN)).to.throw(/cannot format NaN/);
  });
});
