// The Llama decoder as an ONNX graph with a KV cache, in the input/output layout of the
// onnx-community (transformers.js) exports: input_ids, attention_mask, position_ids and
// past_key_values.{i}.key/value in; logits and present.{i}.key/value out.
import type { Weight } from '../onnx/graph-builder.ts';
import { GraphBuilder } from '../onnx/graph-builder.ts';
import { DataType } from '../onnx/onnx-proto.ts';
import type { LlamaConfig } from './config.ts';

/** y = x·Wᵀ for W of shape [outFeatures, inFeatures], in one of the encodings below. */
export type Linear =
  /** weight: float32 [inFeatures, outFeatures] (already transposed for MatMul). */
  | { kind: 'dense'; inFeatures: number; outFeatures: number; weight: Weight }
  /**
   * com.microsoft MatMulNBits inputs over `inputCopies` side-by-side copies of x (see
   * convertQ8_0AsNibblePairs); `mins` ([K/32, N]) adds Σ_block min·Σx (for Q4_1).
   */
  | {
      kind: 'nbits';
      inFeatures: number;
      outFeatures: number;
      bits: 4 | 8;
      blockSize: number;
      inputCopies: number;
      accuracyLevel: number;
      packed: Weight;
      scales: Weight;
      zeroPoints?: Weight;
      mins?: Weight;
    };

export interface LayerWeights {
  attnNorm: Weight;
  /** Either one projection onto [q | k | v] features, or the three separately. */
  qkv: Linear | readonly [Linear, Linear, Linear];
  attnOutput: Linear;
  ffnNorm: Weight;
  /** Either one projection onto [gate | up] features, or the two separately. */
  gateUp: Linear | readonly [Linear, Linear];
  down: Linear;
}

export interface DecoderWeights {
  /** float32 [vocab, hidden], for Gather. */
  embedding: Weight;
  layers: readonly LayerWeights[];
  outputNorm: Weight;
  lmHead: Linear;
}

// Opset 23 brings RMSNormalization, RotaryEmbedding and Attention (with grouped-query heads and a
// KV cache): three kernels where primitive ops took some forty nodes per layer.
export const OPSETS = [
  { domain: '', version: 23 },
  { domain: 'com.microsoft', version: 1 },
];

// Added to the scores of positions a query must not see. Finite (unlike -inf) so that a row with
// every position masked, a padding query, still yields finite values rather than NaNs that would
// leak through the cache; exp() of it relative to any real score is exactly 0.
const MASKED = -3.4028234663852886e38;

