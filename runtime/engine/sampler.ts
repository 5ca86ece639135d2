// Picks the next token from one row of logits. Pure apart from the request's own Random.
import type { PenaltyParams } from './penalties.ts';
import type { Random } from './random.ts';

/** Penalties are applied to the logits before sampling (see penalties.ts). */
export interface SamplingParams extends PenaltyParams {
  /** 0 means greedy (argmax). */
  temperature: number;
  /** Nucleus sampling: keep the smallest set of most likely tokens whose probability reaches topP; 1 disables it. */
  topP: number;
  /** Keep only the topK most likely tokens; 0 disables it. */
  topK: number;
}

export function sampleToken(logits: Float32Array, params: SamplingParams, random: Random): number {
  if (params.temperature <= 0) return argmax(logits);

  const candidates =
    params.topK > 0 && params.topK < logits.length
      ? topKIndices(logits, params.topK)
      : allIndices(logits.length);

  let maxLogit = -Infinity;
  for (const i of candidates) maxLogit = Math.max(maxLogit, logits[i]!);
  // Unnormalised probabilities; subtracting the max keeps exp() from overflowing.
  const weights = new Float64Array(candidates.length);
  let total = 0;
  for (let j = 0; j < candidates.length; j++) {
    weights[j] = Math.exp((logits[candidates[j]!]! - maxLogit) / params.temperature);
    total += weights[j]!;
  }

  const kept = params.topP < 1 ? nucleus(candidates, weights, total, params.topP) : null;
  const pool = kept ?? { indices: candidates, weights, total };

  let r = random.next() * pool.total;
  for (let j = 0; j < pool.indices.length; j++) {
    r -= pool.weights[j]!;
    if (r < 0) return pool.indices[j]!;
  }
  // Rounding can leave r a hair above zero after the last subtraction.
  return pool.indices[pool.indices.length - 1]!;
}

/** The index of the largest logit; the lowest index wins a tie so greedy decoding is stable. */
export function argmax(logits: Float32Array): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  return best;
}

function allIndices(n: number): Int32Array {
  const indices = new Int32Array(n);
  for (let i = 0; i < n; i++) indices[i] = i;
  return indices;
}

/** The k largest logits' indices, via a size-k min-heap: O(V log k) instead of sorting the vocabulary. */
function topKIndices(logits: Float32Array, k: number): Int32Array {
  const heap = new Int32Array(k);
  let size = 0;
  const less = (a: number, b: number) =>
    logits[a]! < logits[b]! || (logits[a] === logits[b] && a > b);
  const siftDown = (start: number) => {
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let smallest = i;
      if (l < size && less(heap[l]!, heap[smallest]!)) smallest = l;
      if (r < size && less(heap[r]!, heap[smallest]!)) smallest = r;
      if (smallest === i) return;
      [heap[i], heap[smallest]] = [heap[smallest]!, heap[i]!];
      i = smallest;
    }
  };
  for (let i = 0; i < logits.length; i++) {
    if (size < k) {
      heap[size] = i;
      let c = size++;
      while (c > 0) {
        const parent = (c - 1) >> 1;
        if (!less(heap[c]!, heap[parent]!)) break;
        [heap[c], heap[parent]] = [heap[parent]!, heap[c]!];
        c = parent;
      }
    } else if (less(heap[0]!, i)) {
      heap[0] = i;
      siftDown(0);
    }
  }
  return heap;
}

interface Pool {
  indices: Int32Array;
  weights: Float64Array;
  total: number;
}

function nucleus(candidates: Int32Array, weights: Float64Array, total: number, topP: number): Pool {
  // Only tokens with weight >= (1 - topP) * total / n can be in the nucleus: all lighter tokens
  // together weigh less than (1 - topP) * total, so the heavier ones already reach topP. Sorting
  // just those avoids sorting the whole vocabulary on every step.
  const floor = ((1 - topP) * total) / candidates.length;
  const order: number[] = [];
  for (let j = 0; j < candidates.length; j++) if (weights[j]! >= floor) order.push(j);
  order.sort((a, b) => weights[b]! - weights[a]! || candidates[a]! - candidates[b]!);

  const target = topP * total;
  let sum = 0;
  let count = 0;
  while (count < order.length && (count === 0 || sum < target)) sum += weights[order[count++]!]!;

  const kept: Pool = {
    indices: new Int32Array(count),
    weights: new Float64Array(count),
    total: sum,
  };
  for (let j = 0; j < count; j++) {
    kept.indices[j] = candidates[order[j]!]!;
    kept.weights[j] = weights[order[j]!]!;
  }
  return kept;
}
