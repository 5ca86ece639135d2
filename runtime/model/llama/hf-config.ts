// config.json and generation_config.json in the Hugging Face layout the engine reads.
import type { LlamaConfig } from './config.ts';

/** The shortest decimal that is the same float32, so 1e-5 is not written as 9.999999747e-6. */
export function shortestFloat32(x: number): number {
  const f = Math.fround(x);
  for (let digits = 1; digits < 17; digits++) {
    const candidate = Number(f.toPrecision(digits));
    if (Math.fround(candidate) === f) return candidate;
  }
  return f;
}

export function hfConfig(config: LlamaConfig, bosTokenId: number, eosTokenId: number): object {
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    hidden_size: config.hiddenSize,
    num_hidden_layers: config.numLayers,
    num_attention_heads: config.numHeads,
    num_key_value_heads: config.numKvHeads,
    head_dim: config.headDim,
    intermediate_size: config.intermediateSize,
    hidden_act: 'silu',
    max_position_embeddings: config.maxPositions,
    rms_norm_eps: shortestFloat32(config.rmsNormEps),
    rope_theta: shortestFloat32(config.ropeTheta),
    vocab_size: config.vocabSize,
    bos_token_id: bosTokenId,
    eos_token_id: eosTokenId,
    tie_word_embeddings: config.tieWordEmbeddings,
    attention_bias: false,
    mlp_bias: false,
    use_cache: true,
    torch_dtype: 'float32',
  };
}

export function generationConfig(bosTokenId: number, eosTokenId: number): object {
  return { bos_token_id: bosTokenId, eos_token_id: eosTokenId };
}
