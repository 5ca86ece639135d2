// The contract between the HTTP layer (runtime/server) and the inference engine (runtime/engine).
// The server validates requests and turns these results and errors into HTTP; the engine knows
// nothing about HTTP.

export type Role = 'system' | 'user' | 'assistant';

export interface ChatMessage {
  role: Role;
  content: string;
}

export interface GenerationRequest {
  messages: ChatMessage[];
  /** Upper bound on generated tokens; the engine also caps it at MAX_TOKENS. */
  maxTokens?: number;
  /** 0 means greedy. */
  temperature?: number;
  topP?: number;
  topK?: number;
  /** Hugging Face's: above 1, tokens already in the prompt or answer become less likely. */
  repetitionPenalty?: number;
  /** OpenAI's: -2 to 2, subtracted per repetition of a generated token. */
  frequencyPenalty?: number;
  /** OpenAI's: -2 to 2, subtracted once for each token the answer already holds. */
  presencePenalty?: number;
  /** Generation stops before any of these strings; they are not part of the output. */
  stop?: string[];
  /** Makes sampling reproducible for the same request. */
  seed?: number;
  /** Aborting stops the generation at the next step and frees its batch slot. */
  signal?: AbortSignal;
}

/**
 * Sampling for requests that choose none, from the runtime's environment or the model folder.
 * OpenAI's penalties have no default: they are a request's own choice, off unless asked for.
 */
export interface SamplingDefaults {
  temperature?: number;
  topP?: number;
  topK?: number;
  repetitionPenalty?: number;
}

export type FinishReason = 'stop' | 'length' | 'cancelled';

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  /** Prompt tokens served from the prefix cache (OpenAI's prompt_tokens_details.cached_tokens). */
  cachedPromptTokens?: number;
}

/** One piece of streamed output: text that is final (never retracted by a later stop match). */
export interface TextDelta {
  text: string;
}

export interface GenerationResult {
  text: string;
  finishReason: FinishReason;
  usage: Usage;
  /** Milliseconds from admission to the first generated token. */
  timeToFirstTokenMs: number;
}

export interface Generation {
  /** Text deltas as they become final. */
  deltas: AsyncIterable<TextDelta>;
  /** Resolves when generation ends (also when nobody consumes `deltas`). */
  result: Promise<GenerationResult>;
}

export interface ModelInfo {
  /** The name clients use (`model` in OpenAI requests, /v1/models). */
  id: string;
  contextLength: number;
  maxTokens: number;
  executionProvider: 'cuda' | 'cpu';
}

/** What ended the inference worker before a restart: an uncaught error, an exit, a failed load. */
export type RestartReason = 'crash' | 'exit' | 'load_failed';

export type EngineStatus =
  | { state: 'serving' }
  /** The inference worker was lost; `reason` says how, and when the engine tries again. */
  | { state: 'restarting'; reason: string }
  | { state: 'closed' };

export interface Engine {
  readonly info: ModelInfo;
  /** Queues a generation; rejects at once with an EngineError when it cannot be admitted. */
  generate(request: GenerationRequest): Promise<Generation>;
  /** Requests waiting for a batch slot, and sequences in the running batch. */
  load(): { queued: number; running: number };
  status(): EngineStatus;
  /** Restarts of the inference worker so far (each reload attempt counts), by reason. */
  restarts(): Readonly<Record<RestartReason, number>>;
  close(): Promise<void>;
}

export type EngineErrorCode =
  /** The prompt (plus requested tokens) does not fit the model's context: HTTP 400. */
  | 'context_length_exceeded'
  /** The model's chat template refused the conversation (e.g. roles out of order): HTTP 400. */
  | 'invalid_request'
  /** The wait queue is full: HTTP 429 with Retry-After. */
  | 'queue_full'
  /** Not ready, restarting its inference worker, or shutting down: HTTP 503 with Retry-After. */
  | 'unavailable'
  /** The accelerator ran out of memory for this request: HTTP 503 with Retry-After. */
  | 'out_of_memory'
  /** Anything else: HTTP 500. */
  | 'internal';

export class EngineError extends Error {
  readonly code: EngineErrorCode;
  /** Seconds a client should wait before retrying, when retrying makes sense. */
  readonly retryAfterSeconds: number | undefined;

  constructor(code: EngineErrorCode, message: string, retryAfterSeconds?: number) {
    super(message);
    this.name = 'EngineError';
    this.code = code;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
