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
  /** com.microsoft MatMulNBits inputs; `mins` ([K/32, N]) adds Σ_block min·Σx (Q4_1 exactly). */
  | {
      kind: 'nbits';
      inFeatures: number;
      outFeatures: number;
      bits: 4 | 8;
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
  /** 'tied-embedding' multiplies by the embedding table itself (Gemm with transB). */
  lmHead: Linear | 'tied-embedding';
}

export const OPSETS = [
  { domain: '', version: 21 },
  { domain: 'com.microsoft', version: 1 },
];

// Added to the scores of positions a query must not see. Finite (unlike -inf) so that a row with
// every position masked, a padding query, still yields finite values rather than NaNs that would
// leak through the cache; exp() of it relative to any real score is exactly 0.
const MASKED = -3.4028234663852886e38;

export function buildDecoderGraph(config: LlamaConfig, weights: DecoderWeights): GraphBuilder {
  const g = new GraphBuilder();
  const { numHeads, numKvHeads, headDim, hiddenSize, vocabSize } = config;
  const groups = numHeads / numKvHeads;
  if (!Number.isInteger(groups)) {
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

  const mask = attentionBias(g, groups);
  const rope = rotaryTables(g, config);

  let x = g.op('Gather', [g.weight(weights.embedding), 'input_ids']);
  for (const [i, layer] of weights.layers.entries()) {
    const h = rmsNorm(g, x, layer.attnNorm, config.rmsNormEps);
    const [q, k, v] = project(g, h, layer.qkv, [
      numHeads * headDim,
      numKvHeads * headDim,
      numKvHeads * headDim,
    ]);
    const heads = (t: string, n: number) => g.op('Reshape', [t, g.int64([0, 0, n, headDim])]);
    const toCache = (t: string) => g.op('Transpose', [t], { perm: { ints: [0, 2, 1, 3] } });
    const keys = g.op(
      'Concat',
      [`past_key_values.${i}.key`, toCache(applyRope(g, heads(k!, numKvHeads), rope))],
      { axis: { int: 2 } },
      { outputs: [`present.${i}.key`] },
    );
    const values = g.op(
      'Concat',
      [`past_key_values.${i}.value`, toCache(heads(v!, numKvHeads))],
      { axis: { int: 2 } },
      { outputs: [`present.${i}.value`] },
    );

    // Grouped-query attention without repeating K/V: the `groups` query heads that share a KV head
    // are stacked along the sequence axis, [B, S, Hkv·G, D] -> [B, Hkv, G·S, D].
    const qr = g.op('Mul', [
      applyRope(g, heads(q!, numHeads), rope),
      g.float32([1 / Math.sqrt(headDim)], []),
    ]);
    const q5 = g.op('Reshape', [qr, g.int64([0, 0, numKvHeads, groups, headDim])]);
    const qg = g.op('Reshape', [
      g.op('Transpose', [q5], { perm: { ints: [0, 2, 3, 1, 4] } }),
      g.int64([0, numKvHeads, -1, headDim]),
    ]);
    const scores = g.op('MatMul', [
      qg,
      g.op('Transpose', [keys], { perm: { ints: [0, 1, 3, 2] } }),
    ]);
    const probs = g.op('Softmax', [g.op('Add', [scores, mask])], { axis: { int: -1 } });
    const context = g.op('MatMul', [probs, values]);
    const c5 = g.op('Reshape', [context, g.int64([0, 0, groups, -1, headDim])]);
    const merged = g.op('Reshape', [
      g.op('Transpose', [c5], { perm: { ints: [0, 3, 1, 2, 4] } }),
      g.int64([0, 0, numHeads * headDim]),
    ]);
    x = g.op('Add', [x, linear(g, merged, layer.attnOutput)]);

    const f = rmsNorm(g, x, layer.ffnNorm, config.rmsNormEps);
    const [gate, up] = project(g, f, layer.gateUp, [
      config.intermediateSize,
      config.intermediateSize,
    ]);
    const act = g.op('Mul', [g.op('Mul', [gate!, g.op('Sigmoid', [gate!])]), up!]);
    x = g.op('Add', [x, linear(g, act, layer.down)]);
  }

  // Only the last num_logits_to_keep positions reach the output head: slicing from -k keeps k of
  // them, and from -0 = 0 keeps all.
  const start = g.op('Neg', [g.op('Unsqueeze', ['num_logits_to_keep', g.int64([0])])]);
  const kept = g.op('Slice', [x, start, g.int64([Number.MAX_SAFE_INTEGER]), g.int64([1])]);
  const normed = rmsNorm(g, kept, weights.outputNorm, config.rmsNormEps);
  if (weights.lmHead === 'tied-embedding') {
    // Gemm needs 2-D operands: flatten [B, k, hidden] to rows, then restore [B, k, vocab].
    const rows = g.op('Reshape', [normed, g.int64([-1, hiddenSize])]);
    const product = g.op('Gemm', [rows, weights.embedding.name], { transB: { int: 1 } });
    const batchAndKept = g.op('Slice', [g.op('Shape', [kept]), g.int64([0]), g.int64([2])]);
    const shape = g.op('Concat', [batchAndKept, g.int64([vocabSize])], { axis: { int: 0 } });
    g.op('Reshape', [product, shape], {}, { outputs: ['logits'] });
  } else {
    linear(g, normed, weights.lmHead, 'logits');
  }
  return g;
}

/**
 * The additive attention bias shared by all layers, [B, 1, G·S, T] for queries stacked G times
 * (see the grouped-query reshape): 0 where query s may see key t — t is not in the query's
 * future (causal, with the past offset T-S) and attention_mask[t] is 1 — and MASKED elsewhere.
 */
function attentionBias(g: GraphBuilder, groups: number): string {
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
  return g.op('Tile', [g.op('Unsqueeze', [bias, g.int64([1])]), g.int64([1, 1, groups, 1])]);
}

interface RotaryTables {
  /** [B, S, 1, D]: cos of each position's angle, repeated for both halves of a head. */
  cos: string;
  /** [B, S, 1, D]: -sin for the first half, +sin for the second, so rotate_half is a swap. */
  signedSin: string;
}

function rotaryTables(g: GraphBuilder, config: LlamaConfig): RotaryTables {
  const half = config.headDim / 2;
  const invFreq = Array.from(
    { length: half },
    (_, i) => config.ropeTheta ** ((-2 * i) / config.headDim),
  );
  const positions = g.op('Unsqueeze', [
    g.op('Cast', ['position_ids'], { to: { int: DataType.FLOAT } }),
    g.int64([2]),
  ]);
  const angles = g.op('Mul', [positions, g.float32(invFreq)]);
  const perHead = (t: string) => g.op('Unsqueeze', [t, g.int64([2])]);
  const sin = g.op('Sin', [angles]);
  return {
    cos: perHead(
      g.op('Concat', [g.op('Cos', [angles]), g.op('Cos', [angles])], { axis: { int: -1 } }),
    ),
    signedSin: perHead(g.op('Concat', [g.op('Neg', [sin]), sin], { axis: { int: -1 } })),
  };
}

/**
 * Llama (Hugging Face layout) rotary embedding of x [B, S, H, D]: x·cos + rotate_half(x)·sin with
 * rotate_half(x) = [-x2, x1]. The importer un-permutes GGUF's Q/K rows into this layout.
 */
function applyRope(g: GraphBuilder, x: string, rope: RotaryTables): string {
  const [x1, x2] = g.ops(
    'Split',
    [x],
    { axis: { int: -1 }, num_outputs: { int: 2 } },
    { outputs: [`${x}_lo`, `${x}_hi`] },
  );
  const swapped = g.op('Concat', [x2!, x1!], { axis: { int: -1 } });
  return g.op('Add', [g.op('Mul', [x, rope.cos]), g.op('Mul', [swapped, rope.signedSin])]);
}

// Written as Pow/ReduceMean/Add/Sqrt/Div/Mul, the pattern onnxruntime fuses into one
// SimplifiedLayerNormalization kernel.
function rmsNorm(g: GraphBuilder, x: string, weight: Weight, eps: number): string {
  const meanSquare = g.op('ReduceMean', [g.op('Pow', [x, g.float32([2], [])]), g.int64([-1])]);
  const rms = g.op('Sqrt', [g.op('Add', [meanSquare, g.float32([eps], [])])]);
  return g.op('Mul', [g.op('Div', [x, rms]), g.weight(weight)]);
}

/** Applies fused or separate projections, returning one output per part size. */
function project(
  g: GraphBuilder,
  x: string,
  proj: Linear | readonly Linear[],
  sizes: readonly number[],
): readonly string[] {
  if (Array.isArray(proj)) return proj.map((p: Linear) => linear(g, x, p));
  const fused = linear(g, x, proj as Linear);
  const outputs = sizes.map((_, i) => `${fused}_part${i}`);
  return g.ops('Split', [fused, g.int64(sizes)], { axis: { int: -1 } }, { outputs });
}

function linear(g: GraphBuilder, x: string, lin: Linear, output?: string): string {
  const outputs = output === undefined ? {} : { outputs: [output] };
  if (lin.kind === 'dense') return g.op('MatMul', [x, g.weight(lin.weight)], {}, outputs);
  const inputs = [x, g.weight(lin.packed), g.weight(lin.scales)];
  if (lin.zeroPoints) inputs.push(g.weight(lin.zeroPoints));
  const attributes = {
    K: { int: lin.inFeatures },
    N: { int: lin.outFeatures },
    bits: { int: lin.bits },
    block_size: { int: 32 },
  };
  if (!lin.mins)
    return g.op('MatMulNBits', inputs, attributes, { domain: 'com.microsoft', ...outputs });
  const product = g.op('MatMulNBits', inputs, attributes, { domain: 'com.microsoft' });
  const blockSums = g.op(
    'ReduceSum',
    [g.op('Reshape', [x, g.int64([0, 0, -1, 32])]), g.int64([-1])],
    { keepdims: { int: 0 } },
  );
  return g.op('Add', [product, g.op('MatMul', [blockSums, g.weight(lin.mins)])], {}, outputs);
}
