// Describes a Llama GGUF's tensors as decoder-graph weights. Nothing is read here: each weight's
// bytes are produced when the model file is written, so only one matrix is in memory at a time.
import type { NBitsMatrix } from '../convert/matmul-nbits.ts';
import {
  convertQ4_0,
  convertQ4_1,
  convertQ4_K,
  convertQ6_KAsNibblePairs,
  convertQ8_0,
  convertQ8_0AsNibblePairs,
} from '../convert/matmul-nbits.ts';
import { transpose, unpermuteRotaryRows } from '../convert/rows.ts';
import { dequantize } from '../gguf/dequantize.ts';
import type { GgmlTypeId } from '../gguf/ggml-type.ts';
import { GgmlType } from '../gguf/ggml-type.ts';
import type { GgufFile } from '../gguf/reader.ts';
import type { Weight } from '../onnx/graph-builder.ts';
import { DataType } from '../onnx/onnx-proto.ts';
import type { LlamaConfig } from './config.ts';
import type { DecoderWeights, LayerWeights, Linear } from './decoder-graph.ts';

export interface WeightOptions {
  /**
   * How MatMulNBits multiplies: 'fp32' dequantizes weight blocks and multiplies in float32, equal
   * to the reference up to float rounding; 'int8' also quantizes the activations to int8 per block
   * (as llama.cpp does for these types), several times faster on CPU but only close to exact.
   * Q8_0 matrices become 8-bit MatMulNBits with 'int8' and exact pairs of 4-bit blocks with
   * 'fp32' (onnxruntime's float32 path for 8 bits dequantizes the whole matrix on every call).
   */
  accuracy: 'fp32' | 'int8';
  /** Q4_1 matrices as 4-bit MatMulNBits, or dequantized to float32. */
  q4_1: 'nbits' | 'dense';
}

export const DEFAULT_WEIGHT_OPTIONS: WeightOptions = { accuracy: 'fp32', q4_1: 'nbits' };

// MatMulNBits accuracy_level: 1 computes in float32, 4 with int8 activations.
const ACCURACY_LEVEL = { fp32: 1, int8: 4 } as const;

interface MatrixSource {
  name: string;
  /** Heads whose rotary rows are reordered from the GGUF to the Hugging Face layout (Q and K). */
  rotaryHeads?: number;
}

const f32 = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/**
 * A value computed once and handed to `uses` consumers, then dropped, so a converted matrix does
 * not outlive the writing of its parts.
 */
function sharedLazy<T>(uses: number, produce: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  let left = uses;
  return () => {
    pending ??= produce();
    const result = pending;
    if (--left === 0) pending = undefined;
    return result;
  };
}

interface NBitsEncoding {
  convert: (data: Uint8Array, rows: number, blocksPerRow: number) => NBitsMatrix;
  bits: 4 | 8;
  blockSize: 16 | 32;
  /** 2 for the exact hi/lo nibble pairs of 8- and 6-bit types. */
  inputCopies: 1 | 2;
  zeroPoints: boolean;
  /** Q4_1-style block minimums added by the graph. */
  mins: boolean;
}

/** How each ggml type becomes MatMulNBits under the options; undefined means float32 MatMul. */
function nbitsEncoding(options: WeightOptions): (type: GgmlTypeId) => NBitsEncoding | undefined {
  const plain = { bits: 4, blockSize: 32, inputCopies: 1, zeroPoints: false, mins: false } as const;
  const withMins = { ...plain, zeroPoints: true, mins: true };
  const pairs = { ...plain, inputCopies: 2, zeroPoints: true } as const;
  return (type) => {
    switch (type) {
      case GgmlType.Q4_0:
        return { ...plain, convert: (data, rows, perRow) => convertQ4_0(data, rows * perRow) };
      case GgmlType.Q4_1:
        return options.q4_1 === 'nbits' ? { ...withMins, convert: convertQ4_1 } : undefined;
      case GgmlType.Q4_K:
        return { ...withMins, convert: convertQ4_K };
      case GgmlType.Q8_0:
        return options.accuracy === 'int8'
          ? { ...plain, bits: 8, convert: (data, rows, perRow) => convertQ8_0(data, rows * perRow) }
          : { ...pairs, convert: convertQ8_0AsNibblePairs };
      case GgmlType.Q6_K:
        return { ...pairs, blockSize: 16, convert: convertQ6_KAsNibblePairs };
      default:
        return undefined;
    }
  };
}

