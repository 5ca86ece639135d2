import { expect } from 'chai';
import { IncrementalDetokenizer } from './detokenizer.ts';
import type { DecodeTokens } from './detokenizer.ts';

// A byte-level vocabulary: token id n is the byte n. Decoding a partial character gives U+FFFD,
// exactly like a byte-level BPE decoder does.
const decodeBytes: DecodeTokens = (ids) => new TextDecoder().decode(Uint8Array.from(ids));
const bytesOf = (text: string) => [...new TextEncoder().encode(text)];

// A SentencePiece-style vocabulary, whose decoder drops the space at the start of the text.
const pieces = ['▁Hello', '▁world', ',', '▁again'];
const decodePieces: DecodeTokens = (ids) =>
  ids
    .map((id) => pieces[id]!)
    .join('')
    .replaceAll('▁', ' ')
    .replace(/^ /, '');

function stream(decode: DecodeTokens, tokens: number[]): string[] {
  const detokenizer = new IncrementalDetokenizer(decode);
  const deltas = tokens.map((t) => detokenizer.push(t));
  deltas.push(detokenizer.flush());
  return deltas;
}

describe('IncrementalDetokenizer', () => {
  it('never emits half of a multi-byte character', () => {
    const deltas = stream(decodeBytes, bytesOf('你好!'));
    expect(deltas).to.deep.equal(['', '', '你', '', '', '好', '!', '']);
  });

  it('keeps the spaces that a SentencePiece decoder drops at the start of a text', () => {
    const deltas = stream(decodePieces, [0, 1, 2, 3]);
    expect(deltas).to.deep.equal(['Hello', ' world', ',', ' again', '']);
  });

  it('adds up to the text of the whole sequence', () => {
    const text = 'Grüße, мир! 🎉 done';
    expect(stream(decodeBytes, bytesOf(text)).join('')).to.equal(text);
  });

  it('drops a character the end of generation left incomplete instead of sending U+FFFD', () => {
    const deltas = stream(decodeBytes, [...bytesOf('ok 你'), 0xe4, 0xbd]);
    expect(deltas.join('')).to.equal('ok 你');
  });

  it('still releases an invalid byte that text follows (the model wrote it; it is not cut)', () => {
    const deltas = stream(decodeBytes, [0xff, ...bytesOf('ok')]);
    expect(deltas.join('')).to.equal('\uFFFDok');
  });
});
