// Reads a decoder graph's inputs and outputs (from the ONNX session's metadata) and works out what
// the engine must feed it, or says why the engine cannot run it. Pure: the session is opened
// elsewhere.
import type { KvShape } from './kv-block.ts';

/** The part of onnxruntime's value metadata this needs. */
export interface ValueInfo {
  name: string;
  isTensor: boolean;
  type?: string;
  /** Numbers for fixed dimensions, names for symbolic ones. */
  shape?: readonly (number | string)[];
}

export interface CacheNames {
  /** The graph input that takes the cache so far. */
  past: string;
  /** The graph output that returns it extended by this step's tokens. */
  present: string;
}

export interface ModelIo {
  inputIds: string;
  attentionMask: string;
  positionIds: string | undefined;
  /** Optimum's merged decoders choose the with-past branch with this boolean. */
  useCacheBranch: string | undefined;
  /** Lets the graph compute logits for the last position only. */
  numLogitsToKeep: string | undefined;
  logits: string;
  /** Layer 0 key, layer 0 value, layer 1 key, … */
  cache: CacheNames[];
  kvShape: KvShape;
}

/** Cache geometry from config.json, for graphs whose cache inputs have symbolic head dimensions. */
export interface KvHints {
  heads?: number;
  headDim?: number;
}

export class UnsupportedModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedModelError';
  }
}

const PAST = /^past_key_values\.(\d+)\.(key|value)$/;
const presentFor = (layer: string, kind: string) => `present.${layer}.${kind}`;

export function describeModelIo(
  inputs: readonly ValueInfo[],
  outputs: readonly ValueInfo[],
  hints: KvHints = {},
): ModelIo {
  const inputNames = new Set(inputs.map((i) => i.name));
  const outputNames = new Set(outputs.map((o) => o.name));
  const listed = `inputs: ${[...inputNames].join(', ')}`;

  if (inputNames.has('encoder_hidden_states') || inputNames.has('encoder_attention_mask')) {
    throw new UnsupportedModelError(
      `this is the decoder of an encoder-decoder model (${listed}); the engine serves decoder-only chat models`,
    );
  }
  if (!inputNames.has('input_ids')) {
    throw new UnsupportedModelError(
      `the graph has no input_ids input (${listed}); the engine needs a decoder-only language model that takes token ids`,
    );
  }
  if (!inputNames.has('attention_mask')) {
    throw new UnsupportedModelError(
      `the graph has no attention_mask input (${listed}); the engine batches requests with padding and needs one`,
    );
  }
  if (!outputNames.has('logits')) {
    throw new UnsupportedModelError(
      `the graph has no logits output (outputs: ${[...outputNames].join(', ')}); export it as a causal language model`,
    );
  }

  const pasts = inputs
    .map((input) => ({ input, match: PAST.exec(input.name) }))
    .filter((p) => p.match !== null)
    .map(({ input, match }) => ({ input, layer: Number(match![1]), kind: match![2]! }))
    .sort((a, b) => a.layer - b.layer || (a.kind === 'key' ? -1 : 1));
  if (pasts.length === 0) {
    throw new UnsupportedModelError(
      `the graph has no KV-cache inputs (past_key_values.N.key/value; ${listed}); ` +
        're-export it with past key values (a "text-generation-with-past" export)',
    );
  }
  const layers = new Set(pasts.map((p) => p.layer));
  if (pasts.length !== layers.size * 2 || Math.max(...layers) !== layers.size - 1) {
    throw new UnsupportedModelError(
      `the KV-cache inputs do not form a key and a value for layers 0..N (${listed})`,
    );
  }

  const cache = pasts.map(({ input, layer, kind }) => {
    const present = presentFor(String(layer), kind);
    if (!outputNames.has(present)) {
      throw new UnsupportedModelError(`the graph takes ${input.name} but has no ${present} output`);
    }
    if (input.type !== 'float32') {
      throw new UnsupportedModelError(
        `the KV cache is ${input.type ?? 'not a tensor'}; the engine supports float32 caches only (use the fp32 or int4/q4 export, not fp16)`,
      );
    }
    return { past: input.name, present };
  });

  const known = new Set([
    'input_ids',
    'attention_mask',
    'position_ids',
    'use_cache_branch',
    'num_logits_to_keep',
    ...cache.map((c) => c.past),
  ]);
  const unknown = [...inputNames].filter((n) => !known.has(n));
  if (unknown.length > 0) {
    throw new UnsupportedModelError(
      `the graph has inputs the engine cannot fill: ${unknown.join(', ')}`,
    );
  }

  return {
    inputIds: 'input_ids',
    attentionMask: 'attention_mask',
    positionIds: inputNames.has('position_ids') ? 'position_ids' : undefined,
    useCacheBranch: inputNames.has('use_cache_branch') ? 'use_cache_branch' : undefined,
    numLogitsToKeep: inputNames.has('num_logits_to_keep') ? 'num_logits_to_keep' : undefined,
    logits: 'logits',
    cache,
    kvShape: kvShapeOf(pasts[0]!.input, hints, cache.length),
  };
}

// Cache inputs are [batch, kv_heads, past_length, head_dim]; exporters usually fix the two head
// dimensions, otherwise config.json knows them.
function kvShapeOf(past: ValueInfo, hints: KvHints, tensors: number): KvShape {
  const shape = past.shape ?? [];
  if (shape.length !== 4) {
    throw new UnsupportedModelError(
      `${past.name} has shape [${shape.join(', ')}]; expected [batch, heads, past, head_dim]`,
    );
  }
  const fixed = (dim: number | string | undefined) =>
    typeof dim === 'number' && dim > 0 ? dim : undefined;
  const heads = fixed(shape[1]) ?? hints.heads;
  const headDim = fixed(shape[3]) ?? hints.headDim;
  if (heads === undefined || headDim === undefined) {
    throw new UnsupportedModelError(
      `${past.name} has symbolic head dimensions and config.json does not give num_key_value_heads and head_dim`,
    );
  }
  return { heads, headDim, tensors };
}
