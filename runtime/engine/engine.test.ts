// The engine as the HTTP server uses it: a worker thread running the real tiny model.
import { expect } from 'chai';
import { cp, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../common/log.ts';
import { GraphBuilder } from '../model/onnx/graph-builder.ts';
import { DataType } from '../model/onnx/onnx-proto.ts';
import { writeOnnxModel } from '../model/onnx/write-model.ts';
import { eventually } from '../../tools/eventually.ts';
import { createEngine, injectWorkerFault } from './engine.ts';
import { cudaProviderInstalled } from './execution-provider.ts';
import type { EngineOptions } from './engine.ts';
import { tinyModelFolder } from '../../test/support/engine-model.ts';
import { FIRST_RESTART_DELAY_MS } from './restart-backoff.ts';
import { EngineError } from './types.ts';
import type { ChatMessage, Engine, GenerationRequest, GenerationResult } from './types.ts';

const quiet = createLogger('engine-test', { level: 'error' });

async function engineWith(options: Partial<EngineOptions> = {}): Promise<Engine> {
  return createEngine({
    modelPath: await tinyModelFolder(),
    executionProvider: 'cpu',
    logger: quiet,
    ...options,
  });
}

const ask = (content: string): ChatMessage[] => [{ role: 'user', content }];

/** Runs a request, reading its deltas as a streaming client would. */
async function complete(engine: Engine, request: GenerationRequest) {
  const generation = await engine.generate(request);
  const deltas: string[] = [];
  for await (const delta of generation.deltas) deltas.push(delta.text);
  return { deltas, result: await generation.result };
}

async function rejection(promise: Promise<unknown>): Promise<EngineError> {
  try {
    await promise;
  } catch (error) {
    return error as EngineError;
  }
  throw new Error('expected a rejection');
}

async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 2));
}

