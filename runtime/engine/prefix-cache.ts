// Keeps the KV caches of recently finished sequences so a request that starts with the same
// tokens (a multi-turn chat resends the whole conversation) only prefills what is new.
// Least recently used entries go first once the byte budget is exceeded.
import { blockBytes } from './kv-block.ts';
import type { KvBlock } from './kv-block.ts';

export interface CachedSequence {
  /** The tokens whose keys and values `kv` holds, one column each. */
  tokens: readonly number[];
  /** One row, no padding. Never modified once cached: readers cut copies from it. */
  kv: KvBlock;
}

export interface PrefixMatch {
  entry: CachedSequence;
  /** How many leading tokens of the prompt the entry covers. */
  length: number;
}

export class PrefixCache {
  readonly #budgetBytes: number;
  /** Map order is recency order: oldest first. */
  readonly #entries = new Map<CachedSequence, number>();
  #bytes = 0;

  constructor(budgetBytes: number) {
    this.#budgetBytes = budgetBytes;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * The entry sharing the longest prefix with `tokens`, at most `limit` tokens of it (the caller
   * keeps at least the last prompt token to prefill, since that step yields the first logits).
   */
  lookup(tokens: readonly number[], limit: number): PrefixMatch | undefined {
    let best: PrefixMatch | undefined;
    for (const entry of this.#entries.keys()) {
      const length = Math.min(commonPrefixLength(entry.tokens, tokens), limit);
      if (length > 0 && length > (best?.length ?? 0)) best = { entry, length };
    }
    if (best) this.#touch(best.entry);
    return best;
  }

  insert(entry: CachedSequence): void {
    const bytes = blockBytes(entry.kv);
    if (bytes > this.#budgetBytes || entry.tokens.length === 0) return;
    for (const existing of this.#entries.keys()) {
      // An entry that is a prefix of another adds nothing: lookups would always prefer the longer one.
      if (startsWith(existing.tokens, entry.tokens)) {
        this.#touch(existing);
        return;
      }
      if (startsWith(entry.tokens, existing.tokens)) this.#delete(existing);
    }
    this.#entries.set(entry, bytes);
    this.#bytes += bytes;
    for (const oldest of this.#entries.keys()) {
      if (this.#bytes <= this.#budgetBytes) break;
      this.#delete(oldest);
    }
  }

  #touch(entry: CachedSequence): void {
    const bytes = this.#entries.get(entry)!;
    this.#entries.delete(entry);
    this.#entries.set(entry, bytes);
  }

  #delete(entry: CachedSequence): void {
    this.#bytes -= this.#entries.get(entry)!;
    this.#entries.delete(entry);
  }
}

function commonPrefixLength(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

function startsWith(tokens: readonly number[], prefix: readonly number[]): boolean {
  return prefix.length <= tokens.length && commonPrefixLength(tokens, prefix) === prefix.length;
}
