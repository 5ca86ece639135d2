// The runtime's configuration, by environment variable: the contract between the operator (which
// writes these into each ChatBot's ConfigMap) and the runtime (which reads them). The deployment
// guide's variables (MODEL_PATH, API_KEY, MAX_TOKENS, PORT) keep their names.
//
// This table is the one home of each setting's default: the ChatBot and ApiKey CRDs take their
// defaults from it, and so do the server, the engine and the auth layer, so a standalone runtime
// behaves like a ChatBot left at its defaults (operator/chatbot/desired-config.test.ts checks it).
import { parseLevel } from './log.ts';
import {
  anyText,
  boolean,
  byteCount,
  decimal,
  durationAtLeast,
  integer,
  oneOf,
  type ParseText,
  positiveDuration,
} from './env-text.ts';

type DefaultText = string | number | boolean;

export interface RuntimeSetting<T, D extends DefaultText | undefined = DefaultText | undefined> {
  /** The environment variable. */
  readonly env: string;
  readonly doc: string;
  readonly parse: ParseText<T>;
  /** As a ChatBot spec (and so the ConfigMap) writes it; undefined: unset unless configured. */
  readonly default: D;
}

function setting<T, const D extends DefaultText | undefined = undefined>(
  env: string,
  doc: string,
  parse: ParseText<T>,
  defaultText?: D,
): RuntimeSetting<T, D> {
  return { env, doc, parse, default: defaultText as D };
}

const port = integer(0, 65535);
const tokens = integer(1, 1 << 20);

export const executionProviders = ['auto', 'cuda', 'cpu'] as const;
/** auto: CUDA when the runtime finds it, else the CPU; cuda: CUDA or fail; cpu: never a GPU. */
export type ExecutionProviderChoice = (typeof executionProviders)[number];