describe('engine (tiny model)', function () {
  let engine: Engine;

  before(async () => {
    engine = await engineWith({ maxConcurrency: 8, prefillChunkTokens: 16 });
  });
  after(() => engine.close());

  it('describes the model it serves', () => {
    expect(engine.info).to.deep.equal({
      id: 'tiny',
      contextLength: 4096,
      maxTokens: 2048,
      executionProvider: 'cpu',
    });
  });

  it('generates text whose deltas add up to the result', async () => {
    const started = performance.now();
    const { deltas, result } = await complete(engine, {
      messages: ask('Hello!'),
      maxTokens: 12,
      temperature: 0,
    });
    const elapsedMs = performance.now() - started;
    expect(result.finishReason).to.equal('length');
    expect(result.usage.completionTokens).to.equal(12);
    expect(result.usage.promptTokens).to.be.greaterThan(5);
    expect(result.text.length).to.be.greaterThan(0);
    expect(deltas.join('')).to.equal(result.text);
    // The first token comes after admission (prefill takes time) and before the whole answer.
    expect(result.timeToFirstTokenMs).to.be.greaterThan(0).and.at.most(elapsedMs);
    expect(engine.load()).to.deep.equal({ queued: 0, running: 0 });
  });

  it('gives each of several concurrent greedy requests the output it gets alone', async () => {
    const requests = [
      'Hi',
      'Tell me a story about a robot who learns to paint.',
      'What is 2 + 2?',
      'A much longer prompt, so that this one is still prefilling in chunks while the others already decode their first tokens.',
      'Ok',
    ].map((content, i) => ({ messages: ask(content), maxTokens: 10 + 9 * i, temperature: 0 }));

    const solo: GenerationResult[] = [];
    for (const request of requests) solo.push((await complete(engine, request)).result);
    const together = await Promise.all(requests.map((request) => complete(engine, request)));
    together.forEach(({ result }, i) => {
      expect(result.text, `request ${i}`).to.equal(solo[i]!.text);
      expect(result.usage.completionTokens, `request ${i}`).to.equal(
        solo[i]!.usage.completionTokens,
      );
    });
  });

  it('ends before a stop sequence, never streaming any part of it', async () => {
    const request = { messages: ask('Say something'), maxTokens: 40, temperature: 0 };
    const { result: full } = await complete(engine, request);
    // A stop string taken from the middle of the greedy output, so it certainly occurs.
    const stop = full.text.slice(10, 13);
    const expected = full.text.slice(0, full.text.indexOf(stop));
    const { deltas, result } = await complete(engine, {
      ...request,
      stop: ['never appears', stop],
    });
    expect(result.finishReason).to.equal('stop');
    expect(result.text).to.equal(expected);
    expect(deltas.join('')).to.equal(expected);
    expect(result.usage.completionTokens).to.be.lessThan(40);
  });

  it('samples by the configured defaults when a request sets none', async () => {
    const greedyByDefault = await engineWith({ samplingDefaults: { temperature: 0 } });
    try {
      const request = { messages: ask('Pick at random'), maxTokens: 20 };
      const runs = await Promise.all(
        [1, 2, 3].map((seed) => complete(greedyByDefault, { ...request, seed })),
      );
      expect(new Set(runs.map((r) => r.result.text)).size, 'greedy ignores the seed').to.equal(1);
      const greedy = await complete(engine, { ...request, temperature: 0 });
      expect(runs[0]!.result.text).to.equal(greedy.result.text);
    } finally {
      await greedyByDefault.close();
    }
  });

  it("applies a default repetition penalty to requests that choose none; a request's own wins", async () => {
    const penalisedByDefault = await engineWith({
      samplingDefaults: { temperature: 0, repetitionPenalty: 1.5 },
    });
    try {
      const request = { messages: ask('Say it again'), maxTokens: 30, temperature: 0 };
      const plain = (await complete(engine, request)).result.text;
      const penalised = (await complete(penalisedByDefault, request)).result.text;
      const optedOut = await complete(penalisedByDefault, { ...request, repetitionPenalty: 1 });
      expect(penalised).not.to.equal(plain);
      expect(optedOut.result.text).to.equal(plain);
    } finally {
      await penalisedByDefault.close();
    }
  });

  it('reproduces sampled output for the same seed', async () => {
    const request = {
      messages: ask('Pick at random'),
      maxTokens: 30,
      temperature: 1,
      topP: 0.95,
      topK: 50,
    };
    const a = await complete(engine, { ...request, seed: 7 });
    const b = await complete(engine, { ...request, seed: 7 });
    const c = await complete(engine, { ...request, seed: 8 });
    expect(a.result.text).to.equal(b.result.text);
    expect(c.result.text).not.to.equal(a.result.text);
  });

  it('stops a request whose signal aborts, freeing its slot while others go on', async () => {
    const other = { messages: ask('Keep going'), maxTokens: 60, temperature: 0 };
    const { result: expected } = await complete(engine, other);

    const controller = new AbortController();
    const aborted = await engine.generate({
      messages: ask('A long one'),
      maxTokens: 2000,
      temperature: 0,
      signal: controller.signal,
    });
    const running = complete(engine, other);
    let received = 0;
    for await (const delta of aborted.deltas) {
      received += delta.text.length;
      if (received > 5) controller.abort();
    }
    const result = await aborted.result;
    expect(result.finishReason).to.equal('cancelled');
    expect(result.usage.completionTokens).to.be.within(1, 1999);
    expect((await running).result.text).to.equal(expected.text);
    await waitFor(() => engine.load().running === 0);
  });

  it('refuses a request that does not fit the context, giving the numbers', async () => {
    const messages = ask('word '.repeat(700));
    const prompt = (await complete(engine, { messages, maxTokens: 1 })).result.usage.promptTokens;
    const room = 4096 - prompt;
    expect(room).to.be.within(1, 2047);

    const error = await rejection(engine.generate({ messages, maxTokens: room + 1 }));
    expect(error).to.be.instanceOf(EngineError);
    expect(error.code).to.equal('context_length_exceeded');
    expect(error.message).to.equal(
      `the prompt is ${prompt} tokens and ${room + 1} more were requested, 4097 in all, but the model's ` +
        `context is 4096 tokens; shorten the conversation or ask for at most ${room} tokens`,
    );
    const fits = await engine.generate({ messages, maxTokens: room, signal: AbortSignal.abort() });
    expect((await fits.result).finishReason).to.equal('cancelled');

    const tooLong = await rejection(engine.generate({ messages: ask('word '.repeat(1400)) }));
    expect(tooLong.code).to.equal('context_length_exceeded');
    expect(tooLong.message).to.match(
      /^the prompt is \d+ tokens but the model's context is 4096 tokens/,
    );
  });

  it('reuses the cache of the previous turn and answers as a cold engine does', async () => {
    const first: ChatMessage[] = ask('Remember the number 42.');
    const { result: reply } = await complete(engine, {
      messages: first,
      maxTokens: 20,
      temperature: 0,
    });
    const conversation: ChatMessage[] = [
      ...first,
      { role: 'assistant', content: reply.text },
      { role: 'user', content: 'Which number was it?' },
    ];
    const warm = (await complete(engine, { messages: conversation, maxTokens: 25, temperature: 0 }))
      .result;

    const cold = await engineWith({ prefixCacheBytes: 0, prefillChunkTokens: 16 });
    try {
      const coldResult = (
        await complete(cold, { messages: conversation, maxTokens: 25, temperature: 0 })
      ).result;
      expect(warm.usage.cachedPromptTokens).to.be.at.least(reply.usage.promptTokens);
      expect(coldResult.usage.cachedPromptTokens).to.equal(0);
      expect(warm.text).to.equal(coldResult.text);
    } finally {
      await cold.close();
    }
  });

  it('answers invalid_request when the chat template refuses the conversation', async () => {
    const strict = await mkdtemp(join(tmpdir(), 'engine-strict-'));
    try {
      await cp(await tinyModelFolder(), strict, { recursive: true });
      const configPath = join(strict, 'tokenizer_config.json');
      const config = JSON.parse(await readFile(configPath, 'utf8')) as Record<string, unknown>;
      config.chat_template = `{% if messages[0]['role'] == 'assistant' %}{{ raise_exception('Conversations must start with the user') }}{% endif %}${String(config.chat_template)}`;
      await writeFile(configPath, JSON.stringify(config));
      const picky = await createEngine({
        modelPath: strict,
        executionProvider: 'cpu',
        logger: quiet,
      });
      try {
        const error = await rejection(
          picky.generate({ messages: [{ role: 'assistant', content: 'hi' }] }),
        );
        expect(error.code).to.equal('invalid_request');
        expect(error.message).to.include('Conversations must start with the user');
      } finally {
        await picky.close();
      }
    } finally {
      await rm(strict, { recursive: true });
    }
  });
});

