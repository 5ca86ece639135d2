// The body of POST /api/chat, the deployment guide's API:
//   {"messages": [{"role": "system"|"user"|"assistant", "content": "..."}],
//    "max_tokens"?, "temperature"?, "top_p"?, "top_k"?, "frequency_penalty"?, "presence_penalty"?,
//    "repetition_penalty"?, "stop"?, "seed"?, "stream"?}
// Unknown fields are refused: this API is ours, and a misspelt "max_token" silently ignored
// would be harder to notice than an error naming it.
import type { GenerationRequest } from '../engine/types.ts';
import {
  describeJson,
  invalid,
  maxTokensField,
  messagesField,
  optionalBoolean,
  requireObject,
  samplingFields,
} from './request-fields.ts';

export interface ChatCall {
  generation: Omit<GenerationRequest, 'signal'>;
  stream: boolean;
}

const fields = new Set([
  'messages',
  'max_tokens',
  'temperature',
  'top_p',
  'top_k',
  'frequency_penalty',
  'presence_penalty',
  'repetition_penalty',
  'stop',
  'seed',
  'stream',
]);

export function parseChatRequest(raw: unknown, limits: { maxTokens: number }): ChatCall {
  const body = requireObject(raw);
  const unknown = Object.keys(body).find((key) => !fields.has(key));
  if (unknown !== undefined) {
    throw invalid(
      unknown,
      `unknown field "${unknown}": /api/chat accepts ${[...fields].join(', ')}`,
      'unknown_parameter',
    );
  }
  const messages = messagesField(body, {
    roles: { system: 'system', user: 'user', assistant: 'assistant' },
    content: (value, param) => {
      if (typeof value !== 'string') {
        throw invalid(
          param,
          `${param} must be a string, not ${describeJson(value)}`,
          'invalid_type',
        );
      }
      return value;
    },
  });
  return {
    generation: {
      messages,
      maxTokens: maxTokensField(body, 'max_tokens', limits.maxTokens),
      ...samplingFields(body),
    },
    stream: optionalBoolean(body, 'stream') ?? false,
  };
}
