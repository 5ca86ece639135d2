// GGUF (Llama family) -> ONNX model folder in the onnx-community layout:
//   onnx/model.onnx, onnx/model.onnx_data, config.json, generation_config.json,
//   tokenizer.json, tokenizer_config.json
// The folder is assembled in a temporary sibling directory and renamed into place at the end, so a
// failed or interrupted import never leaves a half-written model behind.
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ggmlTypeName, isSupportedType, SUPPORTED_TYPES } from './gguf/ggml-type.ts';
import type { GgufFile } from './gguf/reader.ts';
import { openGguf } from './gguf/reader.ts';
import { llamaConfigFromGguf } from './llama/config.ts';
import type { LlamaConfig } from './llama/config.ts';
import { buildDecoderGraph, OPSETS } from './llama/decoder-graph.ts';
import type { WeightOptions } from './llama/gguf-weights.ts';
import { decoderWeightsFromGguf, DEFAULT_WEIGHT_OPTIONS } from './llama/gguf-weights.ts';
import { generationConfig, hfConfig } from './llama/hf-config.ts';
import { writeOnnxModel } from './onnx/write-model.ts';
import { tokenizerFromGguf } from './tokenizer/from-gguf.ts';

export type ImportProgress =
  | { stage: 'read'; tensors: number }
  | { stage: 'tokenizer' }
  | { stage: 'graph'; nodes: number; weights: number }
  | { stage: 'weights'; written: number; total: number; name: string }
  | { stage: 'done'; modelBytes: number; dataBytes: number };

export interface ImportOptions {
  weights?: WeightOptions;
  /** Replace an existing output directory. */
  force?: boolean;
  onProgress?: (p: ImportProgress) => void;
}

export interface ImportResult {
  config: LlamaConfig;
  modelBytes: number;
  dataBytes: number;
}

export async function importGguf(
  ggufPath: string,
  outDir: string,
  options: ImportOptions = {},
): Promise<ImportResult> {
  const existing = await stat(outDir).catch(() => undefined);
  if (existing && !options.force) {
    throw new Error(
      `${outDir} already exists: remove it, choose another directory, or pass --force`,
    );
  }
  const progress = options.onProgress ?? (() => {});
  const file = await openGguf(ggufPath);
  const temp = join(
    dirname(outDir),
    `.${basename(outDir)}.importing-${randomBytes(4).toString('hex')}`,
  );
  try {
    progress({ stage: 'read', tensors: file.tensors.size });
    checkTensorTypes(file);
    const config = llamaConfigFromGguf(file.metadata, file.tensors);

    progress({ stage: 'tokenizer' });
    const tok = tokenizerFromGguf(file.metadata, config.maxPositions);

    const graph = buildDecoderGraph(
      config,
      decoderWeightsFromGguf(file, config, options.weights ?? DEFAULT_WEIGHT_OPTIONS),
    );
    progress({ stage: 'graph', nodes: graph.nodes.length, weights: graph.weights.length });

    await mkdir(join(temp, 'onnx'), { recursive: true });
    const json = (name: string, value: object) =>
      writeFile(join(temp, name), JSON.stringify(value, null, 2) + '\n');
    await json('config.json', hfConfig(config, tok.bosTokenId, tok.eosTokenId));
    await json('generation_config.json', generationConfig(tok.bosTokenId, tok.eosTokenId));
    await json('tokenizer.json', tok.tokenizer);
    await json('tokenizer_config.json', tok.tokenizerConfig);
    const sizes = await writeOnnxModel(join(temp, 'onnx'), graph, {
      graphName: String(file.metadata['general.name'] ?? 'llama'),
      opsets: OPSETS,
      onWeight: (written, total, name) => progress({ stage: 'weights', written, total, name }),
    });

    if (existing) {
      const old = `${temp}-replaced`;
      await rename(outDir, old);
      await rename(temp, outDir);
      await rm(old, { recursive: true, force: true });
    } else {
      await rename(temp, outDir);
    }
    progress({ stage: 'done', ...sizes });
    return { config, ...sizes };
  } catch (e) {
    await rm(temp, { recursive: true, force: true });
    throw e;
  } finally {
    await file.close();
  }
}

function checkTensorTypes(file: GgufFile) {
  const unsupported = [...file.tensors.values()].filter((t) => !isSupportedType(t.type));
  if (unsupported.length > 0) {
    const list = unsupported
      .slice(0, 5)
      .map((t) => `${t.name} (${ggmlTypeName(t.type)})`)
      .join(', ');
    const more = unsupported.length > 5 ? ` and ${unsupported.length - 5} more` : '';
    throw new Error(
      `${file.path} has tensors of types this importer cannot read: ${list}${more}; supported types: ${SUPPORTED_TYPES}. ` +
        'Convert the model to one of these (e.g. llama-quantize ... Q4_0) and import again.',
    );
  }
}
