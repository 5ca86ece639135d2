// Continuous batching inside the inference worker. Each step:
//   1. sequences that were cancelled leave;
//   2. waiting sequences take free batch slots, starting from the longest cached prefix;
//   3. one model run decodes a token for every sequence in the running batch;
//   4. prompts are prefilled, at most `prefillChunkTokens` tokens per step in total, so a long
//      prompt delays the running streams by one bounded chunk per token instead of its whole length;
//      a sequence whose prompt is complete joins the running batch for the next step.
// Sequences that finish leave the batch at once, and their caches go to the prefix cache.
import type { Logger } from '../../common/log.ts';
import { emptyBlock, gatherRows } from './kv-block.ts';
import type { KvBlock, KvShape, RowSource } from './kv-block.ts';
import type { ModelSession, StepOutput } from './model-session.ts';
import { initialMemoryState, isOutOfMemoryError, planOutOfMemory } from './out-of-memory.ts';
import type { MemoryState, Provider } from './out-of-memory.ts';
import { PrefixCache } from './prefix-cache.ts';
import type { FinishReason, SequenceEvent, SequenceRequest } from './protocol.ts';
import { createRandom } from './random.ts';
import type { Random } from './random.ts';
import { hasPenalties, TokenHistory } from './penalties.ts';
import { sampleToken } from './sampler.ts';
import { decodeInput, prefillInput } from './step-input.ts';
import type { StepInput } from './step-input.ts';

export interface SchedulerOptions {
  session: ModelSession;
  /** Opens the model again on another device (the CPU, after repeated out-of-memory errors). */
  reopen: (provider: Provider) => Promise<ModelSession>;
  eosTokenIds: readonly number[];
  maxConcurrency: number;
  prefillChunkTokens: number;
  prefixCacheBytes: number;
  logger: Logger;
  /** Milliseconds; for the out-of-memory policy's window. */
  now?: () => number;
}

interface Sequence {
  request: SequenceRequest;
  random: Random;
  /** The prompt, then each generated token once it has been fed back: the cache's columns. */
  tokens: number[];
  /** How many of `tokens` the cache holds (less than tokens.length only while prefilling). */
  filled: number;
  /** This sequence's own cache while it prefills; the batch block holds it afterwards. */
  kv: KvBlock;
  /** The token sampled last, to be fed at the next decode step. */
  next: number;
  generated: number;
  /** What the penalties look at; only kept when the request asks for a penalty. */
  history: TokenHistory | undefined;
  cancelRequested: boolean;
  /** Set once the sequence is done; it leaves at the end of the phase. */
  outcome: SequenceEvent | undefined;
}

interface Batch {
  rows: Sequence[];
  pads: number[];
  kv: KvBlock;
}

export class Scheduler {
  readonly #options: SchedulerOptions;
  readonly #eos: Set<number>;
  readonly #shape: KvShape;
  readonly #cache: PrefixCache;
  readonly #now: () => number;
  #session: ModelSession;
  #memory: MemoryState;
  #waiting: Sequence[] = [];
  #prefilling: Sequence[] = [];
  #batch: Batch;
  readonly #byId = new Map<number, Sequence>();
  #events: SequenceEvent[] = [];

  constructor(options: SchedulerOptions) {
    this.#options = options;
    this.#session = options.session;
    this.#eos = new Set(options.eosTokenIds);
    this.#shape = options.session.io.kvShape;
    this.#cache = new PrefixCache(options.prefixCacheBytes);
    this.#now = options.now ?? (() => performance.now());
    this.#memory = initialMemoryState(options.session.provider, options.maxConcurrency);
    this.#batch = { rows: [], pads: [], kv: { ...emptyBlock(this.#shape), rows: 0 } };
  }

  get provider(): Provider {
    return this.#session.provider;
  }

  get maxConcurrency(): number {
    return this.#memory.maxBatch;
  }

