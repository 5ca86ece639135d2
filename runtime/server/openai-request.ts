// The body of POST /v1/chat/completions, the part of OpenAI's API this server implements.
// Fields that would change the shape of the answer but cannot be honoured (several choices,
// tool calls, log probabilities, JSON modes) are refused with a message saying so; fields that
// only tune what OpenAI's own models do (logit_bias, user, metadata, ...) are ignored, as
// clients and SDKs send them routinely.
import { HttpError } from '../http-errors.ts';
import type { GenerationRequest } from '../engine/types.ts';
import {
  describeJson,
  invalid,
  type Json,
  maxTokensField,
  messagesField,
  optionalBoolean,
  requireObject,
  samplingFields,
  withoutNulls,
} from './request-fields.ts';

export interface CompletionCall {
  generation: Omit<GenerationRequest, 'signal'>;
  stream: boolean;
  /** stream_options.include_usage: a last chunk carrying the usage. */
  includeUsage: boolean;
}

export function parseCompletionRequest(
  raw: unknown,
  limits: { maxTokens: number; modelId: string },
): CompletionCall {
  const body = withoutNulls(requireObject(raw));
  checkModel(body.model, limits.modelId);
  refuseUnsupported(body);

  const messages = messagesField(body, {
    roles: { system: 'system', developer: 'system', user: 'user', assistant: 'assistant' },
    refusedRoles: {
      tool: 'this server does not call tools',
      function: 'this server does not call functions',
    },
    content: textContent,
  });

  const maxTokens = maxTokensField(body, 'max_tokens', limits.maxTokens);
  const maxCompletionTokens = maxTokensField(body, 'max_completion_tokens', limits.maxTokens);
  if (
    maxTokens !== undefined &&
    maxCompletionTokens !== undefined &&
    maxTokens !== maxCompletionTokens
  ) {
    throw invalid(
      'max_completion_tokens',
      'max_tokens and max_completion_tokens differ: send only max_completion_tokens',
    );
  }

  const stream = optionalBoolean(body, 'stream') ?? false;
  const options = body.stream_options;
  let includeUsage = false;
  if (options !== undefined) {
    if (!stream) {
      throw invalid('stream_options', 'stream_options is only allowed when stream is true');
    }
    if (typeof options !== 'object' || Array.isArray(options)) {
      throw invalid(
        'stream_options',
        `stream_options must be an object, not ${describeJson(options)}`,
        'invalid_type',
      );
    }
    includeUsage = optionalBoolean(withoutNulls(options as Json), 'include_usage') ?? false;
  }

  return {
    generation: { messages, maxTokens: maxCompletionTokens ?? maxTokens, ...samplingFields(body) },
    stream,
    includeUsage,
  };
}

function checkModel(model: unknown, modelId: string): void {
  if (model === undefined) {
    throw invalid(
      'model',
      `model is required: this server serves "${modelId}"`,
      'missing_required_parameter',
    );
  }
  if (typeof model !== 'string') {
    throw invalid('model', `model must be a string, not ${describeJson(model)}`, 'invalid_type');
  }
  if (model !== modelId) {
    throw new HttpError(
      404,
      `the model "${model}" does not exist: this server serves "${modelId}" (see GET /v1/models)`,
      { param: 'model', code: 'model_not_found' },
    );
  }
}

function refuseUnsupported(body: Json): void {
  if (body.n !== undefined && body.n !== 1) {
    throw invalid(
      'n',
      `n must be 1, not ${JSON.stringify(body.n)}: this server returns one choice per request; ` +
        'send separate requests for more',
      'unsupported_value',
    );
  }
  for (const param of ['tools', 'functions'] as const) {
    const value = body[param];
    if (value !== undefined && !(Array.isArray(value) && value.length === 0)) {
      throw invalid(
        param,
        `${param} are not supported: this server does not call tools; leave out ${param}`,
        'unsupported_parameter',
      );
    }
  }
  if (body.logprobs === true || body.top_logprobs !== undefined) {
    const param = body.logprobs === true ? 'logprobs' : 'top_logprobs';
    throw invalid(
      param,
      `${param} is not supported: this server does not return log probabilities`,
      'unsupported_parameter',
    );
  }
  const format = body.response_format;
  if (format !== undefined && (format as Json | undefined)?.type !== 'text') {
    throw invalid(
      'response_format',
      'only response_format {"type": "text"} is supported: this server cannot constrain answers to JSON',
      'unsupported_parameter',
    );
  }
}

/** A message's content: a string, or text parts (their texts joined), as OpenAI accepts both. */
function textContent(value: unknown, param: string): string {
  if (typeof value === 'string') return value;
  if (!Array.isArray(value)) {
    throw invalid(
      param,
      `${param} must be a string or an array of text parts, not ${describeJson(value)}`,
      'invalid_type',
    );
  }
  return value
    .map((part: unknown, i) => {
      const { type, text } = (part ?? {}) as Json;
      if (type !== 'text' || typeof text !== 'string') {
        throw invalid(
          `${param}[${i}]`,
          `${param}[${i}] must be {"type": "text", "text": "..."}: this server reads text only`,
          type === 'text' ? 'invalid_type' : 'unsupported_parameter',
        );
      }
      return text;
    })
    .join('');
}
