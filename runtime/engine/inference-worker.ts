// The inference worker: the only thread that runs the model, because onnxruntime's session.run
// blocks the thread it runs on and one process should hold one session. It owns the scheduler and
// exchanges token ids with the engine on the main thread.
import { parentPort, workerData } from 'node:worker_threads';
import type { Level, Logger } from '../../common/log.ts';
import { openModelSession, openOn } from './model-session.ts';
import type { FromWorker, ToWorker, WorkerConfig } from './protocol.ts';
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
let wake: (() => void) | undefined;
port.on('message', (message: ToWorker) => {
  if (message.type === 'generate') scheduler.submit(message.request);
  else if (message.type === 'cancel') scheduler.cancel(message.id);
  else closing = true;
  wake?.();
});

let capacity = { executionProvider: scheduler.provider, maxConcurrency: scheduler.maxConcurrency };
while (!closing) {
  if (!scheduler.hasWork()) {
    await new Promise<void>((resolve) => (wake = resolve));
    wake = undefined;
    continue;
  }
  try {
    const events = await scheduler.step();
    if (events.length > 0) post({ type: 'events', events });
  } catch (error) {
    // A bug, not a model failure (those are handled per sequence): fail what is running rather
    // than leave its clients waiting forever.
    logger.error('scheduler step failed', { error });
    post({
      type: 'events',
      events: scheduler.abortAll('internal', `inference failed: ${(error as Error).message}`),
    });
  }
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
