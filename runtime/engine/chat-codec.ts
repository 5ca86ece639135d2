// Text ↔ tokens for chat: the model's chat template (Jinja, from its tokenizer config) renders the
// conversation, and its tokenizer.json turns that into ids and generated ids back into text.
import { Template } from '@huggingface/jinja';
import { Tokenizer } from '@huggingface/tokenizers';
import type { ModelFolder } from './model-folder.ts';
import { UnsupportedModelError } from './model-io.ts';
import type { ChatMessage } from './types.ts';

export interface ChatCodec {
  /** The prompt for a conversation, ending where the assistant's reply begins. */
  encodeChat(messages: readonly ChatMessage[]): number[];
  decode(ids: readonly number[]): string;
  /** Every id that ends a generation: the configs' eos ids and the eos token's own id. */
  eosTokenIds: number[];
}

/** The chat template refused the conversation (its raise_exception), e.g. roles out of order. */
export class ChatTemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChatTemplateError';
  }
}

export function createChatCodec(
  model: Pick<
    ModelFolder,
    'tokenizerJson' | 'tokenizerConfig' | 'chatTemplate' | 'bosToken' | 'eosToken' | 'eosTokenIds'
  >,
): ChatCodec {
  let tokenizer: Tokenizer;
  let template: Template;
  try {
    tokenizer = new Tokenizer(model.tokenizerJson, model.tokenizerConfig);
  } catch (error) {
    throw new UnsupportedModelError(`tokenizer.json cannot be loaded: ${(error as Error).message}`);
  }
  try {
    template = new Template(model.chatTemplate);
  } catch (error) {
    throw new UnsupportedModelError(
      `the chat template cannot be parsed: ${(error as Error).message}`,
    );
  }

  const eosTokenIds = new Set(model.eosTokenIds);
  const eosId = model.eosToken === undefined ? undefined : tokenizer.token_to_id(model.eosToken);
  if (eosId !== undefined) eosTokenIds.add(eosId);
  if (eosTokenIds.size === 0) {
    throw new UnsupportedModelError(
      'the model declares no end-of-sequence token (eos_token_id in config.json or generation_config.json, or eos_token in tokenizer_config.json)',
    );
  }

  return {
    encodeChat(messages) {
      let prompt: string;
      try {
        prompt = template.render({
          messages,
          bos_token: model.bosToken ?? '',
          eos_token: model.eosToken ?? '',
          add_generation_prompt: true,
        });
      } catch (error) {
        throw new ChatTemplateError(
          `the model's chat template rejected the conversation: ${(error as Error).message}`,
        );
      }
      // The template already wrote any special tokens the model expects (as transformers'
      // apply_chat_template does), so the tokenizer must not add its own.
      return tokenizer.encode(prompt, { add_special_tokens: false }).ids;
    },
    decode: (ids) =>
      tokenizer.decode([...ids], {
        skip_special_tokens: true,
        clean_up_tokenization_spaces: false,
      }),
    eosTokenIds: [...eosTokenIds],
  };
}
