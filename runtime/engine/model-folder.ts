// Finds the parts of a model folder the engine needs, in either common layout:
// - onnx-community / transformers.js: onnx/model*.onnx (or model.onnx at the top, as the GGUF
//   importer writes it), config.json, generation_config.json, tokenizer.json, tokenizer_config.json;
// - onnxruntime-genai: genai_config.json naming the decoder file, plus the tokenizer files.
// Reading files is at the edge (readModelFolder); what the files mean is decided by pure functions.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KvHints } from './model-io.ts';
import { UnsupportedModelError } from './model-io.ts';
import type { SamplingDefaults } from './types.ts';

export type Json = Record<string, unknown>;

export interface ModelFolder {
  dir: string;
  layout: 'onnx-community' | 'onnxruntime-genai';
  onnxPath: string;
  tokenizerJson: Json;
  tokenizerConfig: Json;
  chatTemplate: string;
  bosToken: string | undefined;
  eosToken: string | undefined;
  /** Ids that end a generation, from the model configs (the eos token's own id is added later). */
  eosTokenIds: number[];
  contextLength: number;
  kvHints: KvHints;
  /** The model's own sampling defaults, for requests that leave a parameter out. */
  samplingDefaults: SamplingDefaults;
}

export interface ConfigFiles {
  config?: Json;
  generationConfig?: Json;
  genaiConfig?: Json;
  tokenizerConfig?: Json;
  /** chat_template.jinja, where newer exports keep the template. */
  chatTemplateFile?: string;
}

export type ModelSettings = Omit<
  ModelFolder,
  'dir' | 'layout' | 'onnxPath' | 'tokenizerJson' | 'tokenizerConfig'
>;

/**
 * Which ONNX file to load. `variant` picks e.g. `q4` (model_q4.onnx) or names a file outright.
 * `files` are paths relative to the folder.
 */
export function pickOnnxFile(
  files: readonly string[],
  genaiConfig: Json | undefined,
  variant?: string,
): string {
  if (genaiConfig !== undefined) {
    const filename = (genaiConfig.model as Json | undefined)?.decoder as Json | undefined;
    const name = variant?.endsWith('.onnx') ? variant : filename?.filename;
    if (typeof name !== 'string') {
      throw new UnsupportedModelError(
        'genai_config.json does not name the decoder (model.decoder.filename)',
      );
    }
    if (!files.includes(name))
      throw new UnsupportedModelError(
        `genai_config.json names ${name}, which is not in the folder`,
      );
    return name;
  }
  const wanted =
    variant === undefined
      ? 'model.onnx'
      : variant.endsWith('.onnx')
        ? variant
        : `model_${variant}.onnx`;
  for (const candidate of [`onnx/${wanted}`, wanted])
    if (files.includes(candidate)) return candidate;
  const available = files.filter((f) => f.endsWith('.onnx'));
  throw new UnsupportedModelError(
    `no ${wanted} in the model folder (looked in onnx/ and at the top)` +
      (available.length > 0
        ? `; ONNX files present: ${available.join(', ')} — choose one as the variant`
        : '; it has no ONNX file at all'),
  );
}

export function modelSettings(files: ConfigFiles): ModelSettings {
  const { config = {}, generationConfig = {}, genaiConfig, tokenizerConfig = {} } = files;
  if (config.is_encoder_decoder === true) {
    throw new UnsupportedModelError(
      `config.json describes an encoder-decoder model (${String(config.model_type)}); the engine serves decoder-only chat models`,
    );
  }
  const genaiModel = (genaiConfig?.model ?? {}) as Json;
  const genaiDecoder = (genaiModel.decoder ?? {}) as Json;

  const contextLength = firstNumber(
    genaiModel.context_length,
    config.max_position_embeddings,
    config.n_positions,
  );
  if (contextLength === undefined) {
    throw new UnsupportedModelError(
      'the model configs give no context length (config.json max_position_embeddings or genai_config.json model.context_length)',
    );
  }

  const chatTemplate = pickChatTemplate(tokenizerConfig.chat_template) ?? files.chatTemplateFile;
  if (chatTemplate === undefined) {
    throw new UnsupportedModelError(
      'the model has no chat template (tokenizer_config.json chat_template or chat_template.jinja); the engine serves chat models only',
    );
  }

  const heads = firstNumber(
    genaiDecoder.num_key_value_heads,
    config.num_key_value_heads,
    config.num_attention_heads,
  );
  const attentionHeads = firstNumber(genaiDecoder.num_attention_heads, config.num_attention_heads);
  const hidden = firstNumber(genaiDecoder.hidden_size, config.hidden_size);
  const headDim =
    firstNumber(genaiDecoder.head_size, config.head_dim) ??
    (hidden !== undefined && attentionHeads !== undefined ? hidden / attentionHeads : undefined);

  const eosTokenIds = [
    ...new Set([
      ...numbers(generationConfig.eos_token_id),
      ...numbers(config.eos_token_id),
      ...numbers(genaiModel.eos_token_id),
    ]),
  ];

  return {
    chatTemplate,
    bosToken: tokenText(tokenizerConfig.bos_token),
    eosToken: tokenText(tokenizerConfig.eos_token),
    eosTokenIds,
    contextLength,
    kvHints: { heads, headDim },
    samplingDefaults: samplingDefaults(
      (genaiConfig?.search as Json | undefined) ?? generationConfig,
    ),
  };
}

