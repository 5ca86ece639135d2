// tokenizer.json and tokenizer_config.json (Hugging Face formats) rebuilt from a GGUF's
// tokenizer.* metadata, for byte-level BPE vocabularies (tokenizer.ggml.model "gpt2").
import type { MetadataValue } from '../gguf/reader.ts';

/** GGUF token types (llama.cpp's llama_token_type). */
const TOKEN_TYPE = { CONTROL: 3, USER_DEFINED: 4 } as const;

// Pre-tokenizer split patterns by tokenizer.ggml.pre: the regexes the original Hugging Face
// tokenizers use, after which every piece is spelled byte-level.
const LLAMA3_SPLIT =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const QWEN2_SPLIT =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

const byteLevelWithGpt2Regex = {
  type: 'ByteLevel',
  add_prefix_space: false,
  trim_offsets: true,
  use_regex: true,
};
const splitThenByteLevel = (pattern: string) => ({
  type: 'Sequence',
  pretokenizers: [
    { type: 'Split', pattern: { Regex: pattern }, behavior: 'Isolated', invert: false },
    { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
  ],
});

const PRE_TOKENIZERS: Record<string, object> = {
  default: byteLevelWithGpt2Regex,
  gpt2: byteLevelWithGpt2Regex,
  smollm: {
    type: 'Sequence',
    pretokenizers: [{ type: 'Digits', individual_digits: true }, byteLevelWithGpt2Regex],
  },
  'llama-bpe': splitThenByteLevel(LLAMA3_SPLIT),
  qwen2: splitThenByteLevel(QWEN2_SPLIT),
};

export const SUPPORTED_PRE_TOKENIZERS = Object.keys(PRE_TOKENIZERS);

export interface TokenizerFiles {
  tokenizer: object;
  tokenizerConfig: object;
  bosTokenId: number;
  eosTokenId: number;
}

export function tokenizerFromGguf(
  metadata: Readonly<Record<string, MetadataValue>>,
  contextLength: number,
): TokenizerFiles {
  const model = metadata['tokenizer.ggml.model'];
  if (model !== 'gpt2') {
    throw new Error(
      `tokenizer.ggml.model "${String(model)}" is not supported; supported: "gpt2" (byte-level BPE)`,
    );
  }
  const pre = String(metadata['tokenizer.ggml.pre'] ?? 'default');
  const preTokenizer = PRE_TOKENIZERS[pre];
  if (!preTokenizer) {
    throw new Error(
      `tokenizer.ggml.pre "${pre}" is not supported; supported: ${SUPPORTED_PRE_TOKENIZERS.join(', ')}`,
    );
  }
  const tokens = stringArray(metadata, 'tokenizer.ggml.tokens');
  const merges = stringArray(metadata, 'tokenizer.ggml.merges');
  const types = metadata['tokenizer.ggml.token_type'];
  const typeOf = (id: number) => (Array.isArray(types) ? Number(types[id]) : 1);
  /** A special token's id, which must name a token of the vocabulary. */
  const id = (key: string) => {
    const v = metadata[`tokenizer.ggml.${key}`];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 0 || n >= tokens.length) {
      throw new Error(
        `tokenizer.ggml.${key} is ${String(v)}, but the vocabulary's ids run from 0 to ` +
          `${tokens.length - 1}: the GGUF is corrupt`,
      );
    }
    return n;
  };
  const bos = id('bos_token_id');
  const eos = id('eos_token_id');
  if (bos === undefined || eos === undefined) {
    throw new Error('the GGUF tokenizer lacks tokenizer.ggml.bos_token_id or eos_token_id');
  }
  const addBos = metadata['tokenizer.ggml.add_bos_token'] === true;

  const added = tokens.flatMap((content, i) => {
    const type = typeOf(i);
    if (type !== TOKEN_TYPE.CONTROL && type !== TOKEN_TYPE.USER_DEFINED) return [];
    const special = type === TOKEN_TYPE.CONTROL;
    return [
      {
        id: i,
        content,
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: false,
        special,
      },
    ];
  });

  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: preTokenizer,
    post_processor: addBos ? prependBos(bos, tokens[bos]!) : null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries(tokens.map((t, i) => [t, i])),
      merges: merges.map((m) => {
        const space = m.indexOf(' ');
        return [m.slice(0, space), m.slice(space + 1)];
      }),
    },
  };

  const name = (key: string) => {
    const i = id(key);
    return i === undefined ? undefined : tokens[i];
  };
  const tokenizerConfig = {
    add_bos_token: addBos,
    add_eos_token: false,
    bos_token: tokens[bos],
    eos_token: tokens[eos],
    unk_token: name('unknown_token_id') ?? null,
    pad_token: name('padding_token_id') ?? null,
    chat_template: metadata['tokenizer.chat_template'] ?? null,
    clean_up_tokenization_spaces: false,
    model_max_length: contextLength,
    tokenizer_class: 'GPT2Tokenizer',
    added_tokens_decoder: Object.fromEntries(added.map(({ id, ...rest }) => [String(id), rest])),
  };
  return { tokenizer, tokenizerConfig, bosTokenId: bos, eosTokenId: eos };
}

function stringArray(metadata: Readonly<Record<string, MetadataValue>>, key: string): string[] {
  const v = metadata[key];
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) {
    throw new Error(`the GGUF tokenizer lacks ${key} (an array of strings)`);
  }
  return v as string[];
}

function prependBos(id: number, token: string): object {
  const bos = { SpecialToken: { id: token, type_id: 0 } };
  return {
    type: 'TemplateProcessing',
    single: [bos, { Sequence: { id: 'A', type_id: 0 } }],
    pair: [bos, { Sequence: { id: 'A', type_id: 0 } }, bos, { Sequence: { id: 'B', type_id: 1 } }],
    special_tokens: { [token]: { id: token, ids: [id], tokens: [token] } },
  };
}
