// The `serve` command's settings, read from the environment variables named in
// common/runtime-env.ts. Reading is a pure function of the environment so every rule is
// testable; all problems are reported together (a ConfigError), each naming its variable and what
// it accepts, because a pod that crash-loops on one typo at a time is slow to fix. The authentication
// variables (API_KEY, TOKEN_TTL, SIGNING_KEYS_DIR, API_KEYS_DIR, CHATBOT_NAME,
// CHATBOT_NAMESPACE) are read by runtime/auth/config.ts.
import { basename, join, resolve } from 'node:path';
import type { Level } from '../../common/log.ts';
import {
  ConfigError,
  type Environment,
  type ExecutionProviderChoice,
  readSetting,
  runtimeEnv,
  runtimeSettings as settings,
} from '../../common/runtime-env.ts';
import type { SamplingDefaults } from '../engine/types.ts';

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
  maxConnections: number;
  prefillChunkTokens: number;
  logLevel: Level;
  /** Overrides the model's own sampling defaults (generation_config.json) where set. */
  samplingDefaults: SamplingDefaults;
  conversationLog: ConversationLogConfig;
}

export function readServerConfig(env: Environment): ServerConfig {
  const problems: string[] = [];

  const modelPath = env[runtimeEnv.modelPath]?.trim();
  if (!modelPath) {
    problems.push(
      `${runtimeEnv.modelPath} is not set: set it to the folder of an ONNX model ` +
        '(`npm run runtime -- tiny-model <dir>` writes a small test model)',
    );
  }
  const modelDir = resolve(modelPath || '.');

  const config: ServerConfig = {
    modelPath: modelDir,
    // The operator always sets MODEL_ID; standalone, the folder's name is what a user recognises.
    modelId: readSetting(env, settings.modelId, problems) ?? (basename(modelDir) || 'model'),
    maxTokens: readSetting(env, settings.maxTokens, problems),
    contextLength: readSetting(env, settings.contextLength, problems),
    port: readSetting(env, settings.port, problems),
    healthPort: readSetting(env, settings.healthPort, problems),
    executionProvider: readSetting(env, settings.executionProvider, problems),
    maxConcurrency: readSetting(env, settings.maxConcurrency, problems),
    maxQueue: readSetting(env, settings.maxQueue, problems),
    maxConnections: readSetting(env, settings.maxConnections, problems),
    prefillChunkTokens: readSetting(env, settings.prefillChunkTokens, problems),
    logLevel: readSetting(env, settings.logLevel, problems),
    samplingDefaults: dropUndefined({
      temperature: readSetting(env, settings.defaultTemperature, problems),
      topP: readSetting(env, settings.defaultTopP, problems),
      topK: readSetting(env, settings.defaultTopK, problems),
      repetitionPenalty: readSetting(env, settings.defaultRepetitionPenalty, problems),
    }),
    conversationLog: {
      enabled: readSetting(env, settings.conversationLog, problems),
      dir:
        readSetting(env, settings.conversationLogDir, problems) ??
        join(readSetting(env, settings.dataDir, problems), 'conversations'),
      retentionMs: readSetting(env, settings.conversationLogRetention, problems),
      maxBytes: readSetting(env, settings.conversationLogMaxBytes, problems),
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

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
