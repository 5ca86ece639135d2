// What to do when the accelerator runs out of memory: the usual advice (a smaller batch, then
// another device) applied automatically. Pure, so the policy is tested without a GPU; the
// scheduler only carries out the plan.

export type Provider = 'cuda' | 'cpu';

export interface MemoryState {
  provider: Provider;
  /** Sequences allowed in the batch (decoding plus prefilling) from now on. */
  maxBatch: number;
  /** The configured size, restored after moving to another device. */
  configuredMaxBatch: number;
  /** When recent out-of-memory errors happened (ms), oldest first. */
  recentFailures: number[];
}

export interface OutOfMemoryEvent {
  /** Milliseconds, any monotonic clock. */
  at: number;
  /** The sequences in the run that failed, in the order they joined (oldest first). */
  sequences: readonly number[];
  /** Sequences holding a batch slot when it failed, including those not in the failed run. */
  slotsInUse: number;
}

export interface OutOfMemoryPlan {
  state: MemoryState;
  /** Sequences to end with EngineError 'out_of_memory'; the others retry at the next step. */
  fail: number[];
  /** Reopen the model on the CPU and continue there. */
  switchToCpu: boolean;
}

/** Failures within this window count as "repeated". */
export const FAILURE_WINDOW_MS = 5 * 60_000;
/** This many failures within the window move the model off the GPU. */
export const FAILURES_BEFORE_CPU = 3;

export function initialMemoryState(provider: Provider, maxBatch: number): MemoryState {
  return { provider, maxBatch, configuredMaxBatch: maxBatch, recentFailures: [] };
}

export function planOutOfMemory(state: MemoryState, event: OutOfMemoryEvent): OutOfMemoryPlan {
  const recentFailures = [
    ...state.recentFailures.filter((t) => event.at - t < FAILURE_WINDOW_MS),
    event.at,
  ];
  const alreadyMinimal = state.maxBatch === 1 && event.sequences.length <= 1;

  if (
    state.provider === 'cuda' &&
    (recentFailures.length >= FAILURES_BEFORE_CPU || alreadyMinimal)
  ) {
    // The CPU has the memory the GPU lacked, so every sequence, the failed run's too, carries on.
    return {
      state: initialMemoryState('cpu', state.configuredMaxBatch),
      fail: [],
      switchToCpu: true,
    };
  }

  const maxBatch = Math.max(1, Math.floor(Math.min(state.maxBatch, event.slotsInUse) / 2));
  // The oldest half of a failed batch retries (it has the most work invested); a single sequence
  // that did not fit alone cannot be helped by a smaller batch.
  const keep = event.sequences.length > 1 ? Math.floor(event.sequences.length / 2) : 0;
  return {
    state: { ...state, maxBatch, recentFailures },
    fail: event.sequences.slice(keep),
    switchToCpu: false,
  };
}

/** onnxruntime reports allocation failures only as text; these are the CUDA and CPU wordings. */
export function isOutOfMemoryError(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /out of memory|failed to allocate memory|CUDA_ERROR_OUT_OF_MEMORY|cudaErrorMemoryAllocation|bad_alloc/i.test(
    message,
  );
}
