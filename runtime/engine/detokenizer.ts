// Turns generated token ids into text one token at a time.
//
// Decoding a single token on its own is wrong in two ways: a byte-level token can hold part of a
// multi-byte UTF-8 character (decoding it alone gives U+FFFD), and some decoders treat the start
// of the decoded text specially (SentencePiece drops a leading space). So each step decodes a
// short window of recent tokens, compares it with the same window without the newest tokens, and
// releases the difference only once it no longer ends in an incomplete character.

export type DecodeTokens = (ids: readonly number[]) => string;

const REPLACEMENT = '\uFFFD';

export class IncrementalDetokenizer {
  readonly #decode: DecodeTokens;
  /** Tokens from the start of the context window; the first `#released` of them are already text. */
  #window: number[] = [];
  #released = 0;
  /** decode(#window.slice(0, #released)) */
  #releasedText = '';

  constructor(decode: DecodeTokens) {
    this.#decode = decode;
  }

  /** Adds a token and returns the text it completes ('' while a character is still incomplete). */
  push(token: number): string {
    this.#window.push(token);
    const text = this.#decode(this.#window);
    if (text.length <= this.#releasedText.length || text.endsWith(REPLACEMENT)) return '';
    const delta = text.slice(this.#releasedText.length);
    // The released tokens become the context for the next ones; older context is dropped.
    this.#window = this.#window.slice(this.#released);
    this.#released = this.#window.length;
    this.#releasedText = this.#decode(this.#window);
    return delta;
  }

  /**
   * Whatever text is still held when generation ends. A character left incomplete (the token
   * limit cut it) is dropped rather than sent as U+FFFD: half a character is not text, and the
   * finish reason already says the answer was cut.
   */
  flush(): string {
    // A generation cancelled before its first token has nothing held (and tokenizers refuse to
    // decode an empty list).
    if (this.#window.length === 0) return '';
    const text = this.#decode(this.#window);
    const rest =
      text.length > this.#releasedText.length
        ? text.slice(this.#releasedText.length).replace(/\uFFFD+$/u, '')
        : '';
    this.#window = [];
    this.#released = 0;
    this.#releasedText = '';
    return rest;
  }
}