export function decoderWeightsFromGguf(
  file: GgufFile,
  config: LlamaConfig,
  options: WeightOptions = DEFAULT_WEIGHT_OPTIONS,
): DecoderWeights {
  const shapes = llamaTensorShapes(config);
  const info = (name: string) => {
    const t = file.tensors.get(name);
    if (!t) throw new Error(`the GGUF lacks tensor ${name}, which a Llama model needs`);
    const expected = shapes[name.replace(/^blk\.\d+\./, '').replace(/\.weight$/, '')]!;
    if (!sameShape(t.shape, expected)) {
      throw new Error(
        `tensor ${name} has shape [${t.shape.join(', ')}], but the GGUF's llama.* metadata makes ` +
          `it [${expected.join(', ')}]: the GGUF is corrupt`,
      );
    }
    return t;
  };

  const vector = (name: string, weightName: string): Weight => ({
    name: weightName,
    dataType: DataType.FLOAT,
    dims: [info(name).elements],
    bytes: async () => f32(await file.readFloats(name)),
  });

  /** Rows of several tensors (same type and width), concatenated: one fused projection. */
  const readRows = async (sources: readonly MatrixSource[]) => {
    const parts = await Promise.all(
      sources.map(async (s) => {
        const { data } = await file.readTensor(s.name);
        const rows = info(s.name).shape[1]!;
        return s.rotaryHeads ? unpermuteRotaryRows(data, rows, s.rotaryHeads) : data;
      }),
    );
    return Buffer.concat(parts);
  };

  const nbits = nbitsEncoding(options);

  const linear = (weightName: string, sources: readonly MatrixSource[]): Linear => {
    const first = info(sources[0]!.name);
    const type = first.type as GgmlTypeId;
    const inFeatures = first.shape[0]!;
    const outFeatures = sources.reduce((n, s) => n + info(s.name).shape[1]!, 0);
    const encoding = nbits(type);

    if (!encoding) {
      return {
        kind: 'dense',
        inFeatures,
        outFeatures,
        weight: {
          name: `${weightName}.weight`,
          dataType: DataType.FLOAT,
          dims: [inFeatures, outFeatures],
          bytes: async () => {
            const values = dequantize(type, await readRows(sources), inFeatures * outFeatures);
            return f32(transpose(values, outFeatures, inFeatures));
          },
        },
      };
    }

    const { convert, bits, blockSize, inputCopies, zeroPoints, mins } = encoding;
    const blocksPerRow = inFeatures / blockSize;
    const converted = sharedLazy(2 + Number(zeroPoints) + Number(mins), async () =>
      convert(await readRows(sources), outFeatures, blocksPerRow),
    );
    const part = (
      suffix: string,
      dataType: Weight['dataType'],
      dims: number[],
      pick: (m: NBitsMatrix) => Uint8Array,
    ): Weight => ({
      name: `${weightName}.${suffix}`,
      dataType,
      dims,
      bytes: async () => pick(await converted()),
    });
    const blocks = blocksPerRow * inputCopies;
    return {
      kind: 'nbits',
      inFeatures,
      outFeatures,
      bits,
      blockSize,
      inputCopies,
      accuracyLevel: ACCURACY_LEVEL[options.accuracy],
      packed: part(
        'packed',
        DataType.UINT8,
        [outFeatures, blocks, (blockSize * bits) / 8],
        (m) => m.packed,
      ),
      scales: part('scales', DataType.FLOAT, [outFeatures, blocks], (m) => f32(m.scales)),
      ...(zeroPoints && {
        zeroPoints: part(
          'zero_points',
          DataType.UINT8,
          [outFeatures, Math.ceil(blocks / 2)],
          (m) => m.zeroPoints!,
        ),
      }),
      ...(mins && {
        mins: part('block_mins', DataType.FLOAT, [blocksPerRow, outFeatures], (m) => f32(m.mins!)),
      }),
    };
  };

  /** One fused projection when the parts share a type, else one per part. */
  const projections = (weightName: string, sources: MatrixSource[]) => {
    const types = new Set(sources.map((s) => info(s.name).type));
    return types.size === 1
      ? linear(weightName, sources)
      : sources.map((s) => linear(`${weightName}.${s.name}`, [s]));
  };

  const layers: LayerWeights[] = [];
  for (let i = 0; i < config.numLayers; i++) {
    const t = (suffix: string) => `blk.${i}.${suffix}.weight`;
    const base = `model.layers.${i}`;
    layers.push({
      attnNorm: vector(t('attn_norm'), `${base}.input_layernorm.weight`),
      qkv: projections(`${base}.self_attn.qkv_proj`, [
        { name: t('attn_q'), rotaryHeads: config.numHeads },
        { name: t('attn_k'), rotaryHeads: config.numKvHeads },
        { name: t('attn_v') },
      ]) as LayerWeights['qkv'],
      attnOutput: linear(`${base}.self_attn.o_proj`, [{ name: t('attn_output') }]),
      ffnNorm: vector(t('ffn_norm'), `${base}.post_attention_layernorm.weight`),
      gateUp: projections(`${base}.mlp.gate_up_proj`, [
        { name: t('ffn_gate') },
        { name: t('ffn_up') },
      ]) as LayerWeights['gateUp'],
      down: linear(`${base}.mlp.down_proj`, [{ name: t('ffn_down') }]),
    });
  }

  const embedding = info('token_embd.weight');
  return {
    embedding: {
      name: 'model.embed_tokens.weight',
      dataType: DataType.FLOAT,
      dims: [embedding.shape[1]!, embedding.shape[0]!],
      bytes: async () => f32(await file.readFloats('token_embd.weight')),
    },
    layers,
    outputNorm: vector('output_norm.weight', 'model.norm.weight'),
    // A tied head gets its own copy laid out for multiplication: on SmolLM2's 576×49152 head,
    // Gemm with transB over the shared gather table was several times slower per step than a
    // MatMul over a float32 copy (`npm run bench:model` times the decode step it dominates).
    lmHead: linear('lm_head', [
      { name: config.tieWordEmbeddings ? 'token_embd.weight' : 'output.weight' },
    ]),
  };
}

/**
 * The ggml shape (row length first) of each tensor of a Llama model, by name without its
 * blk.N. prefix and .weight suffix: a tensor of another shape would be written into an ONNX
 * model that onnxruntime refuses to load, or one that fails on its first step.
 */
function llamaTensorShapes(config: LlamaConfig): Record<string, readonly number[]> {
  const { hiddenSize: d, numHeads, numKvHeads, headDim, intermediateSize: ffn } = config;
  return {
    token_embd: [d, config.vocabSize],
    output: [d, config.vocabSize],
    output_norm: [d],
    attn_norm: [d],
    ffn_norm: [d],
    attn_q: [d, numHeads * headDim],
    attn_k: [d, numKvHeads * headDim],
    attn_v: [d, numKvHeads * headDim],
    attn_output: [numHeads * headDim, d],
    ffn_gate: [d, ffn],
    ffn_up: [d, ffn],
    ffn_down: [ffn, d],
  };
}

/** Equal as ggml compares shapes: missing trailing dimensions are 1. */
function sameShape(actual: readonly number[], expected: readonly number[]): boolean {
  const length = Math.max(actual.length, expected.length);
  return Array.from({ length }, (_, i) => (actual[i] ?? 1) === (expected[i] ?? 1)).every(Boolean);
}
