import { expect } from 'chai';
import { createRandom } from './random.ts';
import { argmax, sampleToken } from './sampler.ts';
import type { SamplingParams } from './sampler.ts';
import { noPenalties } from './penalties.ts';

const logitsOf = (probabilities: number[]) => Float32Array.from(probabilities, (p) => Math.log(p));

function frequencies(logits: Float32Array, params: SamplingParams, draws: number, seed = 1) {
  const random = createRandom(seed);
  const counts = new Array<number>(logits.length).fill(0);
  for (let i = 0; i < draws; i++) counts[sampleToken(logits, params, random)]!++;
  return counts.map((c) => c / draws);
}

const plain: SamplingParams = { temperature: 1, topP: 1, topK: 0, ...noPenalties };

describe('argmax', () => {
  it('picks the largest logit, and the lowest index on a tie', () => {
    expect(argmax(Float32Array.from([0.1, 3, -2, 3]))).to.equal(1);
  });
});

describe('sampleToken', () => {
  it('is greedy at temperature 0 whatever the random draws', () => {
    const logits = logitsOf([0.2, 0.5, 0.3]);
    const counts = frequencies(logits, { ...plain, temperature: 0 }, 200);
    expect(counts).to.deep.equal([0, 1, 0]);
  });

  it('samples in proportion to the softmax at temperature 1', () => {
    const counts = frequencies(logitsOf([0.25, 0.75]), plain, 20_000);
    expect(counts[1]).to.be.within(0.73, 0.77);
  });

  it('sharpens the distribution at low temperature', () => {
    // At T = 0.5 the weights are squared: 0.25² : 0.75² = 1 : 9.
    const counts = frequencies(logitsOf([0.25, 0.75]), { ...plain, temperature: 0.5 }, 20_000);
    expect(counts[1]).to.be.within(0.88, 0.92);
  });

  it('never picks outside the top k', () => {
    const counts = frequencies(logitsOf([0.1, 0.4, 0.2, 0.3]), { ...plain, topK: 2 }, 5_000);
    expect(counts[0]).to.equal(0);
    expect(counts[2]).to.equal(0);
    // Renormalised over the two kept tokens: 0.4 / 0.7.
    expect(counts[1]).to.be.within(0.54, 0.6);
  });

  it('keeps only the nucleus under top-p', () => {
    const counts = frequencies(logitsOf([0.05, 0.5, 0.15, 0.3]), { ...plain, topP: 0.7 }, 5_000);
    expect(counts[0]).to.equal(0);
    expect(counts[2]).to.equal(0);
    expect(counts[1]! + counts[3]!).to.equal(1);
  });

  it('always keeps the most likely token even when topP is tiny', () => {
    const counts = frequencies(logitsOf([0.3, 0.4, 0.3]), { ...plain, topP: 0.01 }, 500);
    expect(counts).to.deep.equal([0, 1, 0]);
  });

  it('reproduces the same tokens for the same seed', () => {
    const logits = logitsOf([0.1, 0.2, 0.3, 0.4]);
    const run = (seed: number) => {
      const random = createRandom(seed);
      return Array.from({ length: 50 }, () => sampleToken(logits, plain, random));
    };
    expect(run(5)).to.deep.equal(run(5));
    expect(run(5)).not.to.deep.equal(run(6));
  });
});