describe('engine limits (tiny model)', function () {
  it('caps every request at MAX_TOKENS', async () => {
    const engine = await engineWith({ maxTokens: 5 });
    try {
      const { result } = await complete(engine, {
        messages: ask('Hello'),
        maxTokens: 50,
        temperature: 0,
      });
      expect(result.usage.completionTokens).to.equal(5);
      expect(result.finishReason).to.equal('length');
      expect(engine.info.maxTokens).to.equal(5);
    } finally {
      await engine.close();
    }
  });

  it('answers queue_full with a Retry-After when the wait queue is full', async () => {
    const engine = await engineWith({ maxConcurrency: 1, maxQueue: 1 });
    try {
      const controller = new AbortController();
      const running = await engine.generate({
        messages: ask('Hello'),
        maxTokens: 2000,
        temperature: 0,
        signal: controller.signal,
      });
      await waitFor(() => engine.load().running === 1);
      const queued = await engine.generate({ messages: ask('Next'), maxTokens: 5, temperature: 0 });
      expect(engine.load()).to.deep.equal({ queued: 1, running: 1 });

      const error = await rejection(engine.generate({ messages: ask('One more') }));
      expect(error.code).to.equal('queue_full');
      expect(error.retryAfterSeconds).to.be.at.least(1);
      expect(error.message).to.match(/1 requests are already waiting for one of 1 batch slots/);

      controller.abort();
      expect((await running.result).finishReason).to.equal('cancelled');
      expect((await queued.result).usage.completionTokens).to.equal(5);
    } finally {
      await engine.close();
    }
  });

  it('survives a request cancelled while it still waits for a slot', async () => {
    const engine = await engineWith({ maxConcurrency: 1, maxQueue: 4 });
    try {
      const first = new AbortController();
      const running = await engine.generate({
        messages: ask('Hello'),
        maxTokens: 2000,
        temperature: 0,
        signal: first.signal,
      });
      await waitFor(() => engine.load().running === 1);
      const waiting = new AbortController();
      const queued = await engine.generate({
        messages: ask('Next'),
        maxTokens: 5,
        signal: waiting.signal,
      });
      waiting.abort();
      const result = await queued.result;
      expect(result.finishReason).to.equal('cancelled');
      expect(result.text).to.equal('');
      first.abort();
      await running.result;
      // The engine still serves.
      const after = await complete(engine, { messages: ask('Hi'), maxTokens: 3, temperature: 0 });
      expect(after.result.usage.completionTokens).to.equal(3);
    } finally {
      await engine.close();
    }
  });

  it('admits requests into free batch slots even without a wait queue', async () => {
    const engine = await engineWith({ maxConcurrency: 2, maxQueue: 0 });
    try {
      const [a, b] = await Promise.all([
        complete(engine, { messages: ask('One'), maxTokens: 3, temperature: 0 }),
        complete(engine, { messages: ask('Two'), maxTokens: 3, temperature: 0 }),
      ]);
      expect([a.result.usage.completionTokens, b.result.usage.completionTokens]).to.deep.equal([
        3, 3,
      ]);
    } finally {
      await engine.close();
    }
  });

  it('applies a smaller context length than the model declares', async () => {
    const engine = await engineWith({ contextLength: 64 });
    try {
      expect(engine.info.contextLength).to.equal(64);
      const error = await rejection(engine.generate({ messages: ask('word '.repeat(80)) }));
      expect(error.code).to.equal('context_length_exceeded');
    } finally {
      await engine.close();
    }
  });

  it('fails requests still running at close with unavailable, and refuses new ones', async () => {
    const engine = await engineWith();
    const generation = await engine.generate({
      messages: ask('Hello'),
      maxTokens: 2000,
      temperature: 0,
    });
    await waitFor(() => engine.load().running === 1);
    await engine.close();
    const error = await rejection(generation.result);
    expect(error.code).to.equal('unavailable');
    expect((await rejection(engine.generate({ messages: ask('again') }))).code).to.equal(
      'unavailable',
    );
  });
});

