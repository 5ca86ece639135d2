// Messages between the engine on the main thread and the inference worker. The worker deals in
// token ids only; text stays on the main thread.
import type { Level } from '../../common/log.ts';
import type { ExecutionProviderChoice } from '../../common/runtime-env.ts';
import type { KvHints } from './model-io.ts';
import type { Provider } from './out-of-memory.ts';
import type { SamplingParams } from './sampler.ts';
import type { EngineErrorCode } from './types.ts';

/** Passed as workerData. */
export interface WorkerConfig {
  onnxPath: string;
  executionProvider: ExecutionProviderChoice;
  kvHints: KvHints;
  eosTokenIds: number[];
  maxConcurrency: number;
  prefillChunkTokens: number;
  prefixCacheBytes: number;
  /** onnxruntime intra-op threads; 0 lets onnxruntime choose. */
  threads: number;
  /** Whether idle onnxruntime threads busy-wait for work. */
  threadSpinning: boolean;
}

export interface SequenceRequest {
  id: number;
  prompt: number[];
  /** Already capped by MAX_TOKENS and the context length; at least 1. */
  maxNewTokens: number;
  sampling: SamplingParams;
  seed: number;
}

/**
 * A way for the worker to die, for tests of the engine's recovery (see injectWorkerFault in
 * engine.ts): `throw` makes its next step throw, as a bug in a step would (so it strikes only
 * while there is work); `exit` stops the thread at once, as a process.exit in a dependency would.
 */
export type WorkerFault = 'throw' | 'exit';

export type ToWorker =
  | { type: 'generate'; request: SequenceRequest }
  | { type: 'cancel'; id: number }
  | { type: 'close' }
  | { type: 'inject-fault'; fault: WorkerFault };

export type FinishReason = 'stop' | 'length' | 'cancelled';

/** What happened to one sequence during a step. */
export type SequenceEvent =
  /** It got a batch slot; `cachedTokens` prompt tokens came from the prefix cache. */
  | { kind: 'admitted'; id: number; cachedTokens: number }
  /** A generated token (end-of-sequence tokens are not sent: they end the sequence). */
  | { kind: 'token'; id: number; token: number }
  /** It left the batch; `generatedTokens` counts an end-of-sequence token too. */
  | { kind: 'finished'; id: number; reason: FinishReason; generatedTokens: number }
  | { kind: 'failed'; id: number; code: EngineErrorCode; message: string };

export type FromWorker =
  | { type: 'ready'; executionProvider: Provider; inputNames: string[] }
  | { type: 'load-failed'; message: string }
  /** Everything one step did, in one message. */
  | { type: 'events'; events: SequenceEvent[] }
  /** The out-of-memory policy shrank the batch or moved the model to another device. */
  | { type: 'capacity'; executionProvider: Provider; maxConcurrency: number }
  | { type: 'log'; level: Level; msg: string; fields?: Record<string, unknown> }
  | { type: 'closed' };
