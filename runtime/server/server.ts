// The runtime server as a whole: the chat listener on PORT, the health listener on HEALTH_PORT,
// the auth layer, the conversation log and, once the listeners are up, the engine. Separate
// steps (start, loadModel, stop) so the `serve` command can report each one's failure, and
// tests can look at the server while the model is still loading.
import type { Server } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { createLogger, type LoggerOptions } from '../../common/log.ts';
import { type Environment, runtimeEnv } from '../../common/runtime-env.ts';
import { createAuth } from '../auth/index.ts';
import { createEngine } from '../engine/engine.ts';
import type { Engine } from '../engine/types.ts';
import { createChatApp } from './chat-app.ts';
import type { ServerConfig } from './config.ts';
import { ConversationLog } from './conversation-log.ts';
import { createHealthApp } from './health-app.ts';
import { createLimitedServer } from './http-limits.ts';
import { InFlight } from './in-flight.ts';
import { listen } from './listen.ts';
import { createServerMetrics } from './metrics.ts';
import { ModelState } from './model-state.ts';

export interface RuntimeServerOptions {
  config: ServerConfig;
  /** Where the auth layer reads its variables (API_KEY, TOKEN_TTL, ...). */
  env: Environment;
  /** Where log lines go (stderr by default); the level comes from the config. */
  log?: Omit<LoggerOptions, 'level'>;
  /**
   * How long stop() lets requests in flight finish before cutting them. Default 25 s: inside
   * Kubernetes' default 30 s termination grace period.
   */
  drainTimeoutMs?: number;
}

export interface RuntimeServer {
  /** The ports bound (the chosen ones when the config said 0). */
  chatPort: number;
  healthPort: number;
  model: ModelState;
  registry: Registry;
  /** Loads the model; requests are served from then on. Rejects when the model cannot load. */
  loadModel(): Promise<Engine>;
  /** Graceful stop: not ready, no new connections, in-flight answers finish (bounded), engine closed. */
  stop(): Promise<void>;
}

const DEFAULT_DRAIN_TIMEOUT_MS = 25_000;
const HEALTH_MAX_CONNECTIONS = 256;

export async function startRuntimeServer(options: RuntimeServerOptions): Promise<RuntimeServer> {
  const { config } = options;
  const loggerFor = (component: string) =>
    createLogger(component, { ...options.log, level: config.logLevel });
  const logger = loggerFor('server');

  const registry = new Registry();
  const model = new ModelState(config.modelPath);
  const inFlight = new InFlight();
  const metrics = createServerMetrics(registry, {
    loadedEngine: () => model.loadedEngine(),
    inFlight,
  });
  const auth = await createAuth({ env: options.env, logger: loggerFor('auth'), registry });
  const conversationLog = config.conversationLog.enabled
    ? new ConversationLog({
        ...config.conversationLog,
        logger: loggerFor('conversation-log'),
        writeFailures: metrics.conversationLogWriteFailures,
      })
    : undefined;
  await conversationLog?.start();

  const context = {
    model,
    modelId: config.modelId,
    maxTokens: config.maxTokens,
    metrics,
    conversationLog,
    logger,
  };
  const chatServer = createLimitedServer(createChatApp({ context, auth, inFlight }), {
    maxConnections: config.maxConnections,
    onRefused: () => metrics.connectionsRefused.inc(),
    logger,
  });
  // Probes and scrapes only: a handful of clients, each with a short request.
  const healthServer = createLimitedServer(createHealthApp(model, registry), {
    maxConnections: HEALTH_MAX_CONNECTIONS,
  });

  let chatPort: number;
  let healthPort: number;
  try {
    healthPort = await listen(healthServer, config.healthPort, runtimeEnv.healthPort);
    chatPort = await listen(chatServer, config.port, runtimeEnv.port);
  } catch (error) {
    healthServer.close();
    auth.close();
    await conversationLog?.close();
    throw error;
  }
  logger.info('listening', { port: chatPort, healthPort, model: config.modelId });

  let loading: Promise<Engine> | undefined;
  let stopped: Promise<void> | undefined;

  async function loadModel(): Promise<Engine> {
    const started = performance.now();
    logger.info('loading the model', { modelPath: config.modelPath });
    const engine = await createEngine({
      modelPath: config.modelPath,
      modelId: config.modelId,
      maxTokens: config.maxTokens,
      executionProvider: config.executionProvider,
      maxConcurrency: config.maxConcurrency,
      maxQueue: config.maxQueue,
      prefillChunkTokens: config.prefillChunkTokens,
      contextLength: config.contextLength,
      samplingDefaults: config.samplingDefaults,
      logger: loggerFor('engine'),
    });
    if (stopped !== undefined) {
      await engine.close();
      throw new Error('the server stopped while the model was loading');
    }
    if (config.contextLength !== undefined && config.contextLength > engine.info.contextLength) {
      logger.warn(
        `${runtimeEnv.contextLength} is larger than the model's context; the model's is used`,
        {
          requested: config.contextLength,
          contextLength: engine.info.contextLength,
        },
      );
    }
    model.ready(engine);
    logger.info('ready', {
      model: engine.info.id,
      executionProvider: engine.info.executionProvider,
      loadSeconds: Math.round(performance.now() - started) / 1000,
    });
    return engine;
  }

  async function shutDown(): Promise<void> {
    const engine = model.loadedEngine();
    model.stopping();
    logger.info('stopping', { inFlight: inFlight.count });
    chatServer.close();
    chatServer.closeIdleConnections();
    const drainTimeoutMs = options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
    const drained = await Promise.race([
      inFlight.idle().then(() => true),
      delay(drainTimeoutMs, false, { ref: false }),
    ]);
    if (!drained) {
      logger.warn('cutting requests still in flight after the drain timeout', {
        inFlight: inFlight.count,
        drainTimeoutMs,
      });
    }
    chatServer.closeAllConnections();
    // A model still loading is closed as soon as it is loaded (see loadModel).
    await loading?.catch(() => undefined);
    await engine?.close();
    await conversationLog?.close();
    auth.close();
    await closeServer(healthServer);
    logger.info('stopped');
  }

  return {
    chatPort,
    healthPort,
    model,
    registry,
    loadModel: () => (loading ??= loadModel()),
    stop: () => (stopped ??= shutDown()),
  };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
