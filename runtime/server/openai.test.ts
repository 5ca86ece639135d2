// The OpenAI-compatible routes through the official `openai` SDK, unchanged: if the SDK can
// parse what the server sends, so can the tools built on it.
import { expect } from 'chai';
import OpenAI from 'openai';
import {
  getToken,
  startTestRuntime,
  TEST_API_KEY,
  type TestModel,
  type TestRuntime,
  writeTestModel,
} from '../../test/support/runtime-server.ts';

describe('OpenAI-compatible API (official SDK)', function () {
  let model: TestModel;
  let runtime: TestRuntime;
  let client: OpenAI;
  const messages = [
    { role: 'system' as const, content: 'You are terse.' },
    { role: 'user' as const, content: 'Say something.' },
  ];

  before(async () => {
    model = await writeTestModel();
    runtime = await startTestRuntime(model.dir);
    // The API key itself as the bearer, as every OpenAI client sends it; no retries, so each
    // refusal is seen as it is.
    client = new OpenAI({ apiKey: TEST_API_KEY, baseURL: `${runtime.chatUrl}/v1`, maxRetries: 0 });
  });
  after(async () => {
    await runtime?.stop();
    await model?.remove();
  });

  it('lists the served model', async () => {
    const models = [];
    for await (const m of client.models.list()) models.push(m);
    expect(models).to.have.length(1);
    expect(models[0]).to.include({ id: 'tiny-chat', object: 'model', owned_by: 'clawbot' });
    expect(models[0]!.created).to.be.a('number');
    expect((await client.models.retrieve('tiny-chat')).id).to.equal('tiny-chat');
  });

  it('creates a completion', async () => {
    const completion = await client.chat.completions.create({
      model: 'tiny-chat',
      messages,
      max_tokens: 6,
      temperature: 0,
    });
    expect(completion.object).to.equal('chat.completion');
    expect(completion.id).to.match(/^chatcmpl-/);
    expect(completion.model).to.equal('tiny-chat');
    expect(completion.choices).to.have.length(1);
    const [choice] = completion.choices;
    expect(choice!.message.role).to.equal('assistant');
    expect(choice!.message.content).to.be.a('string');
    expect(choice!.finish_reason).to.equal('length');
    expect(completion.usage!.completion_tokens).to.equal(6);
    expect(completion.usage!.total_tokens).to.equal(
      completion.usage!.prompt_tokens + completion.usage!.completion_tokens,
    );
  });

  it('streams a completion whose chunks add up to the same answer, with usage on request', async () => {
    const request = {
      model: 'tiny-chat',
      messages,
      max_completion_tokens: 10,
      temperature: 0,
      seed: 42,
      stop: ['never-generated-stop-sequence'],
    };
    const stream = await client.chat.completions.create({
      ...request,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    const finishReasons: (string | null)[] = [];
    let usage: OpenAI.CompletionUsage | null | undefined;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      expect(chunk.object).to.equal('chat.completion.chunk');
      for (const choice of chunk.choices) {
        text += choice.delta.content ?? '';
        finishReasons.push(choice.finish_reason);
      }
      if (chunk.usage) usage = chunk.usage;
    }
    expect(chunks).to.be.greaterThan(2);
    expect(finishReasons.at(-1)).to.equal('length');
    expect(finishReasons.slice(0, -1).every((r) => r === null)).to.equal(true);
    expect(usage!.completion_tokens).to.equal(10);

    const whole = await client.chat.completions.create(request);
    expect(text).to.equal(whole.choices[0]!.message.content);
  });

  it('streams without a usage chunk unless asked', async () => {
    const stream = await client.chat.completions.create({
      model: 'tiny-chat',
      messages,
      max_tokens: 3,
      stream: true,
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.every((c) => c.choices.length === 1 && c.usage === undefined)).to.equal(true);
  });

  it('accepts a token from /api/auth as the bearer too', async () => {
    const token = await getToken(runtime.chatUrl);
    const withToken = new OpenAI({
      apiKey: token,
      baseURL: `${runtime.chatUrl}/v1`,
      maxRetries: 0,
    });
    const completion = await withToken.chat.completions.create({
      model: 'tiny-chat',
      messages,
      max_tokens: 1,
    });
    expect(completion.usage!.completion_tokens).to.equal(1);
  });

  const refusal = async (make: () => Promise<unknown>) => {
    const error = await make().then(
      () => expect.fail('the request was accepted'),
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(OpenAI.APIError);
    return error as InstanceType<typeof OpenAI.APIError>;
  };

  it('refuses n = 2 with a clear error', async () => {
    const error = await refusal(() =>
      client.chat.completions.create({ model: 'tiny-chat', messages, n: 2 }),
    );
    expect(error).to.be.instanceOf(OpenAI.BadRequestError);
    expect(error.param).to.equal('n');
    expect(error.type).to.equal('invalid_request_error');
    expect(error.message).to.include('one choice per request');
  });

  it('answers an unknown model with 404 naming the served one', async () => {
    const error = await refusal(() =>
      client.chat.completions.create({ model: 'gpt-4o', messages }),
    );
    expect(error).to.be.instanceOf(OpenAI.NotFoundError);
    expect(error.code).to.equal('model_not_found');
    expect(error.message).to.include('"tiny-chat"');
  });

  it('answers a wrong key with 401', async () => {
    const stranger = new OpenAI({
      apiKey: 'not-the-key',
      baseURL: `${runtime.chatUrl}/v1`,
      maxRetries: 0,
    });
    const error = await refusal(() => stranger.models.list());
    expect(error).to.be.instanceOf(OpenAI.AuthenticationError);
  });

  it('refuses max_tokens above MAX_TOKENS', async () => {
    const error = await refusal(() =>
      client.chat.completions.create({ model: 'tiny-chat', messages, max_tokens: 100_000 }),
    );
    expect(error.param).to.equal('max_tokens');
    expect(error.message).to.include('MAX_TOKENS');
  });

  it('raises the SDK error for an error event in the middle of a stream', async () => {
    const own = await startTestRuntime(model.dir);
    try {
      const ownClient = new OpenAI({
        apiKey: TEST_API_KEY,
        baseURL: `${own.chatUrl}/v1`,
        maxRetries: 0,
      });
      const stream = await ownClient.chat.completions.create({
        model: 'tiny-chat',
        messages,
        max_tokens: 8000,
        temperature: 0,
        stream: true,
      });
      const error = await (async () => {
        let chunks = 0;
        for await (const _chunk of stream) {
          // Closing the engine fails every generation it still holds, as a crash would.
          if (++chunks === 2) void own.server.model.loadedEngine()!.close();
        }
      })().then(
        () => expect.fail('the stream ended without an error'),
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(OpenAI.APIError);
      expect((error as Error).message).to.include('the engine is shutting down');
    } finally {
      await own.stop();
    }
  });
});
