// writeTinyModel: a complete model folder from a tiny random-weight GGUF, through the same
// importer as real models, for tests of everything that loads a model.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ImportResult } from '../import-gguf.ts';
import { importGguf } from '../import-gguf.ts';
import type { WeightOptions } from '../llama/gguf-weights.ts';
import type { TinyModelOptions } from './tiny-gguf.ts';
import { tinyGguf } from './tiny-gguf.ts';

export type { TinyModelOptions } from './tiny-gguf.ts';

export async function writeTinyModel(
  dir: string,
  options: TinyModelOptions & { weights?: WeightOptions; force?: boolean } = {},
): Promise<ImportResult> {
  const scratch = await mkdtemp(join(tmpdir(), 'tiny-gguf-'));
  try {
    const gguf = join(scratch, 'tiny.gguf');
    await writeFile(gguf, tinyGguf(options));
    return await importGguf(gguf, dir, { weights: options.weights, force: options.force });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
