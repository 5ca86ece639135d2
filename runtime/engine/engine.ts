// The engine as the HTTP server sees it. The main thread does the text work (chat template,
// tokenizing, detokenizing, stop sequences) and admission; one worker thread runs the model.
//
// Why text stays here: tokenizing a prompt takes milliseconds of JavaScript that would otherwise
// sit between two decode steps of every running stream; here it overlaps with the worker's model
// run. Knowing the prompt's length here also lets generate() refuse a request that does not fit
// the context at once, without a round trip. Detokenizing and stop matching are per-request text
// concerns; the worker stays a loop of numbers and sampling (which needs the logits it holds).
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { createLogger } from '../../common/log.ts';
import {
  defaultOf,
  type ExecutionProviderChoice,
  runtimeSettings,
} from '../../common/runtime-env.ts';
import type { Logger } from '../../common/log.ts';
import { queueRetryAfterSeconds, tokensToGenerate } from './admission.ts';
import { ChatTemplateError, createChatCodec } from './chat-codec.ts';
import type { ChatCodec } from './chat-codec.ts';
import { GenerationStream } from './generation-stream.ts';
import { readModelFolder } from './model-folder.ts';
import type { ModelFolder } from './model-folder.ts';
import type { FromWorker, SequenceEvent, ToWorker, WorkerConfig, WorkerFault } from './protocol.ts';
import { randomSeed } from './random.ts';
import { restartDelayMs } from './restart-backoff.ts';
import type { SamplingParams } from './sampler.ts';
import { EngineError } from './types.ts';
import type {
  Engine,
  EngineStatus,
  Generation,
  GenerationRequest,
  ModelInfo,
  RestartReason,
  SamplingDefaults,
} from './types.ts';

export interface EngineOptions {
  /** The model folder (see model-folder.ts for the layouts). */
  modelPath: string;
  /** The name clients use; the folder's name by default. */
  modelId?: string;
  /** An ONNX variant of an onnx-community folder: `q4` for model_q4.onnx, or a file name. */
  modelVariant?: string;
  /** MAX_TOKENS: the most tokens one request may generate. */
  maxTokens?: number;
  /** Default 'auto': CUDA when available, else the CPU. */
  executionProvider?: ExecutionProviderChoice;
  /** Sequences decoded together. Default: MAX_CONCURRENCY's (common/runtime-env.ts). */
  maxConcurrency?: number;
  /** Requests waiting for a batch slot before new ones get 'queue_full'. */
  maxQueue?: number;
  /** Sampling for requests that set none, over the model's generation_config.json. */
  samplingDefaults?: SamplingDefaults;
  /**
   * CONTEXT_LENGTH: a smaller context window than the model's (prompt + answer, in tokens), to
   * bound the KV cache each sequence may grow. Larger values are capped at the model's own.
   */
  contextLength?: number;
  /**
   * Prompt tokens prefilled per step, shared by all prefilling requests. Every decoding stream
   * waits for the step's prefill too, so this bounds the worst gap between two tokens: its row in
   * runtime/README.md and `npm run bench:prefill` show how the default was chosen.
   */
  prefillChunkTokens?: number;
  /** Memory for the KV caches of finished sequences, reused by requests with the same prefix. Default 256 MiB; 0 disables. */
  prefixCacheBytes?: number;
  /** onnxruntime intra-op threads; 0 (default) lets onnxruntime choose. */
  threads?: number;
  /**
   * Let idle onnxruntime threads busy-wait for the next piece of work. Off by default: on cores
   * shared with other processes, or under a container CPU limit, spinning burns the CPU time the
   * model needs.
   */
  threadSpinning?: boolean;
  logger?: Logger;
}

// The knobs a ChatBot can set take their defaults from the runtime's settings table, so an engine
// created without options behaves like a ChatBot left at its defaults.
export const ENGINE_DEFAULTS = {
  maxTokens: defaultOf(runtimeSettings.maxTokens),
  executionProvider: defaultOf(runtimeSettings.executionProvider),
  maxConcurrency: defaultOf(runtimeSettings.maxConcurrency),
  maxQueue: defaultOf(runtimeSettings.maxQueue),
  prefillChunkTokens: defaultOf(runtimeSettings.prefillChunkTokens),
  prefixCacheBytes: 256 * 1024 * 1024,
  threads: 0,
  threadSpinning: false,
} as const;

