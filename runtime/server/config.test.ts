import { expect } from 'chai';
import { ConfigError } from '../../common/runtime-env.ts';
import { readServerConfig } from './config.ts';

const problemsOf = (env: Record<string, string>): string[] => {
  try {
    readServerConfig(env);
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  expect.fail('the configuration was accepted');
};

describe('readServerConfig', () => {
  it('fills in the documented defaults around MODEL_PATH', () => {
    const config = readServerConfig({ MODEL_PATH: '/models/smol' });
    expect(config).to.deep.include({
      modelPath: '/models/smol',
      modelId: 'smol',
      maxTokens: 2048,
      contextLength: undefined,
      port: 18789,
      healthPort: 18790,
      executionProvider: 'auto',
      maxConcurrency: 16,
      maxQueue: 64,
      logLevel: 'info',
    });
    expect(config.conversationLog).to.deep.equal({
      enabled: true,
      dir: '/app/data/conversations',
      retentionMs: 720 * 3600_000,
      maxBytes: 10 * 1024 ** 3,
    });
  });

  it('reads what the operator writes into the ConfigMap', () => {
    const config = readServerConfig({
      MODEL_PATH: '/app/data/models/0123456789abcdef',
      MODEL_ID: 'support',
      MAX_TOKENS: '512',
      CONTEXT_LENGTH: '4096',
      PORT: '8080',
      HEALTH_PORT: '8081',
      EXECUTION_PROVIDER: 'cpu',
      MAX_CONCURRENCY: '4',
      MAX_QUEUE: '0',
      PREFILL_CHUNK_TOKENS: '64',
      LOG_LEVEL: 'debug',
      DATA_DIR: '/data',
      CONVERSATION_LOG: 'false',
      CONVERSATION_LOG_RETENTION: '48h',
      CONVERSATION_LOG_MAX_BYTES: '1048576',
    });
    expect(config).to.deep.include({
      modelId: 'support',
      maxTokens: 512,
      contextLength: 4096,
      port: 8080,
      healthPort: 8081,
      executionProvider: 'cpu',
      maxConcurrency: 4,
      maxQueue: 0,
      prefillChunkTokens: 64,
      logLevel: 'debug',
    });
    expect(config.conversationLog).to.deep.equal({
      enabled: false,
      dir: '/data/conversations',
      retentionMs: 48 * 3600_000,
      maxBytes: 1048576,
    });
  });

  it('accepts a quantity for the log size and treats blank values as unset', () => {
    const config = readServerConfig({
      MODEL_PATH: '/m',
      CONVERSATION_LOG_MAX_BYTES: '2Gi',
      PORT: '',
      MODEL_ID: '  ',
    });
    expect(config.conversationLog.maxBytes).to.equal(2 * 1024 ** 3);
    expect(config.port).to.equal(18789);
    expect(config.modelId).to.equal('m');
  });

  it('reports every invalid variable with what it accepts', () => {
    const problems = problemsOf({
      MAX_TOKENS: '0',
      PORT: '70000',
      HEALTH_PORT: 'http',
      EXECUTION_PROVIDER: 'gpu',
      MAX_CONCURRENCY: '1.5',
      MAX_QUEUE: '-1',
      PREFILL_CHUNK_TOKENS: '0',
      LOG_LEVEL: 'verbose',
      CONVERSATION_LOG: 'yes',
      CONVERSATION_LOG_RETENTION: '0s',
      CONVERSATION_LOG_MAX_BYTES: 'lots',
      DEFAULT_TEMPERATURE: '3',
      DEFAULT_TOP_P: 'high',
      DEFAULT_REPETITION_PENALTY: '0',
    });
    const expected = [
      /^MODEL_PATH is not set: set it to the folder of an ONNX model/,
      /^MAX_TOKENS="0": must be a whole number from 1 to 1048576$/,
      /^PORT="70000": must be a whole number from 0 to 65535$/,
      /^HEALTH_PORT="http": must be a whole number from 0 to 65535$/,
      /^EXECUTION_PROVIDER="gpu": must be one of auto, cuda, cpu$/,
      /^MAX_CONCURRENCY="1.5": must be a whole number from 1 to 1024$/,
      /^MAX_QUEUE="-1": must be a whole number from 0 to 100000$/,
      /^PREFILL_CHUNK_TOKENS="0": must be a whole number from 1 to 1048576$/,
      /^LOG_LEVEL="verbose": unknown log level "verbose": use one of debug, info, warn, error$/,
      /^DEFAULT_TEMPERATURE="3": must be a number from 0 to 2$/,
      /^DEFAULT_TOP_P="high": must be a number from 0 to 1$/,
      /^DEFAULT_REPETITION_PENALTY="0": must be a number above 0 and at most 2$/,
      /^CONVERSATION_LOG="yes": must be "true" or "false"$/,
      /^CONVERSATION_LOG_RETENTION="0s": must be a positive duration/,
      /^CONVERSATION_LOG_MAX_BYTES="lots": must be a positive byte count/,
    ];
    expect(problems).to.have.length(expected.length);
    expected.forEach((pattern, i) => expect(problems[i]).to.match(pattern));
  });

  it('reads the sampling defaults a model author recommends', () => {
    const config = readServerConfig({
      MODEL_PATH: '/m',
      DEFAULT_TEMPERATURE: '0.2',
      DEFAULT_TOP_P: '0.9',
      DEFAULT_REPETITION_PENALTY: '1.2',
    });
    expect(config.samplingDefaults).to.deep.equal({
      temperature: 0.2,
      topP: 0.9,
      repetitionPenalty: 1.2,
    });
    expect(readServerConfig({ MODEL_PATH: '/m' }).samplingDefaults).to.deep.equal({});
  });

  it('refuses one port for both listeners, and answers longer than the context', () => {
    expect(problemsOf({ MODEL_PATH: '/m', PORT: '9000', HEALTH_PORT: '9000' })).to.deep.equal([
      'PORT and HEALTH_PORT are both 9000: the chat API and the health endpoints need different ports',
    ]);
    expect(
      problemsOf({ MODEL_PATH: '/m', MAX_TOKENS: '4096', CONTEXT_LENGTH: '2048' }),
    ).to.deep.equal([
      'MAX_TOKENS=4096 is larger than CONTEXT_LENGTH=2048: an answer must fit the context',
    ]);
  });

  it('lets tests ask for free ports on both listeners', () => {
    const config = readServerConfig({ MODEL_PATH: '/m', PORT: '0', HEALTH_PORT: '0' });
    expect([config.port, config.healthPort]).to.deep.equal([0, 0]);
  });
});
