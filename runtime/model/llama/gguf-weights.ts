// Describes a Llama GGUF's tensors as decoder-graph weights. Nothing is read here: each weight's
// bytes are produced when the model file is written, so only one matrix is in memory at a time.
import type { Q4_1Encoding } from '../convert/matmul-nbits.ts';
import {
  convertQ4_0,
  convertQ4_1,
  convertQ8_0,
  NBITS_BLOCK,
  nbitsEncodable,
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
  /** Q4_1 matrices: MatMulNBits with float zero points or a min correction, or float32. */
  q4_1: Q4_1Encoding | 'dense';
  /**
   * Tied output head: 'nbits' gives it its own MatMulNBits copy when the embedding is block
   * quantized (faster, more bytes); 'shared' multiplies by the float32 embedding table.
   */
  tiedHead: 'nbits' | 'shared';
}

export const DEFAULT_WEIGHT_OPTIONS: WeightOptions = {
  q4_1: 'float-zero-point',
  tiedHead: 'nbits',
};

interface MatrixSource {
  name: string;
  /** Row permutation for rotary Q/K rows, by head count. */
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

export function decoderWeightsFromGguf(
  file: GgufFile,
  config: LlamaConfig,
  options: WeightOptions = DEFAULT_WEIGHT_OPTIONS,
): DecoderWeights {
  const info = (name: string) => {
    const t = file.tensors.get(name);
    if (!t) throw new Error(`the GGUF lacks tensor ${name}, which a Llama model needs`);
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
        return s.rotaryHeads
          ? unpermuteRotaryRows(data, info(s.name).shape[1]!, s.rotaryHeads)
          : data;
      }),
    );
    return Buffer.concat(parts);
  };

  const linear = (weightName: string, sources: readonly MatrixSource[]): Linear => {
    const first = info(sources[0]!.name);
    const type = first.type as GgmlTypeId;
    const inFeatures = first.shape[0]!;
    const outFeatures = sources.reduce((n, s) => n + info(s.name).shape[1]!, 0);
    const blocksPerRow = inFeatures / NBITS_BLOCK;
    const blocks = outFeatures * blocksPerRow;
    const q4_1 = options.q4_1;

    if (
      type === GgmlType.Q4_0 ||
      type === GgmlType.Q8_0 ||
      (type === GgmlType.Q4_1 && q4_1 !== 'dense')
    ) {
      const convert = sharedLazy(
        type === GgmlType.Q4_0 || type === GgmlType.Q8_0 ? 2 : q4_1 === 'min-correction' ? 4 : 3,
        async () => {
          const data = await readRows(sources);
          if (type === GgmlType.Q4_0) return convertQ4_0(data, blocks);
          if (type === GgmlType.Q8_0) return convertQ8_0(data, blocks);
          return convertQ4_1(data, outFeatures, blocksPerRow, q4_1 as Q4_1Encoding);
        },
      );
      const bits = type === GgmlType.Q8_0 ? 8 : 4;
      const lin: Linear = {
        kind: 'nbits',
        inFeatures,
        outFeatures,
        bits,
        packed: {
          name: `${weightName}.packed`,
          dataType: DataType.UINT8,
          dims: [outFeatures, blocksPerRow, (NBITS_BLOCK * bits) / 8],
          bytes: async () => (await convert()).packed,
        },
        scales: {
          name: `${weightName}.scales`,
          dataType: DataType.FLOAT,
          dims: [outFeatures, blocksPerRow],
          bytes: async () => f32((await convert()).scales),
        },
      };
      if (type === GgmlType.Q4_1) {
        lin.zeroPoints = {
          name: `${weightName}.zero_points`,
          dataType: DataType.FLOAT,
          dims: [outFeatures, blocksPerRow],
          bytes: async () => f32((await convert()).zeroPoints!),
        };
        if (q4_1 === 'min-correction') {
          lin.mins = {
            name: `${weightName}.block_mins`,
            dataType: DataType.FLOAT,
            dims: [blocksPerRow, outFeatures],
            bytes: async () => f32((await convert()).mins!),
          };
        }
      }
      return lin;
    }
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

  const embedding: Weight = {
    name: 'model.embed_tokens.weight',
    dataType: DataType.FLOAT,
    dims: [config.vocabSize, config.hiddenSize],
    bytes: async () => f32(await file.readFloats('token_embd.weight')),
  };
  const quantizedEmbedding = nbitsEncodable(info('token_embd.weight').type as GgmlTypeId);
  const lmHead = !config.tieWordEmbeddings
    ? linear('lm_head', [{ name: 'output.weight' }])
    : options.tiedHead === 'nbits' && quantizedEmbedding
      ? linear('lm_head', [{ name: 'token_embd.weight' }])
      : 'tied-embedding';
  return {
    embedding,
    layers,
    outputNorm: vector('output_norm.weight', 'model.norm.weight'),
    lmHead,
  };
}