export async function readModelFolder(dir: string, variant?: string): Promise<ModelFolder> {
  let files: string[];
  try {
    files = await readdir(dir, { recursive: true });
  } catch (error) {
    throw new UnsupportedModelError(
      `cannot read the model folder ${dir}: ${(error as Error).message}`,
    );
  }
  const readJson = async (name: string): Promise<Json | undefined> => {
    if (!files.includes(name)) return undefined;
    try {
      return JSON.parse(await readFile(join(dir, name), 'utf8')) as Json;
    } catch (error) {
      throw new UnsupportedModelError(
        `${join(dir, name)} is not valid JSON: ${(error as Error).message}`,
      );
    }
  };

  const genaiConfig = await readJson('genai_config.json');
  const config = await readJson('config.json');
  if (genaiConfig === undefined && config === undefined) {
    throw new UnsupportedModelError(
      `${dir} has neither config.json nor genai_config.json; it is not an ONNX model folder ` +
        '(import a GGUF file with `npm run runtime -- import-gguf`, or use an onnx-community or onnxruntime-genai export)',
    );
  }
  const tokenizerJson = await readJson('tokenizer.json');
  if (tokenizerJson === undefined) {
    throw new UnsupportedModelError(
      `${dir} has no tokenizer.json; the engine needs the model's Hugging Face tokenizer file next to the ONNX model`,
    );
  }
  const tokenizerConfig = (await readJson('tokenizer_config.json')) ?? {};
  const onnxFile = pickOnnxFile(files, genaiConfig, variant);
  const settings = modelSettings({
    config,
    generationConfig: await readJson('generation_config.json'),
    genaiConfig,
    tokenizerConfig,
    chatTemplateFile: files.includes('chat_template.jinja')
      ? await readFile(join(dir, 'chat_template.jinja'), 'utf8')
      : undefined,
  });
  return {
    dir,
    layout: genaiConfig === undefined ? 'onnx-community' : 'onnxruntime-genai',
    onnxPath: join(dir, onnxFile),
    tokenizerJson,
    tokenizerConfig,
    ...settings,
  };
}

function firstNumber(...values: unknown[]): number | undefined {
  return values.find((v): v is number => typeof v === 'number' && Number.isFinite(v));
}

function numbers(value: unknown): number[] {
  if (typeof value === 'number') return [value];
  return Array.isArray(value) ? value.filter((v): v is number => typeof v === 'number') : [];
}

/** Special tokens appear either as a string or as an AddedToken object with `content`. */
function tokenText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  const content = (value as Json | null | undefined)?.content;
  return typeof content === 'string' ? content : undefined;
}

/** A template string, or a list of named templates of which "default" is the chat one. */
function pickChatTemplate(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (!Array.isArray(value)) return undefined;
  const named = value as { name?: unknown; template?: unknown }[];
  const chosen = named.find((t) => t.name === 'default') ?? named[0];
  return typeof chosen?.template === 'string' ? chosen.template : undefined;
}

function samplingDefaults(source: Json): SamplingDefaults {
  const defaults: SamplingDefaults = {};
  if (source.do_sample === false) defaults.temperature = 0;
  else if (typeof source.temperature === 'number') defaults.temperature = source.temperature;
  if (typeof source.top_p === 'number') defaults.topP = source.top_p;
  if (typeof source.top_k === 'number') defaults.topK = source.top_k;
  if (typeof source.repetition_penalty === 'number' && source.repetition_penalty > 0) {
    defaults.repetitionPenalty = source.repetition_penalty;
  }
  return defaults;
}
