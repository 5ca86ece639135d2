// The one place that talks to onnxruntime: opens the decoder on an execution provider and runs a
// step. It runs inside the inference worker, since session.run blocks its thread.
import * as ort from 'onnxruntime-node';
import type { Logger } from '../../common/log.ts';
import {
  CUDA_INSTALL_HINT,
  cudaProviderInstalled,
  providerCandidates,
} from './execution-provider.ts';
import type { KvBlock } from './kv-block.ts';
import type { KvHints, ModelIo, ValueInfo } from './model-io.ts';
import { describeModelIo } from './model-io.ts';
import type { Provider } from './out-of-memory.ts';
import type { ExecutionProviderChoice } from '../../common/runtime-env.ts';
import type { StepInput } from './step-input.ts';

export interface StepOutput {
  /** The cache extended by the step's tokens. */
  present: KvBlock;
  vocabSize: number;
  /** Logits at the last new position of a row. */
  lastLogits(row: number): Float32Array;
}

export interface ModelSession {
  readonly io: ModelIo;
  readonly provider: Provider;
  run(input: StepInput): Promise<StepOutput>;
  close(): Promise<void>;
}

export interface SessionOptions {
  onnxPath: string;
  kvHints: KvHints;
  threads: number;
  threadSpinning: boolean;
  logger: Logger;
}

/** Opens the model on the first provider that works, following `choice`. */
export async function openModelSession(
  choice: ExecutionProviderChoice,
  options: SessionOptions,
): Promise<ModelSession> {
  const candidates = providerCandidates(choice, cudaProviderInstalled());
  for (const [i, provider] of candidates.entries()) {
    try {
      return await openOn(provider, options);
    } catch (error) {
      const last = i === candidates.length - 1;
      if (provider === 'cuda' && !last) {
        options.logger.warn('CUDA execution provider unavailable, trying the next one', {
          error: (error as Error).message,
        });
        continue;
      }
      if (provider === 'cuda') {
        throw new Error(
          `the CUDA execution provider failed to start: ${(error as Error).message}; ` +
            `check that the GPU is visible (nvidia-smi) and that the image has CUDA 12 and cuDNN 9; ${CUDA_INSTALL_HINT}`,
          { cause: error },
        );
      }
      throw error;
    }
  }
  throw new Error(`no execution provider to try for '${choice}'`);
}

export async function openOn(provider: Provider, options: SessionOptions): Promise<ModelSession> {
  const session = await ort.InferenceSession.create(options.onnxPath, {
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
    ...(options.threads > 0 ? { intraOpNumThreads: options.threads } : {}),
    extra: { session: { intra_op: { allow_spinning: options.threadSpinning ? '1' : '0' } } },
  });
  let io: ModelIo;
  try {
    io = describeModelIo(
      session.inputMetadata as readonly ValueInfo[],
      session.outputMetadata as readonly ValueInfo[],
      options.kvHints,
    );
  } catch (error) {
    await session.release();
    throw error;
  }
  const { heads, headDim } = io.kvShape;

  return {
    io,
    provider,
    async run(input) {
      const { rows, length, past } = input;
      const total = past.columns + length;
      const feeds: Record<string, ort.Tensor> = {
        [io.inputIds]: new ort.Tensor('int64', input.inputIds, [rows, length]),
        [io.attentionMask]: new ort.Tensor('int64', input.attentionMask, [rows, total]),
      };
      if (io.positionIds)
        feeds[io.positionIds] = new ort.Tensor('int64', input.positionIds, [rows, length]);
      if (io.useCacheBranch)
        feeds[io.useCacheBranch] = new ort.Tensor('bool', [past.columns > 0], [1]);
      if (io.numLogitsToKeep)
        feeds[io.numLogitsToKeep] = new ort.Tensor('int64', BigInt64Array.of(1n), []);
      io.cache.forEach(({ past: name }, t) => {
        feeds[name] = new ort.Tensor('float32', past.data[t]!, [
          rows,
          heads,
          past.columns,
          headDim,
        ]);
      });

      const outputs = await session.run(feeds);
      const logits = outputs[io.logits]!;
      const [, kept, vocabSize] = logits.dims as [number, number, number];
      const logitsData = logits.data as Float32Array;
      const present: KvBlock = {
        rows,
        columns: total,
        data: io.cache.map(({ present: name }) => outputs[name]!.data as Float32Array),
      };
      return {
        present,
        vocabSize,
        lastLogits: (row) => {
          const offset = (row * kept + kept - 1) * vocabSize;
          return logitsData.subarray(offset, offset + vocabSize);
        },
      };
    },
    close: () => session.release(),
  };
}
