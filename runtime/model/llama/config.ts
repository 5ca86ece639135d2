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
  const hiddenSize = num('embedding_length');
  const numHeads = num('attention.head_count');
  const headDim = num('attention.key_length', hiddenSize / numHeads);
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

  return {
    hiddenSize,
    numLayers: num('block_count'),
    numHeads,
    numKvHeads: num('attention.head_count_kv', numHeads),
    headDim,
    intermediateSize: num('feed_forward_length'),
    vocabSize: num('vocab_size', embedding.shape[1]),
    maxPositions: num('context_length'),
    rmsNormEps: num('attention.layer_norm_rms_epsilon'),
    ropeTheta: num('rope.freq_base', 10000),
    tieWordEmbeddings: !tensors.has('output.weight'),
  };
}
