import { expect } from 'chai';
import {
  FAILURE_WINDOW_MS,
  initialMemoryState,
  isOutOfMemoryError,
  planOutOfMemory,
} from './out-of-memory.ts';

describe('planOutOfMemory', () => {
  it('halves the batch and fails the newest half of a failed decode run', () => {
    const plan = planOutOfMemory(initialMemoryState('cuda', 16), {
      at: 0,
      sequences: [1, 2, 3, 4, 5, 6, 7, 8],
      slotsInUse: 8,
    });
    expect(plan.switchToCpu).to.equal(false);
    expect(plan.fail).to.deep.equal([5, 6, 7, 8]);
    expect(plan.state.maxBatch).to.equal(4);
    expect(plan.state.provider).to.equal('cuda');
  });

  it('fails only the sequence whose prefill did not fit, and admits fewer from then on', () => {
    const plan = planOutOfMemory(initialMemoryState('cuda', 8), {
      at: 0,
      sequences: [9],
      slotsInUse: 6,
    });
    expect(plan.fail).to.deep.equal([9]);
    expect(plan.state.maxBatch).to.equal(3);
  });

  it('moves to the CPU after repeated failures, failing nobody and restoring the batch size', () => {
    let state = initialMemoryState('cuda', 8);
    const runs = [
      { at: 1_000, sequences: [1, 2, 3, 4], slotsInUse: 8 },
      { at: 2_000, sequences: [1, 2], slotsInUse: 4 },
    ];
    for (const run of runs) {
      const plan = planOutOfMemory(state, run);
      expect(plan.switchToCpu).to.equal(false);
      state = plan.state;
    }
    const plan = planOutOfMemory(state, { at: 3_000, sequences: [1], slotsInUse: 2 });
    expect(plan.switchToCpu).to.equal(true);
    expect(plan.fail).to.deep.equal([]);
    expect(plan.state).to.deep.equal(initialMemoryState('cpu', 8));
  });

  it('moves to the CPU at once when a single sequence does not fit a batch of one', () => {
    const state = { ...initialMemoryState('cuda', 8), maxBatch: 1 };
    expect(planOutOfMemory(state, { at: 0, sequences: [4], slotsInUse: 1 }).switchToCpu).to.equal(
      true,
    );
  });

  it('forgets failures older than the window', () => {
    let state = initialMemoryState('cuda', 64);
    for (const at of [0, 1, FAILURE_WINDOW_MS + 2]) {
      const plan = planOutOfMemory(state, { at, sequences: [1, 2], slotsInUse: 64 });
      expect(plan.switchToCpu).to.equal(false);
      state = plan.state;
    }
    expect(state.recentFailures).to.deep.equal([FAILURE_WINDOW_MS + 2]);
  });

  it('on the CPU only shrinks, since there is no further device', () => {
    let state = { ...initialMemoryState('cpu', 2), maxBatch: 1 };
    for (let i = 0; i < 5; i++) {
      const plan = planOutOfMemory(state, { at: i, sequences: [i], slotsInUse: 1 });
      expect(plan.switchToCpu).to.equal(false);
      expect(plan.fail).to.deep.equal([i]);
      state = plan.state;
    }
    expect(state.maxBatch).to.equal(1);
  });
});

describe('isOutOfMemoryError', () => {
  it('recognises onnxruntime allocation failures', () => {
    const cuda = new Error(
      '[ONNXRuntimeError] : 6 : RUNTIME_EXCEPTION : Non-zero status code returned while running MatMul node. ' +
        "Name:'/model/layers.0/mlp/MatMul' Status Message: CUDA failure 2: out of memory",
    );
    const arena = new Error(
      'BFCArena::AllocateRawInternal Failed to allocate memory for requested buffer of size 4194304',
    );
    expect(isOutOfMemoryError(cuda)).to.equal(true);
    expect(isOutOfMemoryError(arena)).to.equal(true);
    expect(isOutOfMemoryError(new Error('std::bad_alloc'))).to.equal(true);
  });

  it('does not take other failures for memory exhaustion', () => {
    expect(
      isOutOfMemoryError(new Error('Got invalid dimensions for input: attention_mask')),
    ).to.equal(false);
  });
});
