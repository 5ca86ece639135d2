import { expect } from 'chai';
import { hasPenalties, noPenalties, TokenHistory } from './penalties.ts';

const none = new Set<number>();
const logits = () => Float32Array.from([2, -2, 1, 0.5, -1]);

describe('TokenHistory.penalize', () => {
  it('changes nothing without penalties', () => {
    const history = new TokenHistory([0, 1], none);
    history.addGenerated(2);
    expect([...history.penalize(logits(), noPenalties)]).to.deep.equal([...logits()]);
    expect(hasPenalties(noPenalties)).to.equal(false);
  });

  it('makes every token of the prompt and the answer less likely under a repetition penalty', () => {
    const history = new TokenHistory([0, 1, 0], none);
    history.addGenerated(2);
    const out = history.penalize(logits(), { ...noPenalties, repetitionPenalty: 2 });
    // Positive logits are divided, negative ones multiplied; unseen tokens keep theirs.
    expect([...out]).to.deep.equal([1, -4, 0.5, 0.5, -1]);
  });

  it('applies the repetition penalty once to a token both the prompt and the answer hold', () => {
    const history = new TokenHistory([0], none);
    history.addGenerated(0);
    history.addGenerated(0);
    expect(history.penalize(logits(), { ...noPenalties, repetitionPenalty: 2 })[0]).to.equal(1);
  });

  it("subtracts OpenAI's frequency and presence penalties for generated tokens only", () => {
    const history = new TokenHistory([3], none);
    history.addGenerated(0);
    history.addGenerated(0);
    history.addGenerated(4);
    const out = history.penalize(logits(), {
      ...noPenalties,
      frequencyPenalty: 0.5,
      presencePenalty: 0.25,
    });
    // Token 0 twice: 2 - 2 * 0.5 - 0.25; token 4 once: -1 - 0.5 - 0.25; the prompt's token 3 not.
    expect([...out]).to.deep.equal([0.75, -2, 1, 0.5, -1.75]);
  });

  it('rewards repetition for negative penalties, as OpenAI allows', () => {
    const history = new TokenHistory([], none);
    history.addGenerated(1);
    const out = history.penalize(logits(), { ...noPenalties, presencePenalty: -2 });
    expect(out[1]).to.equal(0);
  });

  it('never penalises an end-of-sequence token, which every chat prompt holds', () => {
    const endOfTurn = 2;
    const history = new TokenHistory([0, endOfTurn, 1, endOfTurn], new Set([endOfTurn]));
    const out = history.penalize(logits(), { ...noPenalties, repetitionPenalty: 2 });
    expect(out[endOfTurn]).to.equal(1);
    expect(out[0]).to.equal(1);
  });

  it("leaves the model's logits buffer untouched", () => {
    const original = logits();
    const history = new TokenHistory([0], none);
    history.penalize(original, { ...noPenalties, repetitionPenalty: 1.5 });
    expect([...original]).to.deep.equal([...logits()]);
  });
});
