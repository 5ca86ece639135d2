// A plain, slow Llama forward pass over dequantized GGUF tensors with float64 arithmetic: the
// yardstick the ONNX graph is checked against. It follows ggml's conventions directly (weights
// as stored, rotary pairs (2i, 2i+1) of GGUF's Q/K layout), so it shares no layout code with the
// importer it checks.
import type { LlamaConfig } from '../../runtime/model/llama/config.ts';

/** Dequantized GGUF tensor by name; matrices are [rows = output features][input features]. */
export type TensorLookup = (name: string) => Float32Array;

function matVec(w: Float32Array, x: Float64Array, rows: number): Float64Array {
  const cols = x.length;
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += w[r * cols + c]! * x[c]!;
    out[r] = sum;
  }
  return out;
}

function rmsNorm(x: Float64Array, weight: Float32Array, eps: number): Float64Array {
  const meanSquare = x.reduce((s, v) => s + v * v, 0) / x.length;
  const scale = 1 / Math.sqrt(meanSquare + eps);
  return x.map((v, i) => v * scale * weight[i]!);
}

/** ggml's normal-mode rope: rotates each adjacent pair (2i, 2i+1) by pos·theta^(-2i/D). */
function rope(x: Float64Array, heads: number, headDim: number, pos: number, theta: number) {
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < headDim / 2; i++) {
      const angle = pos * theta ** ((-2 * i) / headDim);
      const a = h * headDim + 2 * i;
      const [x0, x1] = [x[a]!, x[a + 1]!];
      x[a] = x0 * Math.cos(angle) - x1 * Math.sin(angle);
      x[a + 1] = x0 * Math.sin(angle) + x1 * Math.cos(angle);
    }
  }
}

/** Logits for every position of `tokens` (positions 0, 1, ...), causal attention. */
export function referenceLogits(
  config: LlamaConfig,
  tensor: TensorLookup,
  tokens: readonly number[],
): Float64Array[] {
  const { hiddenSize: d, numHeads, numKvHeads, headDim, vocabSize } = config;
  const group = numHeads / numKvHeads;
  const embedding = tensor('token_embd.weight');
  let xs = tokens.map((t) => Float64Array.from(embedding.subarray(t * d, (t + 1) * d)));

  for (let l = 0; l < config.numLayers; l++) {
    const w = (name: string) => tensor(`blk.${l}.${name}.weight`);
    const normed = xs.map((x) => rmsNorm(x, w('attn_norm'), config.rmsNormEps));
    const qs = normed.map((h, pos) => {
      const q = matVec(w('attn_q'), h, numHeads * headDim);
      rope(q, numHeads, headDim, pos, config.ropeTheta);
      return q;
    });
    const ks = normed.map((h, pos) => {
      const k = matVec(w('attn_k'), h, numKvHeads * headDim);
      rope(k, numKvHeads, headDim, pos, config.ropeTheta);
      return k;
    });
    const vs = normed.map((h) => matVec(w('attn_v'), h, numKvHeads * headDim));

    xs = xs.map((x, s) => {
      const context = new Float64Array(numHeads * headDim);
      for (let h = 0; h < numHeads; h++) {
        const kv = Math.floor(h / group) * headDim;
        const scores = Array.from({ length: s + 1 }, (_, t) => {
          let dot = 0;
          for (let i = 0; i < headDim; i++) dot += qs[s]![h * headDim + i]! * ks[t]![kv + i]!;
          return dot / Math.sqrt(headDim);
        });
        const max = Math.max(...scores);
        const weights = scores.map((v) => Math.exp(v - max));
        const total = weights.reduce((a, b) => a + b, 0);
        weights.forEach((p, t) => {
          for (let i = 0; i < headDim; i++)
            context[h * headDim + i]! += (p / total) * vs[t]![kv + i]!;
        });
      }
      const projected = matVec(w('attn_output'), context, d);
      const attended = x.map((v, i) => v + projected[i]!);
      const f = rmsNorm(attended, w('ffn_norm'), config.rmsNormEps);
      const gate = matVec(w('ffn_gate'), f, config.intermediateSize);
      const up = matVec(w('ffn_up'), f, config.intermediateSize);
      const act = gate.map((g, i) => (g / (1 + Math.exp(-g))) * up[i]!);
      const down = matVec(w('ffn_down'), act, d);
      return attended.map((v, i) => v + down[i]!);
    });
  }
  const head = config.tieWordEmbeddings ? embedding : tensor('output.weight');
  return xs.map((x) =>
    matVec(head, rmsNorm(x, tensor('output_norm.weight'), config.rmsNormEps), vocabSize),
  );
}