/** Seconds a client is told to wait when the engine is shutting down or out of memory. */
const UNAVAILABLE_RETRY_SECONDS = 5;

export async function createEngine(options: EngineOptions): Promise<Engine> {
  const logger = options.logger ?? createLogger('engine');
  const settings = resolveOptions(options);
  const folder = await readModelFolder(options.modelPath, options.modelVariant);
  const model = {
    ...folder,
    samplingDefaults: { ...folder.samplingDefaults, ...options.samplingDefaults },
  };
  const codec = createChatCodec(model);
  const config: WorkerConfig = {
    onnxPath: model.onnxPath,
    executionProvider: settings.executionProvider,
    kvHints: model.kvHints,
    eosTokenIds: codec.eosTokenIds,
    maxConcurrency: settings.maxConcurrency,
    prefillChunkTokens: settings.prefillChunkTokens,
    prefixCacheBytes: settings.prefixCacheBytes,
    threads: settings.threads,
    threadSpinning: settings.threadSpinning,
  };
  // onnxruntime 1.30 uploads usage telemetry to Microsoft over HTTPS unless told not to; a chat
  // runtime sends nothing anywhere. Set here, in the main thread, because the native library
  // reads the process environment, which a worker's process.env does not change.
  process.env.ORT_DISABLE_TELEMETRY ??= '1';
  const started = performance.now();
  const { worker, ready: loaded } = startWorker(config, logger);
  const ready = await loaded.catch(async (error: unknown) => {
    await worker.terminate();
    throw error;
  });
  const loadMs = performance.now() - started;

  const info: ModelInfo = {
    id: options.modelId ?? basename(options.modelPath),
    contextLength: Math.min(model.contextLength, options.contextLength ?? model.contextLength),
    maxTokens: settings.maxTokens,
    executionProvider: ready.executionProvider,
  };
  logger.info('engine ready', {
    model: info.id,
    layout: model.layout,
    onnx: model.onnxPath,
    executionProvider: info.executionProvider,
    contextLength: info.contextLength,
    maxTokens: info.maxTokens,
    maxConcurrency: settings.maxConcurrency,
    maxQueue: settings.maxQueue,
    prefillChunkTokens: settings.prefillChunkTokens,
    prefixCacheBytes: settings.prefixCacheBytes,
  });
  return new WorkerEngine({ worker, loadMs, config, info, model, codec, settings, logger });
}

/**
 * For tests only: makes the engine's inference worker die the way `fault` says (see WorkerFault
 * in protocol.ts), so that tests can watch the engine recover without waiting for a real crash.
 * Nothing in the server calls it: neither a request nor the environment can reach it.
 */
export function injectWorkerFault(engine: Engine, fault: WorkerFault): void {
  if (!(engine instanceof WorkerEngine)) {
    throw new Error('injectWorkerFault needs an engine made by createEngine');
  }
  engine.injectFault(fault);
}

type Ready = Extract<FromWorker, { type: 'ready' }>;

/**
 * Starts an inference worker, which loads the model. `ready` rejects when it cannot: the worker
 * said why, threw, or exited first.
 */
function startWorker(
  config: WorkerConfig,
  logger: Logger,
): { worker: Worker; ready: Promise<Ready> } {
  const worker = new Worker(workerUrl(), { workerData: config });
  const ready = new Promise<Ready>((resolve, reject) => {
    const onMessage = (message: FromWorker) => {
      if (message.type === 'log') logger[message.level](message.msg, message.fields);
      if (message.type === 'load-failed')
        reject(new Error(`cannot load ${config.onnxPath}: ${message.message}`));
      if (message.type === 'ready') {
        worker.off('message', onMessage);
        resolve(message);
      }
    };
    worker.on('message', onMessage);
    // Both stay attached, doing nothing once `ready` has settled: a worker's 'error' that nobody
    // listens to is thrown in the main thread, ending the process.
    worker.on('error', reject);
    worker.on('exit', (code) =>
      reject(new Error(`the inference worker exited with code ${code} before the model loaded`)),
    );
  });
  return { worker, ready };
}

