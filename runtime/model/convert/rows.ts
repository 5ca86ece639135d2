// Row-level rearrangements of ggml matrices (rows are output features, stored contiguously, so
// they move as whole byte ranges whatever the encoding).

/**
 * GGUF stores the Q and K projections with each head's rows interleaved for ggml's rotary layout
 * (rotating pairs 2i, 2i+1); Hugging Face Llama rotates pairs i, i+D/2. Returns the rows in the
 * Hugging Face order: row h·D + j·D/2 + i comes from GGUF row h·D + 2i + j.
 */
export function unpermuteRotaryRows(data: Uint8Array, rows: number, heads: number): Uint8Array {
  const rowBytes = data.length / rows;
  const headDim = rows / heads;
  const half = headDim / 2;
  const out = new Uint8Array(data.length);
  for (let h = 0; h < heads; h++) {
    for (let j = 0; j < 2; j++) {
      for (let i = 0; i < half; i++) {
        const from = (h * headDim + 2 * i + j) * rowBytes;
        out.set(data.subarray(from, from + rowBytes), (h * headDim + j * half + i) * rowBytes);
      }
    }
  }
  return out;
}

/** [rows, cols] -> [cols, rows]. */
export function transpose(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c]!;
  }
  return out;
}
