// The runtime's configuration, by environment variable: the contract between the operator (which
// writes these into each ChatBot's ConfigMap) and the runtime (which reads them). The deployment
// guide's variables (MODEL_PATH, API_KEY, MAX_TOKENS, PORT) keep their names.

export const runtimeEnv = {
  /** Folder of the ONNX model (either supported layout). */
  modelPath: 'MODEL_PATH',
  /** Name served in /v1/models and accepted as "model". */
  modelId: 'MODEL_ID',
  /** Most tokens one answer may have. */
  maxTokens: 'MAX_TOKENS',
  /** Context window override, in tokens; default: what the model declares. */
  contextLength: 'CONTEXT_LENGTH',
  /** Chat API port. */
  port: 'PORT',
  /** /livez, /readyz and /metrics, without authentication. */
  healthPort: 'HEALTH_PORT',
  /** auto | cuda | cpu */
  executionProvider: 'EXECUTION_PROVIDER',
  /** Most sequences decoded together. */
  maxConcurrency: 'MAX_CONCURRENCY',
  /** Most requests waiting for a batch slot (beyond: 429). */
  maxQueue: 'MAX_QUEUE',
  /** Prompt tokens prefilled per step: lower for steadier streams, higher for a sooner first token. */
  prefillChunkTokens: 'PREFILL_CHUNK_TOKENS',
  logLevel: 'LOG_LEVEL',
  /**
   * Sampling for requests that do not choose their own: the model author's recommendation, when
   * the model folder's generation_config.json does not carry it (a GGUF import cannot know it).
   */
  defaultTemperature: 'DEFAULT_TEMPERATURE',
  defaultTopP: 'DEFAULT_TOP_P',
  defaultTopK: 'DEFAULT_TOP_K',
  /** Above 1 (1.1 to 1.3 is usual), small models stop repeating themselves. */
  defaultRepetitionPenalty: 'DEFAULT_REPETITION_PENALTY',
  /** Standalone mode: this key is accepted at /api/auth. */
  apiKey: 'API_KEY',
  /** Lifetime of tokens from /api/auth, a duration ("24h"). */
  tokenTTL: 'TOKEN_TTL',
  /** Mounted Secret with signing-keys.json and apikey-pepper. */
  signingKeysDir: 'SIGNING_KEYS_DIR',
  /** Mounted Secret with one <apikey>.json verifier file per ApiKey. */
  apiKeysDir: 'API_KEYS_DIR',
  /** Writable data volume (models, conversation logs). */
  dataDir: 'DATA_DIR',
  /** "true" | "false" */
  conversationLog: 'CONVERSATION_LOG',
  conversationLogDir: 'CONVERSATION_LOG_DIR',
  /** A duration ("720h"). */
  conversationLogRetention: 'CONVERSATION_LOG_RETENTION',
  /** A byte count. */
  conversationLogMaxBytes: 'CONVERSATION_LOG_MAX_BYTES',
  /** The ChatBot this runtime serves (token audience, metric labels). */
  chatBotName: 'CHATBOT_NAME',
  chatBotNamespace: 'CHATBOT_NAMESPACE',
} as const;

export const runtimeDefaults = {
  port: 18789,
  healthPort: 18790,
  maxTokens: 2048,
  tokenTTL: '24h',
  dataDir: '/app/data',
} as const;

/** Where a ChatBot pod mounts things; the runtime image's layout. */
export const podPaths = {
  data: '/app/data',
  models: '/app/data/models',
  conversations: '/app/data/conversations',
  /** Read-only model from a PVC or an image volume. */
  modelSource: '/app/model',
  signingKeys: '/etc/clawbot/keys',
  apiKeys: '/etc/clawbot/apikeys',
} as const;
