// The inference worker: the only thread that runs the model, because onnxruntime's session.run
// blocks the thread it runs on and one process should hold one session. It owns the scheduler and
// exchanges token ids with the engine on the main thread.
import { parentPort, workerData } from 'node:worker_threads';
import type { Level, Logger } from '../../common/log.ts';
import { openModelSession, openOn } from './model-session.ts';
import type { FromWorker, SequenceEvent, ToWorker, WorkerConfig, WorkerFault } from './protocol.ts';
import { Scheduler } from './scheduler.ts';

const config = workerData as WorkerConfig;
const port = parentPort!;
const post = (message: FromWorker) => port.postMessage(message);

/** Log lines go to the main thread, which writes them with the engine's logger. */
function portLogger(base: Record<string, unknown> = {}): Logger {
  const emit = (level: Level) => (msg: string, fields?: Record<string, unknown>) =>
    post({ type: 'log', level, msg, fields: { ...base, ...fields } });
  return {
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    with: (fields) => portLogger({ ...base, ...fields }),
  };
}

const logger = portLogger();
const sessionOptions = {
  onnxPath: config.onnxPath,
  kvHints: config.kvHints,
  threads: config.threads,
  threadSpinning: config.threadSpinning,
  logger,
};

let scheduler: Scheduler;
try {
  const session = await openModelSession(config.executionProvider, sessionOptions);
  scheduler = new Scheduler({
    session,
    reopen: (provider) => openOn(provider, sessionOptions),
    eosTokenIds: config.eosTokenIds,
    maxConcurrency: config.maxConcurrency,
    prefillChunkTokens: config.prefillChunkTokens,
    prefixCacheBytes: config.prefixCacheBytes,
    logger,
  });
  post({
    type: 'ready',
    executionProvider: session.provider,
    inputNames: session.io.cache.map((c) => c.past),
  });
} catch (error) {
  post({ type: 'load-failed', message: (error as Error).message });
  process.exit(0);
}

let closing = false;
/** Set only by a test, through injectWorkerFault in engine.ts. */
let fault: WorkerFault | undefined;
let wake: (() => void) | undefined;
port.on('message', (message: ToWorker) => {
  if (message.type === 'generate') scheduler.submit(message.request);
  else if (message.type === 'cancel') scheduler.cancel(message.id);
  else if (message.type === 'inject-fault') fault = message.fault;
  else closing = true;
  wake?.();
});

/** The exit code of an injected `exit` fault, so a test's exit is told from any other. */
const FAULT_EXIT_CODE = 70;

/** A scheduler step, or the exception a test injected into one. */
async function step(): Promise<SequenceEvent[]> {
  if (fault === 'throw') throw new Error('a test injected this fault into an inference step');
  return scheduler.step();
}

// An exception in a step ends the worker: after a failure midway through a step the scheduler's
// state (the batch, its KV cache, the prefix cache) cannot be trusted, so the engine fails what
// it held and starts a fresh worker, which reloads the model.
let capacity = { executionProvider: scheduler.provider, maxConcurrency: scheduler.maxConcurrency };
while (!closing) {
  // Between two steps, where no model run is in flight: a thread stopped during one takes the
  // whole process down (onnxruntime's callback aborts), which no engine could recover from.
  if (fault === 'exit') process.exit(FAULT_EXIT_CODE);
  if (!scheduler.hasWork()) {
    await new Promise<void>((resolve) => (wake = resolve));
    wake = undefined;
    continue;
  }
  const events = await step();
  if (events.length > 0) post({ type: 'events', events });
  if (
    scheduler.provider !== capacity.executionProvider ||
    scheduler.maxConcurrency !== capacity.maxConcurrency
  ) {
    capacity = { executionProvider: scheduler.provider, maxConcurrency: scheduler.maxConcurrency };
    post({ type: 'capacity', ...capacity });
  }
  // Lets cancellations and new requests that arrived during the step in before the next one.
  await new Promise((resolve) => setImmediate(resolve));
}

post({
  type: 'events',
  events: scheduler.abortAll(
    'unavailable',
    'the engine is shutting down; retry on another replica',
  ),
});
await scheduler.close();
post({ type: 'closed' });