/** Lets the worker end its sequences and release the model before its thread is stopped. */
async function closeWorker(worker: Worker): Promise<void> {
  const closed = new Promise<void>((resolve) => {
    worker.on('message', (message: FromWorker) => message.type === 'closed' && resolve());
    worker.once('exit', () => resolve());
  });
  // A worker still loading the model reads this once it has loaded it.
  worker.postMessage({ type: 'close' } satisfies ToWorker);
  await closed;
  await worker.terminate();
}

type Settings = Required<
  Omit<
    EngineOptions,
    'modelPath' | 'modelId' | 'modelVariant' | 'logger' | 'contextLength' | 'samplingDefaults'
  >
>;

function resolveOptions(options: EngineOptions): Settings {
  const settings = {
    maxTokens: options.maxTokens ?? ENGINE_DEFAULTS.maxTokens,
    executionProvider: options.executionProvider ?? ENGINE_DEFAULTS.executionProvider,
    maxConcurrency: options.maxConcurrency ?? ENGINE_DEFAULTS.maxConcurrency,
    maxQueue: options.maxQueue ?? ENGINE_DEFAULTS.maxQueue,
    prefillChunkTokens: options.prefillChunkTokens ?? ENGINE_DEFAULTS.prefillChunkTokens,
    prefixCacheBytes: options.prefixCacheBytes ?? ENGINE_DEFAULTS.prefixCacheBytes,
    threads: options.threads ?? ENGINE_DEFAULTS.threads,
    threadSpinning: options.threadSpinning ?? ENGINE_DEFAULTS.threadSpinning,
  };
  const positive = ['maxTokens', 'maxConcurrency', 'prefillChunkTokens'] as const;
  for (const name of positive) {
    if (!Number.isInteger(settings[name]) || settings[name] < 1) {
      throw new Error(`engine option ${name} must be a positive integer, got ${settings[name]}`);
    }
  }
  for (const name of ['maxQueue', 'prefixCacheBytes', 'threads'] as const) {
    if (!Number.isInteger(settings[name]) || settings[name] < 0) {
      throw new Error(
        `engine option ${name} must be a non-negative integer, got ${settings[name]}`,
      );
    }
  }
  if (!['auto', 'cuda', 'cpu'].includes(settings.executionProvider)) {
    throw new Error(
      `engine option executionProvider must be 'auto', 'cuda' or 'cpu', got '${settings.executionProvider}'`,
    );
  }
  return settings;
}

