// The Llama hyper-parameters a GGUF file declares in its `llama.*` metadata, checked for the
// features this importer's graph implements.
import type { GgufTensorInfo, MetadataValue } from '../gguf/reader.ts';

export interface LlamaConfig {
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  intermediateSize: number;
  vocabSize: number;
  maxPositions: number;
  rmsNormEps: number;
  ropeTheta: number;
  /** No separate output.weight: the output projection reuses the token embedding. */
  tieWordEmbeddings: boolean;
}

export const SUPPORTED_ARCHITECTURES = ['llama'];

// The importer writes cos and sin tables for every position (4 bytes x head dim per position):
// 2^20 positions is 8 times Llama 3.1's context, and 512 MiB at a head dim of 128.
export const MAX_CONTEXT_LENGTH = 2 ** 20;

export function llamaConfigFromGguf(
  metadata: Readonly<Record<string, MetadataValue>>,
  tensors: ReadonlyMap<string, GgufTensorInfo>,
): LlamaConfig {
  const arch = metadata['general.architecture'];
  if (arch !== 'llama') {
    throw new Error(
      `architecture "${String(arch)}" is not supported; supported architectures: ${SUPPORTED_ARCHITECTURES.join(', ')}`,
    );
  }
  const num = (key: string, fallback?: number): number => {
    const v = metadata[`llama.${key}`];
    if (typeof v === 'number' || typeof v === 'bigint') return Number(v);
    if (fallback !== undefined) return fallback;
    throw new Error(`the GGUF metadata lacks llama.${key}, which a Llama model must declare`);
  };
  /** A size or count: a whole number of at least 1. */
  const count = (key: string, fallback?: number): number => {
    const v = num(key, fallback);
    if (!Number.isSafeInteger(v) || v < 1) {
      throw new Error(
        `llama.${key} is ${v}, but must be a whole number of at least 1: the GGUF is corrupt`,
      );
    }
    return v;
  };
  /** A float parameter: finite and above 0. */
  const positive = (key: string, fallback?: number): number => {
    const v = num(key, fallback);
    if (!(Number.isFinite(v) && v > 0)) {
      throw new Error(
        `llama.${key} is ${v}, but must be a finite number above 0: the GGUF is corrupt`,
      );
    }
    return v;
  };
  const hiddenSize = count('embedding_length');
  const numHeads = count('attention.head_count');
  if (metadata['llama.attention.key_length'] === undefined && hiddenSize % numHeads !== 0) {
    throw new Error(
      `llama.embedding_length ${hiddenSize} is not a multiple of llama.attention.head_count ${numHeads}: the GGUF is corrupt`,
    );
  }
  const headDim = count('attention.key_length', hiddenSize / numHeads);
  // Rotary embedding turns pairs (i, i + headDim/2).
  if (headDim % 2 !== 0) {
    throw new Error(
      `the head dimension is ${headDim}, but rotary embedding needs an even one: the GGUF is corrupt`,
    );
  }
  const maxPositions = count('context_length');
  if (maxPositions > MAX_CONTEXT_LENGTH) {
    throw new Error(
      `llama.context_length is ${maxPositions}; this importer takes at most ${MAX_CONTEXT_LENGTH} ` +
        'positions, as it writes rotary tables for every one',
    );
  }
  const embedding = tensors.get('token_embd.weight');
  if (!embedding) throw new Error('the GGUF has no token_embd.weight tensor');

  const unsupported = (what: string) => {
    throw new Error(`${what} is not supported by this importer (plain Llama decoders only)`);
  };
  if (num('expert_count', 0) > 0) unsupported('a mixture-of-experts model');
  const scaling = metadata['llama.rope.scaling.type'];
  if (scaling !== undefined && scaling !== 'none') unsupported(`RoPE scaling "${String(scaling)}"`);
  if (tensors.has('rope_freqs.weight')) unsupported('RoPE frequency factors (rope_freqs.weight)');
  if (num('rope.dimension_count', headDim) !== headDim) unsupported('partial rotary embedding');
  if (num('attention.value_length', headDim) !== headDim)
    unsupported('a value head size unlike the key head size');

  const numKvHeads = count('attention.head_count_kv', numHeads);
  if (numHeads % numKvHeads !== 0) {
    throw new Error(
      `llama.attention.head_count ${numHeads} is not a multiple of llama.attention.head_count_kv ${numKvHeads}: the GGUF is corrupt`,
    );
  }

  return {
    hiddenSize,
    numLayers: count('block_count'),
    numHeads,
    numKvHeads,
    headDim,
    intermediateSize: count('feed_forward_length'),
    vocabSize: count('vocab_size', embedding.shape[1]),
    maxPositions,
    rmsNormEps: positive('attention.layer_norm_rms_epsilon'),
    ropeTheta: positive('rope.freq_base', 10000),
    tieWordEmbeddings: !tensors.has('output.weight'),
  };
}