export const runtimeSettings = {
  modelPath: setting('MODEL_PATH', 'Folder of the ONNX model (either supported layout).', anyText),
  modelId: setting('MODEL_ID', 'Name served in /v1/models and accepted as "model".', anyText),
  maxTokens: setting('MAX_TOKENS', 'Most tokens one answer may have.', tokens, 2048),
  contextLength: setting(
    'CONTEXT_LENGTH',
    'Context window override, in tokens; default: what the model declares.',
    tokens,
  ),
  port: setting('PORT', 'Chat API port.', port, 18789),
  healthPort: setting(
    'HEALTH_PORT',
    '/livez, /readyz and /metrics, without authentication.',
    port,
    18790,
  ),
  executionProvider: setting(
    'EXECUTION_PROVIDER',
    'auto | cuda | cpu',
    oneOf(executionProviders),
    'auto',
  ),
  maxConcurrency: setting(
    'MAX_CONCURRENCY',
    'Most sequences decoded together.',
    integer(1, 1024),
    16,
  ),
  maxQueue: setting(
    'MAX_QUEUE',
    'Most requests waiting for a batch slot (beyond: 429).',
    integer(0, 100_000),
    64,
  ),
  maxConnections: setting(
    'MAX_CONNECTIONS',
    'Most open connections to the chat port (idle keep-alive ones included); beyond, refused.',
    integer(1, 1_000_000),
    4096,
  ),
  // How the default was chosen: runtime/README.md and `npm run bench:prefill`.
  prefillChunkTokens: setting(
    'PREFILL_CHUNK_TOKENS',
    'Prompt tokens prefilled per step: lower for steadier streams, higher for a sooner first token.',
    tokens,
    128,
  ),
  logLevel: setting('LOG_LEVEL', 'debug | info | warn | error', (text) => parseLevel(text), 'info'),
  // Sampling for requests that do not choose their own: the model author's recommendation, when
  // the model folder's generation_config.json does not carry it (a GGUF import cannot know it).
  defaultTemperature: setting('DEFAULT_TEMPERATURE', 'Sampling temperature.', decimal(0, 2)),
  defaultTopP: setting('DEFAULT_TOP_P', 'Nucleus sampling mass.', decimal(0, 1)),
  defaultTopK: setting('DEFAULT_TOP_K', 'Top-k sampling; 0: off.', integer(0, 1_000_000)),
  defaultRepetitionPenalty: setting(
    'DEFAULT_REPETITION_PENALTY',
    'Above 1 (1.1 to 1.3 is usual), small models stop repeating themselves.',
    decimal(0, 2, true),
  ),
  apiKey: setting('API_KEY', 'Standalone mode: this key is accepted at /api/auth.', anyText),
  rateLimitRpm: setting(
    'RATE_LIMIT_RPM',
    "Standalone mode: the key's requests per minute (an ApiKey's requestsPerMinute otherwise).",
    integer(1, 10_000_000),
    1000,
  ),
  tokenTTL: setting(
    'TOKEN_TTL',
    'Lifetime of tokens from /api/auth, a duration ("24h").',
    durationAtLeast(1000),
    '24h',
  ),
  signingKeysDir: setting(
    'SIGNING_KEYS_DIR',
    'Mounted Secret with signing-keys.json and apikey-pepper.',
    anyText,
  ),
  apiKeysDir: setting(
    'API_KEYS_DIR',
    'Mounted Secret with one <apikey>.json verifier file per ApiKey.',
    anyText,
  ),
  dataDir: setting(
    'DATA_DIR',
    'Writable data volume (models, conversation logs).',
    anyText,
    '/app/data',
  ),
  conversationLog: setting(
    'CONVERSATION_LOG',
    'Write conversation logs: true | false.',
    boolean,
    true,
  ),
  conversationLogDir: setting(
    'CONVERSATION_LOG_DIR',
    'Folder of the conversation logs; default: conversations/ in DATA_DIR.',
    anyText,
  ),
  conversationLogRetention: setting(
    'CONVERSATION_LOG_RETENTION',
    'Delete log files older than this duration ("720h").',
    positiveDuration,
    '720h',
  ),
  conversationLogMaxBytes: setting(
    'CONVERSATION_LOG_MAX_BYTES',
    'Delete the oldest log files once all of them exceed this many bytes ("10Gi").',
    byteCount,
    '10Gi',
  ),
  chatBotName: setting(
    'CHATBOT_NAME',
    'The ChatBot this runtime serves (token audience, metric labels).',
    anyText,
  ),
  chatBotNamespace: setting('CHATBOT_NAMESPACE', "The ChatBot's namespace.", anyText),
} as const;

type Settings = typeof runtimeSettings;

/** The variables' names, by setting: `runtimeEnv.port` is "PORT". */
export const runtimeEnv = Object.fromEntries(
  Object.entries(runtimeSettings).map(([key, s]) => [key, s.env]),
) as { readonly [K in keyof Settings]: string };

/** A setting's default, read as the runtime reads the variable. */
export function defaultOf<T>(s: RuntimeSetting<T, DefaultText>): T {
  return s.parse(String(s.default));
}

export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Reads one setting: empty counts as unset (a ConfigMap key left blank means "use the default"),
 * and a value the setting refuses is added to `problems` (naming the variable and what it
 * accepts) and replaced by the default, so one pass reports every problem.
 */
export function readSetting<T>(
  env: Environment,
  s: RuntimeSetting<T, DefaultText>,
  problems: string[],
): T;
export function readSetting<T>(
  env: Environment,
  s: RuntimeSetting<T, undefined>,
  problems: string[],
): T | undefined;
export function readSetting<T>(
  env: Environment,
  s: RuntimeSetting<T>,
  problems: string[],
): T | undefined {
  const fallback = () => (s.default === undefined ? undefined : s.parse(String(s.default)));
  const text = env[s.env]?.trim();
  if (text === undefined || text === '') return fallback();
  try {
    return s.parse(text);
  } catch (error) {
    problems.push(`${s.env}=${JSON.stringify(text)}: ${(error as Error).message}`);
    return fallback();
  }
}

/** Every invalid variable, one line each. */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

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