/** The worker module next to this one: .ts when run from source, .js when built into dist/. */
function workerUrl(): URL {
  return new URL(`./inference-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url);
}

function basename(path: string): string {
  return path.replace(/\/+$/, '').split('/').pop() ?? path;
}

interface Pending {
  stream: GenerationStream;
  running: boolean;
  admittedAt: number;
  /** Detaches the AbortSignal listener. */
  release: () => void;
}

/** Where the engine's inference worker is in its life. */
type WorkerPhase =
  | { name: 'serving'; worker: Worker; since: number }
  /** The worker was lost (`lost` says how); the next one starts at `startAt`. */
  | { name: 'waiting'; lost: string; timer: NodeJS.Timeout; startAt: number }
  /** A new worker is loading the model, since `startedAt`. */
  | { name: 'reloading'; lost: string; worker: Worker; startedAt: number };

interface WorkerEngineParts {
  worker: Worker;
  /** How long the worker took to load the model: what a restart is expected to take. */
  loadMs: number;
  config: WorkerConfig;
  info: ModelInfo;
  model: ModelFolder;
  codec: ChatCodec;
  settings: Settings;
  logger: Logger;
}

// A worker that dies (an uncaught exception, say in a step, or an exit) takes every request it
// held with it; the engine fails them at once and starts a new worker, with backoff
// (restart-backoff.ts), until one loads the model. A native crash in onnxruntime ends the whole
// process instead, and so does stopping a thread while a model run is in flight (onnxruntime's
// callback aborts): no engine survives that, so a worker is only terminated once it has said it
// is closed, or could not load the model, or is gone already.
class WorkerEngine implements Engine {
  readonly info: ModelInfo;
  readonly #config: WorkerConfig;
  readonly #model: ModelFolder;
  readonly #codec: ChatCodec;
  readonly #settings: Settings;
  readonly #logger: Logger;
  readonly #pending = new Map<number, Pending>();
  readonly #restarts: Record<RestartReason, number> = { crash: 0, exit: 0, load_failed: 0 };
  #phase: WorkerPhase;
  #loadMs: number;
  /** The wait before the last restart; undefined until there has been one. */
  #lastDelayMs: number | undefined;
  #nextId = 1;
  #queued = 0;
  #running = 0;
  #maxConcurrency: number;
  /** Mean seconds per generation, recent ones weighing more: for Retry-After estimates. */
  #meanGenerationSeconds = 1;
  #unavailable: string | undefined;
  #closed: Promise<void> | undefined;

  constructor(parts: WorkerEngineParts) {
    this.info = parts.info;
    this.#config = parts.config;
    this.#model = parts.model;
    this.#codec = parts.codec;
    this.#settings = parts.settings;
    this.#logger = parts.logger;
    this.#loadMs = parts.loadMs;
    this.#maxConcurrency = parts.settings.maxConcurrency;
    this.#phase = this.#serving(parts.worker);
  }

  load(): { queued: number; running: number } {
    return { queued: this.#queued, running: this.#running };
  }

  status(): EngineStatus {
    if (this.#closed !== undefined) return { state: 'closed' };
    const phase = this.#phase;
    switch (phase.name) {
      case 'serving':
        return { state: 'serving' };
      case 'waiting':
        return {
          state: 'restarting',
          reason: `${phase.lost}; a new inference worker starts in ${secondsUntil(phase.startAt)} s`,
        };
      case 'reloading':
        return {
          state: 'restarting',
          reason: `${phase.lost}; a new inference worker is loading the model`,
        };
    }
  }

  restarts(): Readonly<Record<RestartReason, number>> {
    return { ...this.#restarts };
  }

  /** See injectWorkerFault. */
  injectFault(fault: WorkerFault): void {
    if (this.#phase.name !== 'serving' || this.#closed !== undefined) {
      throw new Error(`the engine has no serving inference worker to inject '${fault}' into`);
    }
    this.#post({ type: 'inject-fault', fault });
  }

  async generate(request: GenerationRequest): Promise<Generation> {
    if (this.#unavailable !== undefined) {
      throw new EngineError('unavailable', this.#unavailable, UNAVAILABLE_RETRY_SECONDS);
    }
    if (this.#phase.name !== 'serving') throw this.#restartingError();
    let prompt: number[];
    try {
      prompt = this.#codec.encodeChat(request.messages);
    } catch (error) {
      if (error instanceof ChatTemplateError)
        throw new EngineError('invalid_request', error.message);
      // The contract promises EngineErrors only, so the server can map every failure to HTTP.
      throw new EngineError(
        'internal',
        `cannot tokenize the conversation: ${(error as Error).message}`,
      );
    }
    const maxNewTokens = tokensToGenerate(prompt.length, request.maxTokens, {
      maxTokens: this.#settings.maxTokens,
      contextLength: this.info.contextLength,
    });
    // Requests posted but not yet admitted count as queued even while slots are free, so the
    // limit is on everything the engine holds: every batch slot plus the wait queue.
    if (this.#queued + this.#running >= this.#maxConcurrency + this.#settings.maxQueue) {
      const retryAfter = queueRetryAfterSeconds(
        this.#queued,
        this.#maxConcurrency,
        this.#meanGenerationSeconds,
      );
      throw new EngineError(
        'queue_full',
        `the engine is busy: ${this.#queued} requests are already waiting for one of ${this.#maxConcurrency} batch slots; retry in ${retryAfter} s`,
        retryAfter,
      );
    }

    const id = this.#nextId++;
    const admittedAt = performance.now();
    const stream = new GenerationStream({
      decode: this.#codec.decode,
      stop: request.stop ?? [],
      promptTokens: prompt.length,
      admittedAt,
      onStopSequence: () => this.#post({ type: 'cancel', id }),
    });
    const { signal } = request;
    const onAbort = () => this.#post({ type: 'cancel', id });
    signal?.addEventListener('abort', onAbort, { once: true });
    this.#pending.set(id, {
      stream,
      running: false,
      admittedAt,
      release: () => signal?.removeEventListener('abort', onAbort),
    });
    this.#queued++;
    this.#post({
      type: 'generate',
      request: {
        id,
        prompt,
        maxNewTokens,
        sampling: this.#sampling(request),
        seed: request.seed ?? randomSeed(),
      },
    });
    if (signal?.aborted) onAbort();
    return stream.generation;
  }

  close(): Promise<void> {
    this.#closed ??= this.#shutDown();
    return this.#closed;
  }

  async #shutDown(): Promise<void> {
    this.#unavailable ??= 'the engine is shutting down; retry on another replica';
    const phase = this.#phase;
    if (phase.name === 'waiting') clearTimeout(phase.timer);
    else await closeWorker(phase.worker);
    this.#failAll(new EngineError('unavailable', this.#unavailable, UNAVAILABLE_RETRY_SECONDS));
  }

  #sampling(request: GenerationRequest): SamplingParams {
    const defaults = this.#model.samplingDefaults;
    return {
      temperature: request.temperature ?? defaults.temperature ?? 1,
      topP: request.topP ?? defaults.topP ?? 1,
      topK: request.topK ?? defaults.topK ?? 0,
      repetitionPenalty: request.repetitionPenalty ?? defaults.repetitionPenalty ?? 1,
      frequencyPenalty: request.frequencyPenalty ?? 0,
      presencePenalty: request.presencePenalty ?? 0,
    };
  }

  #post(message: ToWorker): void {
    const phase = this.#phase;
    if (this.#closed === undefined && phase.name === 'serving') phase.worker.postMessage(message);
  }

  /** `worker`, which has loaded the model, taken into service: what it says counts from now on. */
  #serving(worker: Worker): WorkerPhase {
    worker.on('message', (message: FromWorker) => this.#onMessage(worker, message));
    worker.on('error', (error) =>
      this.#lost(worker, 'crash', `the inference worker crashed: ${error.message}`),
    );
    worker.on('exit', (code) =>
      this.#lost(worker, 'exit', `the inference worker exited with code ${code}`),
    );
    return { name: 'serving', worker, since: performance.now() };
  }

  #lost(worker: Worker, reason: RestartReason, lost: string): void {
    const phase = this.#phase;
    // An 'error' is followed by the worker's 'exit', and a closing engine expects the exit.
    if (this.#closed !== undefined || phase.name !== 'serving' || phase.worker !== worker) return;
    this.#restartLater(reason, lost, performance.now() - phase.since);
  }

  #restartLater(reason: RestartReason, lost: string, servedMs: number): void {
    const delayMs = restartDelayMs(this.#lastDelayMs, servedMs);
    this.#lastDelayMs = delayMs;
    this.#restarts[reason]++;
    const timer = setTimeout(() => void this.#restart(lost), delayMs);
    this.#phase = { name: 'waiting', lost, timer, startAt: performance.now() + delayMs };
    this.#logger.warn('restarting the inference worker', {
      reason,
      cause: lost,
      backoffSeconds: delayMs / 1000,
    });
    this.#failAll(this.#restartingError());
  }

  async #restart(lost: string): Promise<void> {
    const startedAt = performance.now();
    let worker: Worker | undefined;
    try {
      const started = startWorker(this.#config, this.#logger);
      worker = started.worker;
      this.#phase = { name: 'reloading', lost, worker, startedAt };
      this.#logger.info('loading the model in a new inference worker', {
        onnx: this.#config.onnxPath,
      });
      const ready = await started.ready;
      if (this.#closed !== undefined) return; // close() is closing this worker
      this.#loadMs = performance.now() - startedAt;
      this.info.executionProvider = ready.executionProvider;
      this.#maxConcurrency = this.#settings.maxConcurrency;
      this.#phase = this.#serving(worker);
      this.#logger.info('inference worker restarted', {
        executionProvider: ready.executionProvider,
        loadSeconds: Math.round(this.#loadMs) / 1000,
      });
    } catch (error) {
      if (this.#closed !== undefined) return;
      // A worker that could not load the model is exiting already; this makes sure.
      void worker?.terminate();
      this.#restartLater(
        'load_failed',
        `the model could not be reloaded: ${(error as Error).message}`,
        0,
      );
    }
  }

  /** What requests get while there is no worker to serve them: when to come back. */
  #restartingError(): EngineError {
    const phase = this.#phase;
    const nextStart =
      phase.name === 'waiting'
        ? phase.startAt
        : phase.name === 'reloading'
          ? phase.startedAt
          : performance.now();
    const retryAfter = Math.max(1, secondsUntil(nextStart + this.#loadMs));
    return new EngineError(
      'unavailable',
      `the inference worker crashed and is restarting; retry in ${retryAfter} s`,
      retryAfter,
    );
  }

  #onMessage(worker: Worker, message: FromWorker): void {
    // A lost worker's last words are still worth logging; nothing else it says counts any more.
    const phase = this.#phase;
    if (message.type !== 'log' && (phase.name !== 'serving' || phase.worker !== worker)) return;
    switch (message.type) {
      case 'events':
        for (const event of message.events) this.#onEventSafely(event);
        return;
      case 'log':
        this.#logger[message.level](message.msg, message.fields);
        return;
      case 'capacity':
        if (message.executionProvider !== this.info.executionProvider) {
          this.#logger.warn('execution provider changed', {
            from: this.info.executionProvider,
            to: message.executionProvider,
          });
        }
        this.info.executionProvider = message.executionProvider;
        this.#maxConcurrency = message.maxConcurrency;
        return;
      default:
        return;
    }
  }

  // A fault while handling one sequence's event fails that request, never the whole process.
  #onEventSafely(event: SequenceEvent): void {
    try {
      this.#onEvent(event);
    } catch (error) {
      this.#logger.error('failed to handle an engine event', { id: event.id, error });
      const pending = this.#pending.get(event.id);
      if (!pending) return;
      this.#post({ type: 'cancel', id: event.id });
      pending.stream.failed(new EngineError('internal', (error as Error).message));
      this.#settle(event.id, pending);
    }
  }

  #onEvent(event: SequenceEvent): void {
    const pending = this.#pending.get(event.id);
    if (!pending) return;
    switch (event.kind) {
      case 'admitted':
        pending.running = true;
        this.#queued--;
        this.#running++;
        pending.stream.admitted(event.cachedTokens);
        return;
      case 'token':
        pending.stream.token(event.token);
        return;
      case 'finished':
        pending.stream.finished(event.reason, event.generatedTokens);
        this.#settle(event.id, pending);
        return;
      case 'failed':
        pending.stream.failed(
          new EngineError(
            event.code,
            event.message,
            event.code === 'internal' ? undefined : UNAVAILABLE_RETRY_SECONDS,
          ),
        );
        this.#settle(event.id, pending);
        return;
    }
  }

  /** The worker is done with the sequence: its slot (or queue place) is free. */
  #settle(id: number, pending: Pending): void {
    this.#pending.delete(id);
    pending.release();
    if (pending.running) this.#running--;
    else this.#queued--;
    const seconds = (performance.now() - pending.admittedAt) / 1000;
    this.#meanGenerationSeconds = 0.8 * this.#meanGenerationSeconds + 0.2 * seconds;
  }

  #failAll(error: EngineError): void {
    for (const [id, pending] of this.#pending) {
      pending.stream.failed(error);
      this.#settle(id, pending);
    }
  }
}

/** Whole seconds from now until `time` (a performance.now() value), rounded up. */
function secondsUntil(time: number): number {
  return Math.max(0, Math.ceil((time - performance.now()) / 1000));
}
