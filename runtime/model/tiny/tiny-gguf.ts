// A tiny random-weight Llama GGUF: the tests' model, small enough to write in milliseconds and to
// check against the reference forward pass, with the tokenizer and chat template of a real one.
import type { GgmlTypeName } from '../gguf/ggml-type.ts';
import { blockElements, GgmlType } from '../gguf/ggml-type.ts';
import { quantize } from '../gguf/quantize.ts';
import type { GgufTensor, GgufValue } from '../gguf/writer.ts';
import { encodeGguf } from '../gguf/writer.ts';
import { BOS_TOKEN_ID, CHATML_TEMPLATE, EOS_TOKEN_ID, tinyVocabulary } from './vocabulary.ts';

export interface TinyModelOptions {
  seed?: number;
  /** Type of the projection matrices (and of the embedding unless embeddingType says otherwise). */
  tensorType?: GgmlTypeName;
  embeddingType?: GgmlTypeName;
  hiddenSize?: number;
  numLayers?: number;
  numHeads?: number;
  numKvHeads?: number;
  intermediateSize?: number;
  contextLength?: number;
  /** Without output.weight the output head reuses the embedding, as in SmolLM2. */
  tieEmbeddings?: boolean;
}

/** Deterministic uniform numbers in [0, 1) (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function tinyGguf(options: TinyModelOptions = {}): Uint8Array {
  const {
    seed = 1,
    tensorType = 'F32',
    embeddingType = tensorType,
    // Rows must be whole quantization blocks: 256 values for the K-quants.
    hiddenSize: d = Math.max(
      64,
      blockElements(GgmlType[tensorType]),
      blockElements(GgmlType[embeddingType]),
    ),
    numLayers = 2,
    numHeads = 4,
    numKvHeads = 2,
    intermediateSize: ffn = 2 * d,
    contextLength = 512,
    tieEmbeddings = true,
  } = options;
  const headDim = d / numHeads;
  const vocab = tinyVocabulary();
  const V = vocab.tokens.length;
  const next = random(seed);

  const tensors: GgufTensor[] = [];
  // Uniform with variance 1/fanIn keeps activations of order one through every layer.
  const matrix = (name: string, cols: number, rows: number, type = tensorType) => {
    const bound = Math.sqrt(3 / cols);
    const values = Float32Array.from({ length: rows * cols }, () => (2 * next() - 1) * bound);
    tensors.push({
      name,
      shape: [cols, rows],
      type: GgmlType[type],
      data: quantize(GgmlType[type], values),
    });
  };
  const norm = (name: string) => {
    const values = Float32Array.from({ length: d }, () => 0.8 + 0.4 * next());
    tensors.push({ name, shape: [d], type: GgmlType.F32, data: quantize(GgmlType.F32, values) });
  };

  matrix('token_embd.weight', d, V, embeddingType);
  for (let i = 0; i < numLayers; i++) {
    norm(`blk.${i}.attn_norm.weight`);
    matrix(`blk.${i}.attn_q.weight`, d, numHeads * headDim);
    matrix(`blk.${i}.attn_k.weight`, d, numKvHeads * headDim);
    matrix(`blk.${i}.attn_v.weight`, d, numKvHeads * headDim);
    matrix(`blk.${i}.attn_output.weight`, numHeads * headDim, d);
    norm(`blk.${i}.ffn_norm.weight`);
    matrix(`blk.${i}.ffn_gate.weight`, d, ffn);
    matrix(`blk.${i}.ffn_up.weight`, d, ffn);
    matrix(`blk.${i}.ffn_down.weight`, ffn, d);
  }
  norm('output_norm.weight');
  if (!tieEmbeddings) matrix('output.weight', d, V);

  const u32 = (value: number): GgufValue => ({ type: 'uint32', value });
  const metadata: Record<string, GgufValue> = {
    'general.architecture': { type: 'string', value: 'llama' },
    'general.name': { type: 'string', value: 'clawbot-tiny' },
    'llama.block_count': u32(numLayers),
    'llama.context_length': u32(contextLength),
    'llama.embedding_length': u32(d),
    'llama.feed_forward_length': u32(ffn),
    'llama.attention.head_count': u32(numHeads),
    'llama.attention.head_count_kv': u32(numKvHeads),
    'llama.rope.freq_base': { type: 'float32', value: 10000 },
    'llama.rope.dimension_count': u32(headDim),
    'llama.attention.layer_norm_rms_epsilon': { type: 'float32', value: 1e-5 },
    'llama.vocab_size': u32(V),
    'tokenizer.ggml.model': { type: 'string', value: 'gpt2' },
    'tokenizer.ggml.pre': { type: 'string', value: 'smollm' },
    'tokenizer.ggml.tokens': { type: 'string[]', value: vocab.tokens },
    'tokenizer.ggml.token_type': { type: 'int32[]', value: vocab.tokenTypes },
    'tokenizer.ggml.merges': { type: 'string[]', value: vocab.merges },
    'tokenizer.ggml.bos_token_id': u32(BOS_TOKEN_ID),
    'tokenizer.ggml.eos_token_id': u32(EOS_TOKEN_ID),
    'tokenizer.ggml.padding_token_id': u32(EOS_TOKEN_ID),
    'tokenizer.ggml.add_bos_token': { type: 'bool', value: false },
    'tokenizer.chat_template': { type: 'string', value: CHATML_TEMPLATE },
  };
  return encodeGguf(metadata, tensors);
}
