import { expect } from 'chai';
import type { GgufTensorInfo, MetadataValue } from '../gguf/reader.ts';
import { llamaConfigFromGguf } from './config.ts';

const metadata: Record<string, MetadataValue> = {
  'general.architecture': 'llama',
  'llama.block_count': 2,
  'llama.context_length': 512,
  'llama.embedding_length': 64,
  'llama.feed_forward_length': 128,
  'llama.attention.head_count': 4,
  'llama.attention.head_count_kv': 2,
  'llama.rope.freq_base': 10000,
  'llama.attention.layer_norm_rms_epsilon': 1e-5,
  'llama.vocab_size': 279,
};
const embedding: GgufTensorInfo = {
  name: 'token_embd.weight',
  shape: [64, 279],
  type: 0,
  elements: 64 * 279,
  offset: 0,
};
const tensors = new Map([[embedding.name, embedding]]);

const configWith = (changes: Record<string, MetadataValue>) =>
  llamaConfigFromGguf({ ...metadata, ...changes }, tensors);

describe('llamaConfigFromGguf', () => {
  it('reads the hyper-parameters', () => {
    expect(configWith({})).to.deep.equal({
      hiddenSize: 64,
      numLayers: 2,
      numHeads: 4,
      numKvHeads: 2,
      headDim: 16,
      intermediateSize: 128,
      vocabSize: 279,
      maxPositions: 512,
      rmsNormEps: 1e-5,
      ropeTheta: 10000,
      tieWordEmbeddings: true,
    });
  });

  // Each was imported before: into a TypeError (no layers), a failed 8 GiB allocation, or a
  // model that cannot run (no positions, no vocabulary, NaN rotary angles).
  const corrupt: [string, Record<string, MetadataValue>, RegExp][] = [
    [
      'no layers',
      { 'llama.block_count': 0 },
      /llama\.block_count is 0, but must be a whole number of at least 1/,
    ],
    ['no positions', { 'llama.context_length': 0 }, /llama\.context_length is 0/],
    ['no vocabulary', { 'llama.vocab_size': 0 }, /llama\.vocab_size is 0/],
    ['a fractional head count', { 'llama.attention.head_count': 2.5 }, /head_count is 2\.5/],
    [
      'a rope base of 0',
      { 'llama.rope.freq_base': 0 },
      /llama\.rope\.freq_base is 0, but must be a finite number above 0/,
    ],
    [
      'a NaN epsilon',
      { 'llama.attention.layer_norm_rms_epsilon': NaN },
      /layer_norm_rms_epsilon is NaN/,
    ],
    [
      'heads that do not divide the width',
      { 'llama.attention.head_count': 3 },
      /embedding_length 64 is not a multiple of llama\.attention\.head_count 3/,
    ],
    [
      'an odd head dimension',
      { 'llama.attention.head_count': 64, 'llama.attention.head_count_kv': 64 },
      /head dimension is 1, but rotary embedding needs an even one/,
    ],
  ];
  for (const [what, changes, message] of corrupt) {
    it(`refuses ${what}, as a corrupt GGUF`, () => {
      expect(() => configWith(changes)).to.throw(message);
      expect(() => configWith(changes)).to.throw(/the GGUF is corrupt/);
    });
  }

  it('refuses a context longer than its rotary tables can cover, saying the limit', () => {
    expect(() => configWith({ 'llama.context_length': 2 ** 31 })).to.throw(
      'llama.context_length is 2147483648; this importer takes at most 1048576 positions, as it writes rotary tables for every one',
    );
    expect(configWith({ 'llama.context_length': 2 ** 20 }).maxPositions).to.equal(2 ** 20);
  });
});
