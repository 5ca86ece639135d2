// Cuts generated text at the first stop sequence. Text that might be the start of a stop sequence
// is held back until the next piece settles it, so a streamed delta is never something that a
// later token reveals to be part of a stop string.

export interface StopCheck {
  /** Text that is now final and can be sent. */
  text: string;
  /** A stop sequence was found; `text` ends right before it and generation should end. */
  stopped: boolean;
}

export class StopMatcher {
  readonly #stops: string[];
  #held = '';

  constructor(stops: readonly string[]) {
    this.#stops = stops.filter((s) => s.length > 0);
  }

  push(piece: string): StopCheck {
    const text = this.#held + piece;
    let first = -1;
    for (const stop of this.#stops) {
      const at = text.indexOf(stop);
      if (at >= 0 && (first < 0 || at < first)) first = at;
    }
    if (first >= 0) {
      this.#held = '';
      return { text: text.slice(0, first), stopped: true };
    }
    const hold = this.#longestStopPrefixAtEnd(text);
    this.#held = text.slice(text.length - hold);
    return { text: text.slice(0, text.length - hold), stopped: false };
  }

  /** Releases held-back text once generation ended without a stop match. */
  flush(): string {
    const rest = this.#held;
    this.#held = '';
    return rest;
  }

  #longestStopPrefixAtEnd(text: string): number {
    let longest = 0;
    for (const stop of this.#stops) {
      for (let n = Math.min(stop.length - 1, text.length); n > longest; n--) {
        if (text.endsWith(stop.slice(0, n))) {
          longest = n;
          break;
        }
      }
    }
    return longest;
  }
}