export function buildDecoderGraph(config: LlamaConfig, weights: DecoderWeights): GraphBuilder {
  const g = new GraphBuilder();
  const { numHeads, numKvHeads, headDim, vocabSize } = config;
  if (numHeads % numKvHeads !== 0) {
    throw new Error(`${numHeads} attention heads cannot be shared by ${numKvHeads} KV heads`);
  }

  const i64 = (name: string, shape: (number | string)[]) =>
    g.inputs.push({ name, elemType: DataType.INT64, shape });
  i64('input_ids', ['batch_size', 'sequence_length']);
  i64('attention_mask', ['batch_size', 'total_sequence_length']);
  i64('position_ids', ['batch_size', 'sequence_length']);
  const cacheShape = (len: string) => ['batch_size', numKvHeads, len, headDim];
  for (let i = 0; i < config.numLayers; i++) {
    for (const kind of ['key', 'value']) {
      g.inputs.push({
        name: `past_key_values.${i}.${kind}`,
        elemType: DataType.FLOAT,
        shape: cacheShape('past_sequence_length'),
      });
    }
  }
  // A required input: onnxruntime-node ignores feeds for initializers with defaults. 0 keeps the
  // logits of every position; generation feeds 1.
  i64('num_logits_to_keep', []);

  g.outputs.push({
    name: 'logits',
    elemType: DataType.FLOAT,
    shape: ['batch_size', 'kept_sequence_length', vocabSize],
  });
  for (let i = 0; i < config.numLayers; i++) {
    for (const kind of ['key', 'value']) {
      g.outputs.push({
        name: `present.${i}.${kind}`,
        elemType: DataType.FLOAT,
        shape: cacheShape('total_sequence_length'),
      });
    }
  }

  const mask = attentionBias(g);
  const rope = rotaryCaches(g, config);

  const blockSums = blockSumsOf(g);

  // The residual stream is carried in `residual`; each residual add is fused with the RMSNorm
  // that follows it, the last one with the output norm.
  const embedded = g.op('Gather', [g.weight(weights.embedding), 'input_ids']);
  let residual = embedded;
  let h = rmsNorm(g, embedded, weights.layers[0]!.attnNorm, config.rmsNormEps);
  for (const [i, layer] of weights.layers.entries()) {
    const [q, k, v] = project(
      g,
      h,
      layer.qkv,
      [numHeads * headDim, numKvHeads * headDim, numKvHeads * headDim],
      blockSums,
    );
    const rotate = (t: string, heads: number) =>
      g.op('RotaryEmbedding', [t, rope.cos, rope.sin, 'position_ids'], {
        num_heads: { int: heads },
      });
    const [context] = g.ops(
      'Attention',
      [
        rotate(q!, numHeads),
        rotate(k!, numKvHeads),
        v!,
        mask,
        `past_key_values.${i}.key`,
        `past_key_values.${i}.value`,
      ],
      { q_num_heads: { int: numHeads }, kv_num_heads: { int: numKvHeads } },
      { outputs: [`attention_${i}`, `present.${i}.key`, `present.${i}.value`] },
    );
    [h, residual] = addAndNorm(
      g,
      linear(g, context!, layer.attnOutput, blockSums),
      residual,
      layer.ffnNorm,
      config.rmsNormEps,
    );

    const [gate, up] = project(
      g,
      h,
      layer.gateUp,
      [config.intermediateSize, config.intermediateSize],
      blockSums,
    );
    const act = g.op('Mul', [g.op('Mul', [gate!, g.op('Sigmoid', [gate!])]), up!]);
    const nextNorm = weights.layers[i + 1]?.attnNorm ?? weights.outputNorm;
    [h, residual] = addAndNorm(
      g,
      linear(g, act, layer.down, blockSums),
      residual,
      nextNorm,
      config.rmsNormEps,
    );
  }

  // Only the last num_logits_to_keep positions reach the output head (normalization is per
  // position, so slicing after it is the same): slicing from -k keeps k of them, from -0 = 0 all.
  const start = g.op('Neg', [g.op('Unsqueeze', ['num_logits_to_keep', g.int64([0])])]);
  const normed = g.op('Slice', [h, start, g.int64([Number.MAX_SAFE_INTEGER]), g.int64([1])]);
  linear(g, normed, weights.lmHead, blockSums, 'logits');
  return g;
}

/**
 * The additive attention bias shared by all layers, [B, 1, S, T]: 0 where query s may see key t —
 * t is not in the query's future (causal, with the past offset T-S) and attention_mask[t] is 1 —
 * and MASKED elsewhere.
 */
function attentionBias(g: GraphBuilder): string {
  const dim = (input: string, axis: number) =>
    g.op('Gather', [g.op('Shape', [input]), g.int64([axis], [])]);
  const seq = dim('input_ids', 1);
  const total = dim('attention_mask', 1);
  const zero = g.int64([0], []);
  const one = g.int64([1], []);
  const queryPos = g.op('Add', [g.op('Range', [zero, seq, one]), g.op('Sub', [total, seq])]);
  const keyPos = g.op('Range', [zero, total, one]);
  const causal = g.op('LessOrEqual', [keyPos, g.op('Unsqueeze', [queryPos, g.int64([1])])]);
  const present = g.op('Unsqueeze', [
    g.op('Cast', ['attention_mask'], { to: { int: DataType.BOOL } }),
    g.int64([1]),
  ]);
  const allowed = g.op('And', [causal, present]);
  const bias = g.op('Where', [allowed, g.float32([0], []), g.float32([MASKED], [])]);
  return g.op('Unsqueeze', [bias, g.int64([1])]);
}

/**
 * cos and sin of position·θ^(-2i/D) for every position the model supports, [maxPositions, D/2],
 * computed in float64 and rounded once. RotaryEmbedding looks them up by position_ids and rotates
 * pairs (i, i+D/2), the Hugging Face layout the importer puts GGUF's Q/K rows into.
 */
