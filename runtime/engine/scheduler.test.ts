// The scheduler against the real tiny model in this thread, where token ids are visible: batching
// must not change what any sequence generates.
import { expect } from 'chai';
import { join } from 'node:path';
import { createLogger } from '../../common/log.ts';
import { openOn } from './model-session.ts';
import { noPenalties } from './penalties.ts';
import type { ModelSession } from './model-session.ts';
import type { SequenceEvent, SequenceRequest } from './protocol.ts';
import { Scheduler } from './scheduler.ts';
import type { SchedulerOptions } from './scheduler.ts';
import { tinyModelFolder } from '../../test/support/engine-model.ts';

const logger = createLogger('scheduler-test', { level: 'error' });

interface Outcome {
  tokens: number[];
  finish: SequenceEvent | undefined;
  cachedTokens: number;
}

function newScheduler(session: ModelSession, options: Partial<SchedulerOptions> = {}): Scheduler {
  return new Scheduler({
    session,
    reopen: () => Promise.reject(new Error('no other device in tests')),
    eosTokenIds: [2],
    maxConcurrency: 8,
    prefillChunkTokens: 64,
    prefixCacheBytes: 0,
    logger,
    ...options,
  });
}

/** Runs requests to completion; `submitAt[i]` is the step at which request i arrives. */
async function run(
  scheduler: Scheduler,
  requests: SequenceRequest[],
  submitAt: number[] = requests.map(() => 0),
): Promise<Map<number, Outcome>> {
  const outcomes = new Map<number, Outcome>(
    requests.map((r) => [r.id, { tokens: [], finish: undefined, cachedTokens: 0 }]),
  );
  for (let step = 0; ; step++) {
    requests.forEach((r, i) => submitAt[i] === step && scheduler.submit(r));
    if (!scheduler.hasWork() && submitAt.every((s) => s <= step)) break;
    for (const event of await scheduler.step()) {
      const outcome = outcomes.get(event.id)!;
      if (event.kind === 'token') outcome.tokens.push(event.token);
      else if (event.kind === 'admitted') outcome.cachedTokens = event.cachedTokens;
      else outcome.finish = event;
    }
  }
  return outcomes;
}

/** A prompt of `length` tokens that are not special tokens, varied by `salt`. */
const prompt = (length: number, salt: number) =>
  Array.from({ length }, (_, i) => 3 + ((i * 7 + salt * 13) % 250));

const greedy = { temperature: 0, topP: 1, topK: 0, ...noPenalties };
const request = (id: number, promptLength: number, maxNewTokens: number): SequenceRequest => ({
  id,
  prompt: prompt(promptLength, id),
  maxNewTokens,
  sampling: greedy,
  seed: id,
});