describe('engine recovery from a lost inference worker (tiny model)', function () {
  /** A logger keeping its lines, and the engine's restart lines among them. */
  function recordingLogger(onLine: (line: Record<string, unknown>) => void = () => undefined) {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger('engine-test', {
      level: 'info',
      write: (text) => {
        const line = JSON.parse(text) as Record<string, unknown>;
        lines.push(line);
        onLine(line);
      },
    });
    const named = (msg: string) => lines.filter((line) => line.msg === msg);
    return { logger, named };
  }

  const restarting = /^the inference worker crashed and is restarting; retry in \d+ s$/;
  const greedy = { messages: ask('Hello'), maxTokens: 8, temperature: 0 };
  const serving = (engine: Engine) =>
    eventually('the engine serves again', () => engine.status().state === 'serving', 20_000, 10);

  it('fails what it holds when its worker throws, then serves from a new one', async () => {
    const { logger, named } = recordingLogger();
    const engine = await engineWith({ maxConcurrency: 1, maxQueue: 2, logger });
    try {
      const expected = (await complete(engine, greedy)).result.text;
      const running = await engine.generate({
        messages: ask('A long one'),
        maxTokens: 2000,
        temperature: 0,
      });
      await waitFor(() => engine.load().running === 1);
      const queued = await engine.generate({ messages: ask('Next'), maxTokens: 5 });

      injectWorkerFault(engine, 'throw');
      for (const error of [await rejection(running.result), await rejection(queued.result)]) {
        expect(error).to.be.instanceOf(EngineError);
        expect(error.code).to.equal('unavailable');
        expect(error.message).to.match(restarting);
        expect(error.retryAfterSeconds).to.be.at.least(1);
      }
      const status = engine.status();
      expect(status.state).to.equal('restarting');
      expect(status.state === 'restarting' && status.reason).to.match(
        /^the inference worker crashed: a test injected this fault into an inference step; /,
      );
      expect(engine.load()).to.deep.equal({ queued: 0, running: 0 });
      const refused = await rejection(engine.generate(greedy));
      expect(refused.code).to.equal('unavailable');
      expect(refused.message).to.match(restarting);

      await serving(engine);
      expect((await complete(engine, greedy)).result.text).to.equal(expected);
      expect(engine.restarts()).to.deep.equal({ crash: 1, exit: 0, load_failed: 0 });
      expect(named('restarting the inference worker')).to.have.length(1);
      expect(named('restarting the inference worker')[0]).to.include({
        level: 'warn',
        reason: 'crash',
        cause: 'the inference worker crashed: a test injected this fault into an inference step',
        backoffSeconds: FIRST_RESTART_DELAY_MS / 1000,
      });
      expect(named('inference worker restarted')).to.have.length(1);
    } finally {
      await engine.close();
    }
  });

  it('restarts a worker whose thread exits abruptly', async () => {
    const engine = await engineWith({ logger: recordingLogger().logger });
    try {
      const running = await engine.generate({
        messages: ask('A long one'),
        maxTokens: 2000,
        temperature: 0,
      });
      await waitFor(() => engine.load().running === 1);
      injectWorkerFault(engine, 'exit');
      expect((await rejection(running.result)).message).to.match(restarting);
      const status = engine.status();
      expect(status.state === 'restarting' && status.reason).to.match(
        /^the inference worker exited with code 70; /,
      );
      await serving(engine);
      expect((await complete(engine, greedy)).result.usage.completionTokens).to.equal(8);
      expect(engine.restarts()).to.deep.equal({ crash: 0, exit: 1, load_failed: 0 });
    } finally {
      await engine.close();
    }
  });

  it('keeps trying to reload a model it cannot load, saying why, waiting longer each time', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'engine-reload-'));
    const { logger, named } = recordingLogger();
    await cp(await tinyModelFolder(), dir, { recursive: true });
    const engine = await createEngine({ modelPath: dir, executionProvider: 'cpu', logger });
    try {
      await rename(join(dir, 'onnx'), join(dir, 'onnx-away'));
      injectWorkerFault(engine, 'exit');
      const reason = await eventually(
        'a failed reload in the status',
        () => {
          const status = engine.status();
          return status.state === 'restarting' && /could not be reloaded/.test(status.reason)
            ? status.reason
            : undefined;
        },
        20_000,
        10,
      );
      expect(reason).to.match(
        /^the model could not be reloaded: cannot load .*model\.onnx: .*; a new inference worker starts in \d s$/,
      );
      expect((await rejection(engine.generate(greedy))).message).to.match(restarting);
      await rename(join(dir, 'onnx-away'), join(dir, 'onnx'));

      await serving(engine);
      expect((await complete(engine, greedy)).result.usage.completionTokens).to.equal(8);
      const waits = named('restarting the inference worker').map((line) => [
        line.reason,
        line.backoffSeconds,
      ]);
      expect(waits.slice(0, 2)).to.deep.equal([
        ['exit', 1],
        ['load_failed', 2],
      ]);
      expect(engine.restarts()).to.include({ exit: 1 });
      expect(engine.restarts().load_failed).to.be.at.least(1);
    } finally {
      await engine.close();
      await rm(dir, { recursive: true });
    }
  });

  it('does not restart its worker once closed during the backoff', async () => {
    const { logger, named } = recordingLogger();
    const engine = await engineWith({ logger });
    injectWorkerFault(engine, 'exit');
    await waitFor(() => engine.status().state === 'restarting');
    await engine.close();
    await new Promise((resolve) => setTimeout(resolve, FIRST_RESTART_DELAY_MS + 300));
    expect(engine.status()).to.deep.equal({ state: 'closed' });
    expect(named('loading the model in a new inference worker')).to.deep.equal([]);
    const refused = await rejection(engine.generate(greedy));
    expect(refused.message).to.equal('the engine is shutting down; retry on another replica');
  });

  it('closes a new worker that is still loading the model, never serving from it', async () => {
    let closing: Promise<void> | undefined;
    const { logger, named } = recordingLogger((line) => {
      if (line.msg === 'loading the model in a new inference worker') closing = engine.close();
    });
    const engine = await engineWith({ logger });
    injectWorkerFault(engine, 'exit');
    await eventually('the new worker loads', () => closing !== undefined, 20_000, 10);
    await closing;
    expect(engine.status()).to.deep.equal({ state: 'closed' });
    expect(named('inference worker restarted')).to.deep.equal([]);
  });
});

