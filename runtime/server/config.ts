// The `serve` command's settings, read from the environment variables named in
// common/runtime-env.ts. Reading is a pure function of the environment so every rule is
// testable; all problems are reported together, each naming its variable and what it accepts,
// because a pod that crash-loops on one typo at a time is slow to fix. The authentication
// variables (API_KEY, TOKEN_TTL, SIGNING_KEYS_DIR, API_KEYS_DIR, CHATBOT_NAME,
// CHATBOT_NAMESPACE) are read by runtime/auth/config.ts.
import { basename, join, resolve } from 'node:path';
import { parseDuration } from '../../common/duration.ts';
import { type Level, parseLevel } from '../../common/log.ts';
import { parseQuantity } from '../../common/quantity.ts';
import { runtimeDefaults, runtimeEnv } from '../../common/runtime-env.ts';
import type { SamplingDefaults } from '../engine/types.ts';

export type ExecutionProviderChoice = 'auto' | 'cuda' | 'cpu';

export interface ConversationLogConfig {
  enabled: boolean;
  dir: string;
  retentionMs: number;
  maxBytes: number;
}

export interface ServerConfig {
  modelPath: string;
  modelId: string;
  maxTokens: number;
  /** Undefined: the context length the model declares. */
  contextLength: number | undefined;
  port: number;
  healthPort: number;
  executionProvider: ExecutionProviderChoice;
  maxConcurrency: number;
  maxQueue: number;
  /** Undefined: the engine's default. */
  prefillChunkTokens: number | undefined;
  logLevel: Level;
  /** Overrides the model's own sampling defaults (generation_config.json) where set. */
  samplingDefaults: SamplingDefaults;
  conversationLog: ConversationLogConfig;
}

// The ChatBot CRD's defaults, so a standalone runtime behaves like a ChatBot left at defaults.
export const serverDefaults = {
  executionProvider: 'auto',
  maxConcurrency: 16,
  maxQueue: 64,
  conversationLogRetention: '720h',
  conversationLogMaxBytes: 10 * 1024 ** 3,
} as const;

const executionProviders: readonly ExecutionProviderChoice[] = ['auto', 'cuda', 'cpu'];

/** Every invalid variable, one line each. */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export type Environment = Readonly<Record<string, string | undefined>>;

export function readServerConfig(env: Environment): ServerConfig {
  const problems: string[] = [];
  // Empty counts as unset: a ConfigMap key left blank means "use the default".
  const text = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const check = <T>(name: string, parse: (value: string) => T, fallback: T): T => {
    const value = text(name);
    if (value === undefined) return fallback;
    try {
      return parse(value);
    } catch (error) {
      problems.push(`${name}=${JSON.stringify(value)}: ${(error as Error).message}`);
      return fallback;
    }
  };
  const integer = (min: number, max: number) => (value: string) => {
    const n = /^[0-9]+$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new Error(`must be a whole number from ${min} to ${max}`);
    }
    return n;
  };
  const port = integer(0, 65535);
  const decimal =
    (min: number, max: number, minExclusive = false) =>
    (value: string) => {
      const n = /^[0-9]*\.?[0-9]+$/.test(value) ? Number(value) : NaN;
      if (!((minExclusive ? n > min : n >= min) && n <= max)) {
        throw new Error(
          minExclusive
            ? `must be a number above ${min} and at most ${max}`
            : `must be a number from ${min} to ${max}`,
        );
      }
      return n;
    };

  const modelPath = text(runtimeEnv.modelPath);
  if (modelPath === undefined) {
    problems.push(
      `${runtimeEnv.modelPath} is not set: set it to the folder of an ONNX model ` +
        '(`npm run runtime -- tiny-model <dir>` writes a small test model)',
    );
  }
  const modelDir = resolve(modelPath ?? '.');

  const config: ServerConfig = {
    modelPath: modelDir,
    // The operator always sets MODEL_ID; standalone, the folder's name is what a user recognises.
    modelId: text(runtimeEnv.modelId) ?? (basename(modelDir) || 'model'),
    maxTokens: check(runtimeEnv.maxTokens, integer(1, 1 << 20), runtimeDefaults.maxTokens),
    contextLength: check(runtimeEnv.contextLength, integer(1, 1 << 20), undefined),
    port: check(runtimeEnv.port, port, runtimeDefaults.port),
    healthPort: check(runtimeEnv.healthPort, port, runtimeDefaults.healthPort),
    executionProvider: check(
      runtimeEnv.executionProvider,
      (value) => {
        if (!executionProviders.includes(value as ExecutionProviderChoice)) {
          throw new Error(`must be one of ${executionProviders.join(', ')}`);
        }
        return value as ExecutionProviderChoice;
      },
      serverDefaults.executionProvider,
    ),
    maxConcurrency: check(
      runtimeEnv.maxConcurrency,
      integer(1, 1024),
      serverDefaults.maxConcurrency,
    ),
    maxQueue: check(runtimeEnv.maxQueue, integer(0, 100_000), serverDefaults.maxQueue),
    prefillChunkTokens: check(runtimeEnv.prefillChunkTokens, integer(1, 1 << 20), undefined),
    logLevel: check(runtimeEnv.logLevel, (value) => parseLevel(value), 'info'),
    samplingDefaults: dropUndefined({
      temperature: check(runtimeEnv.defaultTemperature, decimal(0, 2), undefined),
      topP: check(runtimeEnv.defaultTopP, decimal(0, 1), undefined),
      topK: check(runtimeEnv.defaultTopK, integer(0, 1_000_000), undefined),
      repetitionPenalty: check(runtimeEnv.defaultRepetitionPenalty, decimal(0, 2, true), undefined),
    }),
    conversationLog: {
      enabled: check(runtimeEnv.conversationLog, boolean, true),
      dir:
        text(runtimeEnv.conversationLogDir) ??
        join(text(runtimeEnv.dataDir) ?? runtimeDefaults.dataDir, 'conversations'),
      retentionMs: check(
        runtimeEnv.conversationLogRetention,
        positiveDuration,
        parseDuration(serverDefaults.conversationLogRetention),
      ),
      maxBytes: check(
        runtimeEnv.conversationLogMaxBytes,
        byteCount,
        serverDefaults.conversationLogMaxBytes,
      ),
    },
  };

  if (config.port !== 0 && config.port === config.healthPort) {
    problems.push(
      `${runtimeEnv.port} and ${runtimeEnv.healthPort} are both ${config.port}: ` +
        'the chat API and the health endpoints need different ports',
    );
  }
  if (config.contextLength !== undefined && config.maxTokens > config.contextLength) {
    problems.push(
      `${runtimeEnv.maxTokens}=${config.maxTokens} is larger than ` +
        `${runtimeEnv.contextLength}=${config.contextLength}: an answer must fit the context`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

function positiveDuration(value: string): number {
  const ms = parseDuration(value);
  if (ms <= 0) throw new Error('must be a positive duration such as "24h" or "90m"');
  return ms;
}

function boolean(value: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new Error('must be "true" or "false"');
}

function byteCount(value: string): number {
  const bytes = parseQuantity(value);
  if (bytes === undefined || bytes <= 0 || !Number.isSafeInteger(bytes)) {
    throw new Error('must be a positive byte count such as "10737418240" or "10Gi"');
  }
  return bytes;
}

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