function rotaryCaches(g: GraphBuilder, config: LlamaConfig): { cos: string; sin: string } {
  const half = config.headDim / 2;
  const table = (fn: (angle: number) => number) => {
    const values = new Float32Array(config.maxPositions * half);
    for (let p = 0; p < config.maxPositions; p++) {
      for (let i = 0; i < half; i++)
        values[p * half + i] = fn(p * config.ropeTheta ** ((-2 * i) / config.headDim));
    }
    return new Uint8Array(values.buffer);
  };
  const cache = (name: string, fn: (angle: number) => number) =>
    g.weight({
      name,
      dataType: DataType.FLOAT,
      dims: [config.maxPositions, half],
      bytes: () => table(fn),
    });
  return { cos: cache('rotary.cos_cache', Math.cos), sin: cache('rotary.sin_cache', Math.sin) };
}

function rmsNorm(g: GraphBuilder, x: string, weight: Weight, eps: number): string {
  return g.op('RMSNormalization', [x, g.weight(weight)], {
    axis: { int: -1 },
    epsilon: { float: eps },
  });
}

/** RMSNorm(x + residual) and the new residual x + residual, in one com.microsoft kernel. */
function addAndNorm(
  g: GraphBuilder,
  x: string,
  residual: string,
  weight: Weight,
  eps: number,
): [string, string] {
  const [normed, , , sum] = g.ops(
    'SkipSimplifiedLayerNormalization',
    [x, residual, g.weight(weight)],
    { epsilon: { float: eps } },
    { domain: 'com.microsoft', outputs: [`${x}_normed`, '', '', `${x}_residual`] },
  );
  return [normed!, sum!];
}

/**
 * Σ x over each block of 32 input features, [.., K/32], as one MatMul with a 0/1 block-indicator
 * matrix (one per distinct K, shared by every layer).
 */
function blockSumsOf(g: GraphBuilder): (x: string, inFeatures: number) => string {
  const indicators = new Map<number, string>();
  return (x, inFeatures) => {
    let indicator = indicators.get(inFeatures);
    if (indicator === undefined) {
      const blocks = inFeatures / 32;
      indicator = g.weight({
        name: `block_indicator.${inFeatures}`,
        dataType: DataType.FLOAT,
        dims: [inFeatures, blocks],
        bytes: () => {
          const values = new Float32Array(inFeatures * blocks);
          for (let k = 0; k < inFeatures; k++) values[k * blocks + Math.floor(k / 32)] = 1;
          return new Uint8Array(values.buffer);
        },
      });
      indicators.set(inFeatures, indicator);
    }
    return g.op('MatMul', [x, indicator]);
  };
}

type BlockSums = ReturnType<typeof blockSumsOf>;

/** Applies fused or separate projections, returning one output per part size. */
function project(
  g: GraphBuilder,
  x: string,
  proj: Linear | readonly Linear[],
  sizes: readonly number[],
  blockSums: BlockSums,
): readonly string[] {
  if (Array.isArray(proj)) return proj.map((p: Linear) => linear(g, x, p, blockSums));
  const fused = linear(g, x, proj as Linear, blockSums);
  const outputs = sizes.map((_, i) => `${fused}_part${i}`);
  return g.ops('Split', [fused, g.int64(sizes)], { axis: { int: -1 } }, { outputs });
}

function linear(
  g: GraphBuilder,
  x: string,
  lin: Linear,
  blockSums: BlockSums,
  output?: string,
): string {
  const outputs = output === undefined ? {} : { outputs: [output] };
  if (lin.kind === 'dense') return g.op('MatMul', [x, g.weight(lin.weight)], {}, outputs);
  const repeated =
    lin.inputCopies === 1
      ? x
      : g.op('Concat', Array<string>(lin.inputCopies).fill(x), { axis: { int: -1 } });
  const inputs = [repeated, g.weight(lin.packed), g.weight(lin.scales)];
  if (lin.zeroPoints) inputs.push(g.weight(lin.zeroPoints));
  const attributes = {
    K: { int: lin.inFeatures * lin.inputCopies },
    N: { int: lin.outFeatures },
    bits: { int: lin.bits },
    block_size: { int: lin.blockSize },
    accuracy_level: { int: lin.accuracyLevel },
  };
  if (!lin.mins)
    return g.op('MatMulNBits', inputs, attributes, { domain: 'com.microsoft', ...outputs });
  const product = g.op('MatMulNBits', inputs, attributes, { domain: 'com.microsoft' });
  const correction = g.op('MatMul', [blockSums(x, lin.inFeatures), g.weight(lin.mins)]);
  return g.op('Add', [product, correction], {}, outputs);
}