describe('Scheduler (tiny model)', function () {
  let session: ModelSession;

  before(async () => {
    const dir = await tinyModelFolder();
    session = await openOn('cpu', {
      onnxPath: join(dir, 'onnx/model.onnx'),
      kvHints: {},
      threads: 1,
      threadSpinning: false,
      logger,
    });
  });
  after(() => session.close());

  it('generates the same greedy tokens in a batch as alone, whatever joins and leaves around it', async () => {
    // Different prompt lengths (so rows are padded), chunked prefill (so they join on different
    // steps), staggered arrivals, and different lengths (so rows leave and padding is trimmed).
    const requests = [
      request(1, 5, 40),
      request(2, 23, 12),
      request(3, 70, 30),
      request(4, 2, 55),
      request(5, 41, 20),
    ];
    const solo = new Map<number, number[]>();
    for (const r of requests)
      solo.set(r.id, (await run(newScheduler(session), [r])).get(r.id)!.tokens);

    const batched = await run(
      newScheduler(session, { prefillChunkTokens: 16 }),
      requests,
      [0, 0, 3, 9, 10],
    );
    for (const r of requests) {
      expect(batched.get(r.id)!.tokens, `request ${r.id}`).to.deep.equal(solo.get(r.id));
      expect(batched.get(r.id)!.tokens.length, `request ${r.id}`).to.be.greaterThan(0);
    }
  });

  it('penalises each sequence by its own history, in a batch as alone', async () => {
    const penalised = (id: number): SequenceRequest => ({
      ...request(id, 12, 40),
      sampling: { ...greedy, repetitionPenalty: 1.5, frequencyPenalty: 1, presencePenalty: 1 },
    });
    const requests = [penalised(1), request(2, 12, 40), penalised(3)];
    const solo = new Map<number, number[]>();
    for (const r of requests)
      solo.set(r.id, (await run(newScheduler(session), [r])).get(r.id)!.tokens);
    const batched = await run(newScheduler(session), requests, [0, 1, 2]);
    for (const r of requests) {
      expect(batched.get(r.id)!.tokens, `request ${r.id}`).to.deep.equal(solo.get(r.id));
    }

    // The same prompt with and without penalties: the penalised answer repeats itself less.
    const plain = (await run(newScheduler(session), [{ ...penalised(1), sampling: greedy }])).get(
      1,
    )!.tokens;
    const distinct = (tokens: number[]) => new Set(tokens).size;
    expect(distinct(solo.get(1)!)).to.be.greaterThan(distinct(plain));
  });

  it('stops at max tokens', async () => {
    const { tokens, finish } = (await run(newScheduler(session), [request(1, 9, 17)])).get(1)!;
    expect(finish).to.deep.equal({
      kind: 'finished',
      id: 1,
      reason: 'length',
      generatedTokens: 17,
    });
    expect(tokens).to.have.length(17);
  });

  it('stops at an end-of-sequence token, which it counts but does not send', async () => {
    const { tokens: free } = (await run(newScheduler(session), [request(1, 9, 30)])).get(1)!;
    // Declare the token generated sixth an end-of-sequence token: generation must end there.
    const eos = free[5]!;
    const first = free.indexOf(eos);
    const scheduler = newScheduler(session, { eosTokenIds: [eos], maxConcurrency: 1 });
    const { tokens, finish } = (await run(scheduler, [request(1, 9, 30)])).get(1)!;
    expect(tokens).to.deep.equal(free.slice(0, first));
    expect(finish).to.deep.equal({
      kind: 'finished',
      id: 1,
      reason: 'stop',
      generatedTokens: first + 1,
    });
  });

  it('never runs more sequences than the batch allows', async () => {
    const requests = [1, 2, 3, 4, 5].map((id) => request(id, 4 + id, 6));
    const scheduler = newScheduler(session, { maxConcurrency: 2 });
    for (const r of requests) scheduler.submit(r);
    let admitted = 0;
    let finished = 0;
    while (scheduler.hasWork()) {
      for (const event of await scheduler.step()) {
        if (event.kind === 'admitted') admitted++;
        if (event.kind === 'finished') finished++;
      }
      expect(admitted - finished).to.be.at.most(2);
    }
    expect(finished).to.equal(5);
  });

  it("reuses a finished sequence's cache for a prompt that extends it, with the same output", async () => {
    const first = request(1, 30, 10);
    const scheduler = newScheduler(session, { maxConcurrency: 4, prefixCacheBytes: 1 << 20 });
    const firstTokens = (await run(scheduler, [first])).get(1)!.tokens;
    // The next turn: the first prompt, what was generated, and more.
    const next: SequenceRequest = {
      ...request(2, 0, 15),
      prompt: [...first.prompt, ...firstTokens, 40, 41, 42],
    };
    const warm = (await run(scheduler, [next])).get(2)!;
    const cold = (await run(newScheduler(session), [next])).get(2)!;
    // Everything but the last generated token (never fed back) came from the cache.
    expect(warm.cachedTokens).to.equal(first.prompt.length + firstTokens.length - 1);
    expect(cold.cachedTokens).to.equal(0);
    expect(warm.tokens).to.deep.equal(cold.tokens);
  });

  it("frees a cancelled sequence's slot at the next step while the others go on", async () => {
    const scheduler = newScheduler(session, { maxConcurrency: 2 });
    const long = request(1, 10, 100);
    const other = request(2, 12, 20);
    const waiting = request(3, 8, 5);
    for (const r of [long, other, waiting]) scheduler.submit(r);
    const events: SequenceEvent[] = [];
    for (let i = 0; i < 3; i++) events.push(...(await scheduler.step()));
    expect(events.filter((e) => e.kind === 'admitted').map((e) => e.id)).to.deep.equal([1, 2]);

    scheduler.cancel(1);
    const next = await scheduler.step();
    expect(next).to.deep.include({
      kind: 'finished',
      id: 1,
      reason: 'cancelled',
      generatedTokens: 3,
    });
    expect(next).to.deep.include({ kind: 'admitted', id: 3, cachedTokens: 0 });
    events.push(...next);
    while (scheduler.hasWork()) events.push(...(await scheduler.step()));
    const solo = (await run(newScheduler(session), [other])).get(2)!.tokens;
    const tokensOf = (id: number) => events.filter((e) => e.kind === 'token' && e.id === id);
    expect(tokensOf(2).map((e) => (e as { token: number }).token)).to.deep.equal(solo);
  });
});

