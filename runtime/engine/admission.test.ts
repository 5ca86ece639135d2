import { expect } from 'chai';
import { queueRetryAfterSeconds, tokensToGenerate } from './admission.ts';
import { EngineError } from './types.ts';

const limits = { maxTokens: 100, contextLength: 1000 };

function rejection(fn: () => unknown): EngineError {
  try {
    fn();
  } catch (error) {
    return error as EngineError;
  }
  throw new Error('expected a rejection');
}

describe('tokensToGenerate', () => {
  it('gives what was asked for, capped by MAX_TOKENS', () => {
    expect(tokensToGenerate(10, 20, limits)).to.equal(20);
    expect(tokensToGenerate(10, 5000, limits)).to.equal(100);
  });

  it('gives MAX_TOKENS, or the room left in the context, when nothing was asked for', () => {
    expect(tokensToGenerate(10, undefined, limits)).to.equal(100);
    expect(tokensToGenerate(950, undefined, limits)).to.equal(50);
  });

  it('refuses a request whose prompt and tokens do not fit, giving the numbers', () => {
    const error = rejection(() => tokensToGenerate(950, 60, limits));
    expect(error).to.be.instanceOf(EngineError);
    expect(error.code).to.equal('context_length_exceeded');
    expect(error.message)
      .to.include('950')
      .and.include('1010')
      .and.include('1000')
      .and.include('at most 50');
  });

  it('refuses a prompt that fills the context', () => {
    const error = rejection(() => tokensToGenerate(1000, undefined, limits));
    expect(error.code).to.equal('context_length_exceeded');
    expect(error.message).to.include('1000 tokens');
  });
});

describe('queueRetryAfterSeconds', () => {
  it('estimates the rounds of the batch ahead', () => {
    expect(queueRetryAfterSeconds(16, 8, 3)).to.equal(6);
    expect(queueRetryAfterSeconds(1, 8, 0.2)).to.equal(1);
  });
});
