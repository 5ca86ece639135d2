// Readers for the fields both chat APIs share. Each returns the typed value or throws a 400
// HttpError whose `param` names the field and whose message says what the field accepts, so
// a client sees exactly which part of its request to fix.
import { HttpError } from '../http-errors.ts';
import type { ChatMessage, Role } from '../engine/types.ts';

export type Json = Record<string, unknown>;

export function invalid(param: string, message: string, code = 'invalid_value'): HttpError {
  return new HttpError(400, message, { param, code });
}

export function describeJson(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

export function requireObject(body: unknown): Json {
  // express.json() leaves the body undefined when Content-Type is not JSON.
  if (body === undefined) {
    throw new HttpError(
      400,
      'the request has no JSON body: send a JSON object with Content-Type: application/json',
      { code: 'invalid_type' },
    );
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(
      400,
      `the request body must be a JSON object (with Content-Type: application/json), not ${describeJson(body)}`,
      { code: 'invalid_type' },
    );
  }
  return body as Json;
}

export function optionalBoolean(body: Json, param: string): boolean | undefined {
  const value = body[param];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') {
    throw invalid(
      param,
      `${param} must be true or false, not ${describeJson(value)}`,
      'invalid_type',
    );
  }
  return value;
}

export function optionalNumber(
  body: Json,
  param: string,
  range: { min: number; max: number; minExclusive?: boolean },
): number | undefined {
  const value = body[param];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw invalid(param, `${param} must be a number, not ${describeJson(value)}`, 'invalid_type');
  }
  const tooLow = range.minExclusive ? value <= range.min : value < range.min;
  if (tooLow || value > range.max) {
    const lower = range.minExclusive ? `greater than ${range.min}` : `at least ${range.min}`;
    throw invalid(param, `${param} must be ${lower} and at most ${range.max}, not ${value}`);
  }
  return value;
}

export function optionalInteger(
  body: Json,
  param: string,
  range: { min: number; max: number },
  why = '',
): number | undefined {
  const value = body[param];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw invalid(
      param,
      `${param} must be a whole number, not ${describeJson(value)}`,
      'invalid_type',
    );
  }
  if (value < range.min || value > range.max) {
    throw invalid(
      param,
      `${param} must be from ${range.min} to ${range.max}${why}, not ${value}`,
      'invalid_value',
    );
  }
  return value;
}

// OpenAI accepts at most 4 stop sequences; the same limit keeps the stop matcher cheap.
const MAX_STOP_SEQUENCES = 4;

/** `stop`: one string or a list of them; none may be empty (an empty one would stop at once). */
export function optionalStop(body: Json, param = 'stop'): string[] | undefined {
  const value = body[param];
  if (value === undefined) return undefined;
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.some((s) => typeof s !== 'string')) {
    throw invalid(param, `${param} must be a string or an array of strings`, 'invalid_type');
  }
  if (list.length > MAX_STOP_SEQUENCES) {
    throw invalid(
      param,
      `${param} may hold at most ${MAX_STOP_SEQUENCES} sequences, not ${list.length}`,
    );
  }
  if (list.some((s) => s === '')) {
    throw invalid(param, `${param} sequences must not be empty strings`);
  }
  return list as string[];
}

/** The sampling fields both APIs accept, with the same names and ranges OpenAI uses. */
export function samplingFields(body: Json) {
  return {
    temperature: optionalNumber(body, 'temperature', { min: 0, max: 2 }),
    topP: optionalNumber(body, 'top_p', { min: 0, max: 1, minExclusive: true }),
    topK: optionalInteger(body, 'top_k', { min: 0, max: 1_000_000 }, ' (0 turns it off)'),
    frequencyPenalty: optionalNumber(body, 'frequency_penalty', { min: -2, max: 2 }),
    presencePenalty: optionalNumber(body, 'presence_penalty', { min: -2, max: 2 }),
    // Not OpenAI's, but vLLM's and llama.cpp's name for Hugging Face's penalty.
    repetitionPenalty: optionalNumber(body, 'repetition_penalty', {
      min: 0,
      max: 2,
      minExclusive: true,
    }),
    stop: optionalStop(body),
    seed: optionalInteger(body, 'seed', {
      min: Number.MIN_SAFE_INTEGER,
      max: Number.MAX_SAFE_INTEGER,
    }),
  };
}

/** `max_tokens` (or its OpenAI alias): 1 to MAX_TOKENS. */
export function maxTokensField(body: Json, param: string, maxTokens: number): number | undefined {
  return optionalInteger(
    body,
    param,
    { min: 1, max: maxTokens },
    ` (this server answers with at most ${maxTokens} tokens: MAX_TOKENS)`,
  );
}

/** Drops fields set to null: many clients send `"stop": null` to mean "not set". */
export function withoutNulls(body: Json): Json {
  return Object.fromEntries(Object.entries(body).filter(([, value]) => value !== null));
}

export interface MessageRules {
  /** Accepted roles, and the engine role each one becomes. */
  roles: Readonly<Record<string, Role>>;
  /** Why this server cannot serve a role the API knows (e.g. OpenAI's "tool"). */
  refusedRoles?: Readonly<Record<string, string>>;
  /** The text of a message's `content`, or a thrown HttpError naming `param`. */
  content: (value: unknown, param: string) => string;
}

export function messagesField(body: Json, rules: MessageRules): ChatMessage[] {
  const value = body.messages;
  if (value === undefined) {
    throw invalid(
      'messages',
      'messages is required: send [{"role": "user", "content": "..."}]',
      'missing_required_parameter',
    );
  }
  if (!Array.isArray(value)) {
    throw invalid(
      'messages',
      `messages must be an array, not ${describeJson(value)}`,
      'invalid_type',
    );
  }
  if (value.length === 0) {
    throw invalid('messages', 'messages must hold at least one message');
  }
  return value.map((message: unknown, i) => {
    const param = `messages[${i}]`;
    if (typeof message !== 'object' || message === null || Array.isArray(message)) {
      throw invalid(
        param,
        `${param} must be an object with role and content, not ${describeJson(message)}`,
        'invalid_type',
      );
    }
    const { role, content } = message as Json;
    const engineRole = ownValue(rules.roles, role);
    if (engineRole === undefined) {
      const known = Object.keys(rules.roles);
      const reason = ownValue(rules.refusedRoles, role);
      throw invalid(
        `${param}.role`,
        reason
          ? `${param}.role "${String(role)}" is not supported: ${reason}`
          : `${param}.role must be one of ${known.map((r) => `"${r}"`).join(', ')}, not ${typeof role === 'string' ? `"${role}"` : describeJson(role)}`,
      );
    }
    return { role: engineRole, content: rules.content(content, `${param}.content`) };
  });
}

/** record[key] for a key of its own: "constructor" or "toString" is in every object, no role. */
function ownValue<T>(record: Readonly<Record<string, T>> | undefined, key: unknown): T | undefined {
  return typeof key === 'string' && record !== undefined && Object.hasOwn(record, key)
    ? record[key]
    : undefined;
}