// There is no GPU here, so the out-of-memory path is exercised by making chosen runs of the real
// session fail with onnxruntime's CUDA out-of-memory message.
describe('Scheduler out-of-memory handling (tiny model, injected failures)', function () {
  let cpu: ModelSession;
  before(async () => {
    const dir = await tinyModelFolder();
    cpu = await openOn('cpu', {
      onnxPath: join(dir, 'onnx/model.onnx'),
      kvHints: {},
      threads: 1,
      threadSpinning: false,
      logger,
    });
  });
  after(() => cpu.close());

  /** The CPU session posing as a CUDA one whose decode runs of `rows` rows fail `times` times. */
  function cudaFailingAt(rows: number, times: number): ModelSession {
    let failures = 0;
    return {
      io: cpu.io,
      provider: 'cuda',
      run: async (input) => {
        if (input.length === 1 && input.rows >= rows && failures < times) {
          failures++;
          throw new Error(
            'Non-zero status code returned while running MatMul node. CUDA failure 2: out of memory',
          );
        }
        return cpu.run(input);
      },
      close: async () => undefined,
    };
  }

  const events = async (scheduler: Scheduler) => {
    const all: SequenceEvent[] = [];
    while (scheduler.hasWork()) all.push(...(await scheduler.step()));
    return all;
  };
  const tokensOf = (all: SequenceEvent[], id: number) =>
    all.flatMap((e) => (e.kind === 'token' && e.id === id ? [e.token] : []));

  it('fails the newest half of a batch that ran out of memory; the rest carry on unchanged', async () => {
    const requests = [1, 2, 3, 4].map((id) => request(id, 6 + id, 12));
    const scheduler = newScheduler(cudaFailingAt(4, 1), { maxConcurrency: 8 });
    for (const r of requests) scheduler.submit(r);
    const all = await events(scheduler);

    for (const id of [3, 4]) {
      expect(all.find((e) => e.id === id && e.kind === 'failed')).to.deep.include({
        code: 'out_of_memory',
      });
    }
    for (const id of [1, 2]) {
      const solo = (await run(newScheduler(cpu), [requests[id - 1]!])).get(id)!.tokens;
      expect(tokensOf(all, id)).to.deep.equal(solo);
    }
    expect(scheduler.maxConcurrency).to.equal(2);
    expect(scheduler.provider).to.equal('cuda');
  });

  it('shrinks the batch on each failure, then moves to the CPU, where the last survivor finishes', async () => {
    let reopened: string | undefined;
    const scheduler = newScheduler(cudaFailingAt(1, 3), {
      maxConcurrency: 8,
      reopen: async (provider) => {
        reopened = provider;
        return cpu;
      },
    });
    const requests = [1, 2, 3, 4].map((id) => request(id, 6 + id, 12));
    for (const r of requests) scheduler.submit(r);
    const all = await events(scheduler);

    // 4 rows fail: 3 and 4 go. 2 rows fail: 2 goes. 1 row fails a third time: off to the CPU.
    const failed = all.filter((e) => e.kind === 'failed');
    expect(failed.map((e) => [e.id, e.kind === 'failed' && e.code])).to.deep.equal([
      [3, 'out_of_memory'],
      [4, 'out_of_memory'],
      [2, 'out_of_memory'],
    ]);
    expect(reopened).to.equal('cpu');
    expect(scheduler.provider).to.equal('cpu');
    expect(scheduler.maxConcurrency).to.equal(8);
    const solo = (await run(newScheduler(cpu), [requests[0]!])).get(1)!.tokens;
    expect(tokensOf(all, 1)).to.deep.equal(solo);
  });
});
