// Penalties that keep a model from repeating itself, applied to one row of logits before
// sampling (greedy included). Two families, because clients ask for both:
//   - OpenAI's frequency and presence penalties subtract from the logit of every token the answer
//     already holds: `count * frequency + presence`. Only generated tokens count, as in OpenAI's
//     definition ("the text so far").
//   - Hugging Face's repetition penalty (the one generation_config.json carries) divides a
//     positive logit by the penalty and multiplies a negative one, for every token seen in the
//     prompt or the answer, so a seen token always becomes less likely for a penalty above 1.
// End-of-sequence tokens are never penalised: the chat template puts them in every prompt, and
// penalising them keeps the model from ending its answer (`npm run bench:repetition` counts the
// answers that run into the token limit).

export interface PenaltyParams {
  /** 1 turns it off. */
  repetitionPenalty: number;
  /** 0 turns it off. */
  frequencyPenalty: number;
  /** 0 turns it off. */
  presencePenalty: number;
}

export const noPenalties: PenaltyParams = {
  repetitionPenalty: 1,
  frequencyPenalty: 0,
  presencePenalty: 0,
};

export function hasPenalties(params: PenaltyParams): boolean {
  return (
    params.repetitionPenalty !== 1 || params.frequencyPenalty !== 0 || params.presencePenalty !== 0
  );
}

/** The tokens one sequence has seen: the prompt's (once each) and how often it generated each. */
export class TokenHistory {
  readonly #prompt: ReadonlySet<number>;
  readonly #generated = new Map<number, number>();

  /** `exempt`: the end-of-sequence tokens, which stay as likely as the model makes them. */
  constructor(prompt: readonly number[], exempt: ReadonlySet<number>) {
    this.#prompt = new Set(prompt.filter((token) => !exempt.has(token)));
  }

  /** Only called for tokens that do not end the sequence, so exempt ones never get here. */
  addGenerated(token: number): void {
    this.#generated.set(token, (this.#generated.get(token) ?? 0) + 1);
  }

  /** A penalised copy of `logits`; the model's output buffer is left as it was. */
  penalize(logits: Float32Array, params: PenaltyParams): Float32Array {
    const out = logits.slice();
    if (params.repetitionPenalty !== 1) {
      const penalty = params.repetitionPenalty;
      const repeat = (token: number) => {
        const logit = out[token]!;
        out[token] = logit > 0 ? logit / penalty : logit * penalty;
      };
      // Each seen token once: the prompt's, then generated ones the prompt does not hold.
      for (const token of this.#prompt) repeat(token);
      for (const token of this.#generated.keys()) if (!this.#prompt.has(token)) repeat(token);
    }
    if (params.frequencyPenalty !== 0 || params.presencePenalty !== 0) {
      for (const [token, count] of this.#generated) {
        out[token] = out[token]! - count * params.frequencyPenalty - params.presencePenalty;
      }
    }
    return out;
  }
}