  submit(request: SequenceRequest): void {
    const sequence: Sequence = {
      request,
      random: createRandom(request.seed),
      tokens: [...request.prompt],
      filled: 0,
      kv: emptyBlock(this.#shape),
      next: -1,
      generated: 0,
      history: hasPenalties(request.sampling)
        ? new TokenHistory(request.prompt, this.#eos)
        : undefined,
      cancelRequested: false,
      outcome: undefined,
    };
    this.#byId.set(request.id, sequence);
    this.#waiting.push(sequence);
  }

  /** Takes effect at the next step; ids that already finished are ignored. */
  cancel(id: number): void {
    const sequence = this.#byId.get(id);
    if (sequence) sequence.cancelRequested = true;
  }

  hasWork(): boolean {
    return this.#byId.size > 0;
  }

  /** Runs one step and returns what happened to each sequence. */
  async step(): Promise<SequenceEvent[]> {
    this.#events = [];
    for (const sequence of this.#byId.values()) {
      if (sequence.cancelRequested) this.#finish(sequence, 'cancelled');
    }
    this.#leave();
    this.#admit();
    if (this.#batch.rows.length > 0) await this.#decode();
    this.#leave();
    await this.#prefill();
    this.#leave();
    return this.#events;
  }

  /** Ends every sequence, e.g. on shutdown. */
  abortAll(code: 'unavailable' | 'internal', message: string): SequenceEvent[] {
    this.#events = [];
    for (const sequence of this.#byId.values()) this.#fail(sequence, code, message);
    this.#leave();
    return this.#events;
  }

  async close(): Promise<void> {
    await this.#session.close();
  }

  #admit(): void {
    while (
      this.#waiting.length > 0 &&
      this.#batch.rows.length + this.#prefilling.length < this.#memory.maxBatch
    ) {
      const sequence = this.#waiting.shift()!;
      // At least the last prompt token is prefilled, since that run yields the first logits.
      const match = this.#cache.lookup(sequence.tokens, sequence.tokens.length - 1);
      if (match) {
        sequence.kv =
          match.length === match.entry.kv.columns
            ? match.entry.kv
            : gatherRows(
                [{ block: match.entry.kv, row: 0, start: 0, length: match.length }],
                this.#shape,
              ).block;
        sequence.filled = match.length;
      }
      this.#prefilling.push(sequence);
      this.#events.push({
        kind: 'admitted',
        id: sequence.request.id,
        cachedTokens: sequence.filled,
      });
    }
  }

  async #decode(): Promise<void> {
    const { rows, pads, kv } = this.#batch;
    const input = decodeInput(
      rows.map((s) => s.next),
      pads,
      kv,
    );
    const output = await this.#run(input, rows);
    if (!output) return;
    this.#batch.kv = output.present;
    rows.forEach((sequence, row) => {
      sequence.tokens.push(sequence.next);
      sequence.filled++;
      this.#accept(sequence, output, row);
    });
  }