describe('model folders the engine refuses', function () {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'engine-refuse-'));
    await cp(await tinyModelFolder(), dir, { recursive: true });
  });
  afterEach(() => rm(dir, { recursive: true }));

  it('refuses a folder without tokenizer.json', async () => {
    await rm(join(dir, 'tokenizer.json'));
    const error = await rejection(createEngine({ modelPath: dir, logger: quiet }));
    expect(error.message).to.match(
      /has no tokenizer\.json; the engine needs the model's Hugging Face tokenizer/,
    );
  });

  it('refuses a graph without KV-cache inputs, saying how to export one', async () => {
    // A "language model" that maps each token straight to logits and keeps no cache.
    const vocab = 279;
    const g = new GraphBuilder();
    g.inputs.push(
      { name: 'input_ids', elemType: DataType.INT64, shape: ['batch', 'seq'] },
      { name: 'attention_mask', elemType: DataType.INT64, shape: ['batch', 'seq'] },
    );
    const table = g.weight({
      name: 'table',
      dataType: DataType.FLOAT,
      dims: [vocab, vocab],
      bytes: () => new Uint8Array(new Float32Array(vocab * vocab).buffer),
    });
    g.op('Gather', [table, 'input_ids'], {}, { outputs: ['logits'] });
    g.outputs.push({ name: 'logits', elemType: DataType.FLOAT, shape: ['batch', 'seq', vocab] });
    await writeOnnxModel(join(dir, 'onnx'), g, {
      graphName: 'no-cache',
      opsets: [{ domain: '', version: 21 }],
    });

    const error = await rejection(
      createEngine({ modelPath: dir, executionProvider: 'cpu', logger: quiet }),
    );
    expect(error.message).to.match(
      /cannot load .*model\.onnx: the graph has no KV-cache inputs .*with-past/,
    );
  });

  it('refuses an encoder-decoder model', async () => {
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    await writeFile(
      join(dir, 'config.json'),
      JSON.stringify({ ...config, is_encoder_decoder: true, model_type: 't5' }),
    );
    const error = await rejection(createEngine({ modelPath: dir, logger: quiet }));
    expect(error.message).to.match(/encoder-decoder model \(t5\)/);
  });

  it('refuses cuda when the CUDA provider is not installed, saying how GPU images get it', async function () {
    if (cudaProviderInstalled()) this.skip();
    const error = await rejection(
      createEngine({ modelPath: dir, executionProvider: 'cuda', logger: quiet }),
    );
    expect(error.message).to.match(
      /CUDA provider is not installed.*ONNXRUNTIME_NODE_INSTALL=cuda12/,
    );
  });
});
