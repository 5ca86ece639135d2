// The tiny model's vocabulary: ChatML special tokens, the 256 byte tokens of byte-level BPE, and
// a handful of English merges so that tokenization exercises merging.
import { BYTE_TO_CHAR, byteLevel } from '../tokenizer/byte-level.ts';

export const SPECIAL_TOKENS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'];
export const BOS_TOKEN_ID = 1;
export const EOS_TOKEN_ID = 2;

// Each merge joins two tokens that exist by the time it applies.
const MERGES: readonly [string, string][] = [
  [' ', 't'],
  ['h', 'e'],
  [' ', 'a'],
  ['i', 'n'],
  ['e', 'r'],
  ['a', 'n'],
  ['o', 'n'],
  [' t', 'he'],
  ['r', 'e'],
  ['o', 'u'],
  ['a', 't'],
  ['e', 'n'],
  ['i', 's'],
  [' ', 's'],
  ['o', 'r'],
  ['e', 's'],
  [' ', 'w'],
  ['i', 't'],
  ['n', 'd'],
  [' a', 'nd'],
];

export const CHATML_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

export interface Vocabulary {
  tokens: string[];
  /** GGUF token types: 3 control, 1 normal. */
  tokenTypes: number[];
  /** "left right" in byte-level spelling. */
  merges: string[];
}

export function tinyVocabulary(): Vocabulary {
  const merged = MERGES.map(([a, b]) => byteLevel(a + b));
  const tokens = [...SPECIAL_TOKENS, ...BYTE_TO_CHAR, ...merged];
  return {
    tokens,
    tokenTypes: tokens.map((_, i) => (i < SPECIAL_TOKENS.length ? 3 : 1)),
    merges: MERGES.map(([a, b]) => `${byteLevel(a)} ${byteLevel(b)}`),
  };
}