  async #prefill(): Promise<void> {
    let budget = this.#options.prefillChunkTokens;
    const joining: Sequence[] = [];
    while (budget > 0 && this.#prefilling.length > 0) {
      const sequence = this.#prefilling[0]!;
      const chunk = sequence.tokens.slice(sequence.filled, sequence.filled + budget);
      const output = await this.#run(prefillInput(chunk, sequence.kv), [sequence]);
      if (!output) {
        this.#leave();
        continue;
      }
      budget -= chunk.length;
      sequence.kv = output.present;
      sequence.filled += chunk.length;
      if (sequence.filled < sequence.tokens.length) continue;
      this.#prefilling.shift();
      this.#accept(sequence, output, 0);
      if (sequence.outcome) this.#cacheSequence(sequence.tokens, sequence.kv);
      else joining.push(sequence);
    }
    if (joining.length > 0) this.#join(joining);
  }

  /** Samples a sequence's next token from a run's logits and decides whether it is done. */
  #accept(sequence: Sequence, output: StepOutput, row: number): void {
    const { sampling } = sequence.request;
    const logits = output.lastLogits(row);
    const token = sampleToken(
      sequence.history ? sequence.history.penalize(logits, sampling) : logits,
      sampling,
      sequence.random,
    );
    sequence.generated++;
    if (this.#eos.has(token)) {
      this.#finish(sequence, 'stop');
      return;
    }
    sequence.history?.addGenerated(token);
    sequence.next = token;
    this.#events.push({ kind: 'token', id: sequence.request.id, token });
    if (sequence.generated >= sequence.request.maxNewTokens) this.#finish(sequence, 'length');
  }

  #join(sequences: Sequence[]): void {
    const { rows } = this.#batch;
    const { block, pads: newPads } = gatherRows(
      [
        ...rows.map((_, r) => realColumns(this.#batch, r)),
        ...sequences.map((s) => ({ block: s.kv, row: 0, start: 0, length: s.kv.columns })),
      ],
      this.#shape,
    );
    for (const sequence of sequences) sequence.kv = emptyBlock(this.#shape);
    this.#batch = { rows: [...rows, ...sequences], pads: newPads, kv: block };
  }

  #finish(sequence: Sequence, reason: FinishReason): void {
    sequence.outcome ??= {
      kind: 'finished',
      id: sequence.request.id,
      reason,
      generatedTokens: sequence.generated,
    };
  }

  #fail(
    sequence: Sequence,
    code: 'out_of_memory' | 'internal' | 'unavailable',
    message: string,
  ): void {
    sequence.outcome ??= { kind: 'failed', id: sequence.request.id, code, message };
  }

  /** Removes sequences that have an outcome, keeping the caches of those that finished. */
  #leave(): void {
    const done = (s: Sequence) => s.outcome !== undefined;
    const ended = [...this.#byId.values()].filter(done);
    if (ended.length === 0) return;

    this.#waiting = this.#waiting.filter((s) => !done(s));
    this.#prefilling = this.#prefilling.filter((s) => {
      if (done(s) && s.outcome!.kind === 'finished')
        this.#cacheSequence(s.tokens.slice(0, s.filled), s.kv);
      return !done(s);
    });

    const { rows } = this.#batch;
    if (rows.some(done)) {
      rows.forEach((s, r) => {
        if (done(s) && s.outcome!.kind === 'finished' && this.#options.prefixCacheBytes > 0) {
          this.#cacheSequence(
            s.tokens,
            gatherRows([realColumns(this.#batch, r)], this.#shape).block,
          );
        }
      });
      const keep = rows.map((s, r) => ({ s, r })).filter(({ s }) => !done(s));
      const { block, pads: newPads } = gatherRows(
        keep.map(({ r }) => realColumns(this.#batch, r)),
        this.#shape,
      );
      this.#batch = { rows: keep.map(({ s }) => s), pads: newPads, kv: block };
    }

    for (const sequence of ended) {
      this.#byId.delete(sequence.request.id);
      this.#events.push(sequence.outcome!);
    }
  }

  #cacheSequence(tokens: readonly number[], kv: KvBlock): void {
    if (kv.columns !== tokens.length) {
      throw new Error(`internal: cache of ${kv.columns} columns for ${tokens.length} tokens`);
    }
    if (tokens.length > 0) this.#cache.insert({ tokens: [...tokens], kv });
  }

  /** One model run; on failure, ends the sequences the failure affects and returns undefined. */
  async #run(input: StepInput, sequences: readonly Sequence[]): Promise<StepOutput | undefined> {
    try {
      return await this.#session.run(input);
    } catch (error) {
      if (!isOutOfMemoryError(error)) {
        this.#options.logger.error('model run failed', { error, sequences: sequences.length });
        for (const s of sequences)
          this.#fail(s, 'internal', `inference failed: ${(error as Error).message}`);
        return undefined;
      }
      await this.#outOfMemory(sequences, error as Error);
      return undefined;
    }
  }

  async #outOfMemory(sequences: readonly Sequence[], error: Error): Promise<void> {
    const plan = planOutOfMemory(this.#memory, {
      at: this.#now(),
      sequences: sequences.map((s) => s.request.id),
      slotsInUse: this.#batch.rows.length + this.#prefilling.length,
    });
    this.#memory = plan.state;
    this.#options.logger.warn('out of memory', {
      error,
      provider: this.#session.provider,
      failed: plan.fail.length,
      maxConcurrency: plan.state.maxBatch,
      switchToCpu: plan.switchToCpu,
    });
    for (const id of plan.fail) {
      this.#fail(
        this.#byId.get(id)!,
        'out_of_memory',
        `the ${this.#session.provider.toUpperCase()} ran out of memory for this request; retry shortly ` +
          `(the engine now runs at most ${plan.state.maxBatch} sequences at once)`,
      );
    }
    if (plan.switchToCpu) {
      const previous = this.#session;
      this.#session = await this.#options.reopen('cpu');
      await previous.close();
    }
  }
}

/** Where row r's real (unpadded) columns are in the batch block. */
function realColumns(batch: Batch, row: number): RowSource {
  const pad = batch.pads[row]!;
  return { block: batch.kv, row, start: pad, length: batch.kv.columns - pad };
}
