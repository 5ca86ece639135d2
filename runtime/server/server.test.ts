// The runtime server over real HTTP: real auth, the real engine on the tiny model.
import { expect } from 'chai';
import { readdir, readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'node:http';
import { eventually } from '../../tools/eventually.ts';
import { injectWorkerFault } from '../engine/engine.ts';
import {
  getToken,
  postChat,
  readEvents,
  startTestRuntime,
  type TestModel,
  type TestRuntime,
  writeTestModel,
} from '../../test/support/runtime-server.ts';

const hello = [{ role: 'user', content: 'Hello!' }];

interface ErrorBody {
  error: { message: string; type: string; code: string | null; param: string | null };
}

describe('runtime server', function () {
  let model: TestModel;
  let runtime: TestRuntime;
  let token: string;

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${runtime.chatUrl}${path}`, {
      method: 'POST',
      // A header given as '' is left out.
      headers: Object.fromEntries(
        Object.entries({
          'Content-Type': 'application/json',
          Authorization: `Bearer ${token}`,
          ...headers,
        }).filter(([, value]) => value !== ''),
      ),
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const engine = () => runtime.server.model.loadedEngine()!;
  const metric = async (name: string) => {
    const text = await (await fetch(`${runtime.healthUrl}/metrics`)).text();
    return text.split('\n').filter((line) => line.startsWith(name));
  };

  before(async () => {
    model = await writeTestModel();
    runtime = await startTestRuntime(model.dir, { env: { MAX_CONCURRENCY: '2' } });
    token = await getToken(runtime.chatUrl);
  });
  after(async () => {
    await runtime?.stop();
    await model?.remove();
  });

  describe('POST /api/chat', () => {
    it('answers with the message, usage and finish reason', async () => {
      const response = await post('/api/chat', { messages: hello, max_tokens: 5, temperature: 0 });
      expect(response.status).to.equal(200);
      const body = (await response.json()) as {
        message: { role: string; content: string };
        usage: { prompt_tokens: number; completion_tokens: number };
        finish_reason: string;
      };
      expect(body.message.role).to.equal('assistant');
      expect(body.message.content).to.be.a('string');
      expect(body.message.content.length).to.be.greaterThan(0);
      expect(body.usage.prompt_tokens).to.be.greaterThan(0);
      expect(body.usage.completion_tokens).to.equal(5);
      expect(body.finish_reason).to.equal('length');
    });

    it('streams deltas that add up to the final message', async () => {
      const response = await post('/api/chat', {
        messages: hello,
        max_tokens: 12,
        temperature: 0,
        stream: true,
      });
      expect(response.status).to.equal(200);
      expect(response.headers.get('content-type')).to.equal('text/event-stream; charset=utf-8');
      const events = [];
      for await (const event of readEvents(response.body!)) events.push(event);
      const deltas = events.filter((e) => e.event === 'delta');
      expect(deltas.length).to.be.greaterThan(0);
      expect(events.at(-1)!.event).to.equal('done');
      const done = JSON.parse(events.at(-1)!.data) as {
        message: { content: string };
        usage: { completion_tokens: number };
        finish_reason: string;
      };
      const streamed = deltas.map((e) => (JSON.parse(e.data) as { content: string }).content);
      expect(streamed.join('')).to.equal(done.message.content);
      expect(done.usage.completion_tokens).to.equal(12);
      expect(done.finish_reason).to.equal('length');

      // The same request without streaming gives the same text (greedy decoding).
      const plain = (await (
        await post('/api/chat', { messages: hello, max_tokens: 12, temperature: 0 })
      ).json()) as { message: { content: string } };
      expect(plain.message.content).to.equal(done.message.content);
    });
  });

  describe('refusals', () => {
    // Each request, the status, code and param of the answer, and words its message holds.
    const refusals: [
      string,
      () => Promise<Response>,
      number,
      string | null,
      string | null,
      RegExp,
    ][] = [
      [
        'malformed JSON',
        () => post('/api/chat', '{"messages": [', {}),
        400,
        'invalid_json',
        null,
        /not valid JSON/,
      ],
      [
        'a body that is not JSON',
        () => post('/api/chat', 'hello', { 'Content-Type': 'text/plain' }),
        400,
        'invalid_type',
        null,
        /no JSON body/,
      ],
      [
        'a JSON array',
        () => post('/api/chat', [hello]),
        400,
        'invalid_type',
        null,
        /must be a JSON object/,
      ],
      [
        'no messages',
        () => post('/api/chat', {}),
        400,
        'missing_required_parameter',
        'messages',
        /messages is required/,
      ],
      [
        'empty messages',
        () => post('/api/chat', { messages: [] }),
        400,
        'invalid_value',
        'messages',
        /at least one message/,
      ],
      [
        'an unknown role',
        () => post('/api/chat', { messages: [{ role: 'robot', content: 'x' }] }),
        400,
        'invalid_value',
        'messages[0].role',
        /not "robot"/,
      ],
      [
        'non-string content',
        () => post('/api/chat', { messages: [{ role: 'user', content: { text: 'x' } }] }),
        400,
        'invalid_type',
        'messages[0].content',
        /must be a string, not an object/,
      ],
      [
        'max_tokens 0',
        () => post('/api/chat', { messages: hello, max_tokens: 0 }),
        400,
        'invalid_value',
        'max_tokens',
        /from 1 to 8000/,
      ],
      [
        'max_tokens -1',
        () => post('/api/chat', { messages: hello, max_tokens: -1 }),
        400,
        'invalid_value',
        'max_tokens',
        /not -1/,
      ],
      [
        'max_tokens above MAX_TOKENS',
        () => post('/api/chat', { messages: hello, max_tokens: 1e9 }),
        400,
        'invalid_value',
        'max_tokens',
        /MAX_TOKENS/,
      ],
      [
        'temperature as a string',
        () => post('/api/chat', { messages: hello, temperature: 'warm' }),
        400,
        'invalid_type',
        'temperature',
        /must be a number/,
      ],
      [
        'stream as a string',
        () => post('/api/chat', { messages: hello, stream: 'true' }),
        400,
        'invalid_type',
        'stream',
        /true or false/,
      ],
      [
        'stop as a number',
        () => post('/api/chat', { messages: hello, stop: 5 }),
        400,
        'invalid_type',
        'stop',
        /string or an array/,
      ],
      [
        'a prompt longer than the context',
        () =>
          post('/api/chat', {
            messages: [{ role: 'user', content: longText(20_000) }],
            max_tokens: 1,
          }),
        400,
        'context_length_exceeded',
        'messages',
        /context is 8192 tokens/,
      ],
      [
        'a body over 1 MiB',
        () => post('/api/chat', { messages: [{ role: 'user', content: 'x'.repeat(1_100_000) }] }),
        413,
        'request_too_large',
        null,
        /larger than the 1048576 bytes/,
      ],
      [
        'no credentials',
        () => post('/api/chat', { messages: hello }, { Authorization: '' }),
        401,
        'missing_credentials',
        null,
        /Authorization: Bearer/,
      ],
      [
        'an altered token',
        () => post('/api/chat', { messages: hello }, { Authorization: `Bearer ${alter(token)}` }),
        401,
        null,
        null,
        /token/,
      ],
      [
        'an alg-none token',
        () => post('/api/chat', { messages: hello }, { Authorization: `Bearer ${algNone(token)}` }),
        401,
        null,
        null,
        /token/,
      ],
      [
        'the API key instead of a token',
        () =>
          post(
            '/api/chat',
            { messages: hello },
            { Authorization: 'Bearer test-api-key-0123456789' },
          ),
        401,
        'api_key_not_accepted',
        null,
        /exchange the key for a token/,
      ],
      [
        'GET on /api/chat',
        () => fetch(`${runtime.chatUrl}/api/chat`),
        405,
        'method_not_allowed',
        null,
        /answers POST requests, not GET/,
      ],
      [
        'an unknown path',
        () => post('/api/chatter', {}),
        404,
        'not_found',
        null,
        /POST \/api\/chat/,
      ],
    ];
    for (const [what, send, status, code, param, message] of refusals) {
      it(`answers ${status} to ${what}`, async () => {
        const response = await send();
        expect(response.status).to.equal(status);
        const body = (await response.json()) as ErrorBody;
        expect(body.error.message).to.match(message);
        if (code !== null) expect(body.error.code).to.equal(code);
        expect(body.error.param).to.equal(param);
        expect(body.error.type).to.be.a('string');
      });
    }

    it('is still serving after all of them', async () => {
      const response = await post('/api/chat', { messages: hello, max_tokens: 2 });
      expect(response.status).to.equal(200);
      expect(engine().load()).to.deep.equal({ queued: 0, running: 0 });
    });
  });

  describe('cancellation', () => {
    const cancelledCount = async () => {
      const [line] = await metric('clawbot_generations_total{finish_reason="cancelled"}');
      return line === undefined ? 0 : Number(line.split(' ')[1]);
    };

    it('aborts a streamed generation when the client disconnects', async () => {
      const before = await cancelledCount();
      const response = await post('/api/chat', {
        messages: hello,
        max_tokens: 8000,
        temperature: 0,
        stream: true,
      });
      const events = readEvents(response.body!);
      const first = await events.next();
      expect(first.value?.event).to.equal('delta');
      expect(engine().load().running).to.equal(1);
      await events.return(undefined); // stops reading: the body is cancelled, the socket closed
      await eventually(
        'the generation is aborted',
        () => engine().load().running === 0,
        20_000,
        10,
      );
      expect(await cancelledCount()).to.equal(before + 1);
    });

    it('aborts a non-streamed generation when the client disconnects', async () => {
      const before = await cancelledCount();
      const body = JSON.stringify({ messages: hello, max_tokens: 8000, temperature: 0 });
      const url = new URL(`${runtime.chatUrl}/api/chat`);
      const req = request(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      });
      req.on('error', () => undefined); // the socket is destroyed on purpose
      req.end(body);
      await eventually('the generation runs', () => engine().load().running === 1, 20_000, 10);
      req.destroy();
      await eventually(
        'the generation is aborted',
        () => engine().load().running === 0,
        20_000,
        10,
      );
      expect(await cancelledCount()).to.equal(before + 1);
    });
  });

  describe('GET /metrics', () => {
    it('reports requests, tokens, time to first token, engine gauges, errors and auth', async () => {
      const text = await (await fetch(`${runtime.healthUrl}/metrics`)).text();
      const has = (pattern: RegExp) => expect(text).to.match(pattern);
      has(
        /^clawbot_http_request_duration_seconds_count\{method="POST",route="\/api\/chat",status="200"\} [1-9]/m,
      );
      has(
        /^clawbot_http_request_duration_seconds_count\{method="POST",route="\/api\/chat",status="400"\} [1-9]/m,
      );
      has(
        /^clawbot_http_request_duration_seconds_count\{method="POST",route="\/api\/auth",status="200"\} [1-9]/m,
      );
      has(/^clawbot_prompt_tokens_total [1-9]/m);
      has(/^clawbot_completion_tokens_total [1-9]/m);
      has(/^clawbot_time_to_first_token_seconds_count [1-9]/m);
      has(/^clawbot_generations_total\{finish_reason="length"\} [1-9]/m);
      has(/^clawbot_engine_queue_depth 0$/m);
      has(/^clawbot_engine_running_sequences 0$/m);
      has(/^clawbot_http_requests_in_flight 0$/m);
      has(/^clawbot_http_errors_total\{route="\/api\/chat",code="invalid_json"\} 1$/m);
      has(/^clawbot_http_errors_total\{route="\/api\/chat",code="context_length_exceeded"\} 1$/m);
      has(/^clawbot_execution_provider_info\{provider="cpu"\} 1$/m);
      has(/^clawbot_model_loaded 1$/m);
      has(/^clawbot_apikey_requests_total\{.*outcome="ok"\} [1-9]/m);
      has(/^process_cpu_seconds_total /m);
    });
  });

  describe('logs', () => {
    it('writes one request line per request, without contents, keys or tokens', () => {
      const lines = runtime.logs.filter((l) => l.msg === 'request' && l.route === '/api/chat');
      expect(lines.length).to.be.greaterThan(10);
      const ok = lines.find((l) => l.status === 200 && l.finishReason === 'length')!;
      expect(ok).to.include({ method: 'POST', keyId: 'standalone', component: 'server' });
      expect(ok.promptTokens).to.be.greaterThan(0);
      expect(ok.completionTokens).to.be.greaterThan(0);
      // The wait for the first token is part of the request, which went on to more tokens.
      expect(ok.timeToFirstTokenMs).to.be.greaterThan(0);
      expect(ok.latencyMs).to.be.greaterThan(ok.timeToFirstTokenMs as number);
      const all = JSON.stringify(runtime.logs);
      expect(all).not.to.include('Hello!');
      expect(all).not.to.include(token);
      expect(all).not.to.include('test-api-key-0123456789');
    });

    it('puts the request id on every line logged for a request, and answers with it', async () => {
      const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
      /** The X-Request-Id answered, and the [msg, requestId] of each line logged meanwhile. */
      const logged = async (send: () => Promise<Response>) => {
        const from = runtime.logs.length;
        const response = await send();
        await response.text();
        // The request line is written once the response has ended.
        await eventually(
          'the request line',
          () => runtime.logs.slice(from).some((l) => l.msg === 'request'),
          20_000,
          10,
        );
        const lines = runtime.logs.slice(from).map((l) => [l.msg, l.requestId]);
        return { id: response.headers.get('x-request-id'), lines };
      };

      const refused = await logged(() => post('/api/chat', {}));
      expect(refused.id).to.match(uuid);
      expect(refused.lines).to.deep.equal([
        ['authentication', refused.id],
        ['request refused', refused.id],
        ['request', refused.id],
      ]);

      const chat = { messages: hello, max_tokens: 1 };
      const traced = await logged(() => post('/api/chat', chat, { 'X-Request-Id': 'trace-42' }));
      expect(traced.id).to.equal('trace-42');
      expect(traced.lines).to.deep.equal([
        ['authentication', 'trace-42'],
        ['request', 'trace-42'],
      ]);

      const tooLong = await logged(() =>
        post('/api/chat', {}, { 'X-Request-Id': 'x'.repeat(129) }),
      );
      expect(tooLong.id).to.match(uuid).and.not.equal(refused.id);
      expect(tooLong.lines.map(([, id]) => id)).to.deep.equal([tooLong.id, tooLong.id, tooLong.id]);
    });

    it('appends each finished exchange to the conversation log', async () => {
      const response = await post('/api/chat', {
        messages: [{ role: 'user', content: 'log me' }],
        max_tokens: 3,
      });
      // The tiny model samples at random: it may end within 3 tokens, so the log is compared
      // with the answer the client got rather than with a fixed finish reason.
      const answer = (await response.json()) as {
        message: { content: string };
        finish_reason: string;
        usage: { prompt_tokens: number; completion_tokens: number };
      };
      await runtime.server.stop(); // waits for queued log lines
      const [file, ...others] = await readdir(runtime.conversationDir);
      expect(others).to.deep.equal([]);
      expect(file).to.match(/^conversations-\d{4}-\d{2}-\d{2}\.[^.]+\.jsonl$/);
      const records = (await readFile(join(runtime.conversationDir, file!), 'utf8'))
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      const last = records.at(-1)!;
      expect(last).to.deep.include({
        key_id: 'standalone',
        model: 'tiny-chat',
        route: '/api/chat',
        messages: [{ role: 'user', content: 'log me' }],
        answer: answer.message.content,
        finish_reason: answer.finish_reason,
        usage: answer.usage,
      });
      expect(Date.parse(last.time as string)).to.be.closeTo(Date.now(), 60_000);
      expect(records.filter((r) => r.finish_reason === 'cancelled')).to.have.length(2);
    });
  });
});

describe('runtime server life cycle', function () {
  let model: TestModel;
  before(async () => {
    model = await writeTestModel();
  });
  after(() => model?.remove());

  it('answers probes while the model loads, and serves once it is loaded', async () => {
    const runtime = await startTestRuntime(model.dir, { load: false });
    try {
      expect((await fetch(`${runtime.healthUrl}/livez`)).status).to.equal(200);
      const loading = await fetch(`${runtime.healthUrl}/readyz`);
      expect(loading.status).to.equal(503);
      expect(await loading.json()).to.deep.equal({
        ready: false,
        status: 'loading',
        reason: `the model is loading from ${model.dir}`,
      });
      const token = await getToken(runtime.chatUrl);
      const early = await postChat(runtime, token, { messages: hello });
      expect(early.status).to.equal(503);
      expect(early.headers.get('retry-after')).to.equal('10');
      expect(((await early.json()) as ErrorBody).error.code).to.equal('model_loading');
      expect(await (await fetch(`${runtime.healthUrl}/metrics`)).text()).to.match(
        /^clawbot_model_loaded 0$/m,
      );

      await runtime.server.loadModel();
      const ready = await fetch(`${runtime.healthUrl}/readyz`);
      expect(ready.status).to.equal(200);
      expect(await ready.json()).to.deep.equal({
        ready: true,
        status: 'ready',
        model: 'tiny-chat',
        executionProvider: 'cpu',
      });
    } finally {
      await runtime.stop();
    }
  });

  it('ends a stream with an error event when the engine fails under it', async () => {
    const runtime = await startTestRuntime(model.dir);
    try {
      const token = await getToken(runtime.chatUrl);
      const response = await postChat(runtime, token, {
        messages: hello,
        max_tokens: 8000,
        temperature: 0,
        stream: true,
      });
      const events = readEvents(response.body!);
      expect((await events.next()).value?.event).to.equal('delta');
      // Closing the engine fails every generation it still holds, as a crash would.
      void runtime.server.model.loadedEngine()!.close();
      let last;
      for await (const event of events) last = event;
      expect(last?.event).to.equal('error');
      expect(JSON.parse(last!.data)).to.deep.equal({
        error: {
          message: 'the engine is shutting down; retry on another replica',
          type: 'server_error',
          code: 'unavailable',
          param: null,
        },
      });
      const metrics = await (await fetch(`${runtime.healthUrl}/metrics`)).text();
      expect(metrics).to.match(
        /^clawbot_http_errors_total\{route="\/api\/chat",code="unavailable"\} 1$/m,
      );
      const failure = runtime.logs.find((l) => l.msg === 'stream ended by an error');
      expect(failure?.requestId).to.equal(response.headers.get('x-request-id'));
    } finally {
      await runtime.stop();
    }
  });

  it('answers 503 while the engine restarts a crashed inference worker, then serves again', async () => {
    const runtime = await startTestRuntime(model.dir, { env: { MAX_CONCURRENCY: '1' } });
    const restarting = /^the inference worker crashed and is restarting; retry in \d+ s$/;
    const engine = runtime.server.model.loadedEngine()!;
    const metrics = async () => (await fetch(`${runtime.healthUrl}/metrics`)).text();
    try {
      const token = await getToken(runtime.chatUrl);
      const streamed = await postChat(runtime, token, {
        messages: hello,
        max_tokens: 8000,
        temperature: 0,
        stream: true,
      });
      const events = readEvents(streamed.body!);
      expect((await events.next()).value?.event).to.equal('delta');
      const waiting = postChat(runtime, token, { messages: hello, max_tokens: 5 });
      await eventually('the second request waits', () => engine.load().queued === 1, 20_000, 10);

      injectWorkerFault(engine, 'throw');
      let last;
      for await (const event of events) last = event;
      expect(last?.event).to.equal('error');
      const streamError = (JSON.parse(last!.data) as ErrorBody).error;
      expect(streamError).to.include({ type: 'server_error', code: 'unavailable' });
      expect(streamError.message).to.match(restarting);
      const refusedWaiting = await waiting;
      expect(refusedWaiting.status).to.equal(503);
      expect(Number(refusedWaiting.headers.get('retry-after'))).to.be.at.least(1);
      expect(((await refusedWaiting.json()) as ErrorBody).error.message).to.match(restarting);

      const readiness = await fetch(`${runtime.healthUrl}/readyz`);
      expect(readiness.status).to.equal(503);
      const ready = (await readiness.json()) as { status: string; reason: string };
      expect(ready).to.include({ ready: false, status: 'restarting', model: 'tiny-chat' });
      expect(ready.reason).to.match(
        /^the inference worker crashed: a test injected this fault into an inference step; /,
      );
      const during = await postChat(runtime, token, { messages: hello, max_tokens: 2 });
      expect(during.status).to.equal(503);
      expect(Number(during.headers.get('retry-after'))).to.be.at.least(1);
      expect(((await during.json()) as ErrorBody).error).to.include({ code: 'unavailable' });
      expect(await metrics()).to.match(/^clawbot_model_loaded 0$/m);

      await eventually(
        '/readyz answers 200 again',
        async () => (await fetch(`${runtime.healthUrl}/readyz`)).status === 200,
        20_000,
      );
      const after = await postChat(runtime, token, { messages: hello, max_tokens: 2 });
      expect(after.status).to.equal(200);
      const scraped = await metrics();
      expect(scraped).to.match(/^clawbot_engine_restarts_total\{reason="crash"\} 1$/m);
      expect(scraped).to.match(/^clawbot_engine_restarts_total\{reason="exit"\} 0$/m);
      expect(scraped).to.match(/^clawbot_model_loaded 1$/m);
      expect(runtime.logs.find((l) => l.msg === 'restarting the inference worker')).to.include({
        level: 'warn',
        component: 'engine',
        reason: 'crash',
        backoffSeconds: 1,
      });
    } finally {
      await runtime.stop();
    }
  });

  it('applies CONTEXT_LENGTH, and warns when it exceeds the model', async () => {
    const smaller = await startTestRuntime(model.dir, {
      env: { CONTEXT_LENGTH: '4096', MAX_TOKENS: '1024' },
    });
    try {
      expect(smaller.server.model.loadedEngine()!.info.contextLength).to.equal(4096);
    } finally {
      await smaller.stop();
    }
    const larger = await startTestRuntime(model.dir, {
      env: { CONTEXT_LENGTH: '100000', MAX_TOKENS: '1024' },
    });
    await larger.stop();
    const warning = larger.logs.find((l) => l.level === 'warn' && l.requested === 100000);
    expect(warning).to.include({
      msg: "CONTEXT_LENGTH is larger than the model's context; the model's is used",
      contextLength: 8192,
    });
  });

  it('answers 429 with Retry-After when the queue is full', async () => {
    const runtime = await startTestRuntime(model.dir, {
      env: { MAX_CONCURRENCY: '1', MAX_QUEUE: '1' },
    });
    const engine = runtime.server.model.loadedEngine()!;
    const token = await getToken(runtime.chatUrl);
    const long = () =>
      postChat(runtime, token, { messages: hello, max_tokens: 8000, temperature: 0, stream: true });
    try {
      const running = await long();
      await eventually('the first request runs', () => engine.load().running === 1, 20_000, 10);
      const waiting = await long();
      await eventually('the second request waits', () => engine.load().queued === 1, 20_000, 10);

      const refused = await long();
      expect(refused.status).to.equal(429);
      expect(Number(refused.headers.get('retry-after'))).to.be.at.least(1);
      const body = (await refused.json()) as ErrorBody;
      expect(body.error).to.include({ code: 'queue_full', type: 'rate_limit_error' });
      expect(body.error.message).to.match(/busy/);

      // The waiting request is cancelled only once it has produced text: the engine cannot
      // yet end a sequence that has no tokens (its detokenizer throws on decode([])).
      await running.body!.cancel();
      const events = readEvents(waiting.body!);
      expect((await events.next()).value?.event).to.equal('delta');
      await events.return(undefined);
      await eventually(
        'both generations are aborted',
        () => engine.load().running === 0 && engine.load().queued === 0,
        20_000,
        10,
      );
    } finally {
      await runtime.stop();
    }
  });

  it('stops gracefully: not ready, lets the answer in flight finish, then closes', async () => {
    const runtime = await startTestRuntime(model.dir);
    const engine = runtime.server.model.loadedEngine()!;
    const token = await getToken(runtime.chatUrl);
    try {
      const inFlight = postChat(runtime, token, {
        messages: hello,
        max_tokens: 1500,
        temperature: 0,
      });
      await eventually('the request runs', () => engine.load().running === 1, 20_000, 10);
      const stopped = runtime.server.stop();

      const readiness = await fetch(`${runtime.healthUrl}/readyz`);
      expect(readiness.status).to.equal(503);
      expect(((await readiness.json()) as { status: string }).status).to.equal('stopping');
      const refused = await fetch(`${runtime.chatUrl}/v1/models`).catch((error: Error) => error);
      expect(refused).to.be.instanceOf(Error); // the listener is closed

      const answer = await inFlight;
      expect(answer.status).to.equal(200);
      expect(
        ((await answer.json()) as { usage: { completion_tokens: number } }).usage.completion_tokens,
      ).to.equal(1500);
      await stopped;
      expect(runtime.logs.some((l) => l.msg === 'stopped')).to.equal(true);
    } finally {
      await runtime.stop();
    }
  });

  it('cuts answers that outlast the drain timeout', async () => {
    const runtime = await startTestRuntime(model.dir, { drainTimeoutMs: 200 });
    const engine = runtime.server.model.loadedEngine()!;
    const token = await getToken(runtime.chatUrl);
    try {
      const inFlight = postChat(runtime, token, {
        messages: hello,
        max_tokens: 8000,
        temperature: 0,
      }).catch((error: Error) => error);
      await eventually('the request runs', () => engine.load().running === 1, 20_000, 10);
      await runtime.server.stop();
      expect(await inFlight).to.be.instanceOf(Error);
      expect(
        runtime.logs.some(
          (l) => l.msg === 'cutting requests still in flight after the drain timeout',
        ),
      ).to.equal(true);
    } finally {
      await runtime.stop();
    }
  });

  it('applies conversation log retention at start, and keeps answering when the log cannot be written', async () => {
    const scratch = join(model.dir, '..', 'logs');
    await mkdir(scratch, { recursive: true });
    const expired = 'conversations-2020-01-01.old-pod.jsonl';
    await writeFile(join(scratch, expired), '{}\n');
    await writeFile(join(scratch, 'conversations-2099-01-01.future-pod.jsonl'), '{}\n');
    const withRetention = await startTestRuntime(model.dir, {
      load: false,
      env: { CONVERSATION_LOG_DIR: scratch, CONVERSATION_LOG_RETENTION: '720h' },
    });
    await withRetention.stop();
    expect(await readdir(scratch)).to.deep.equal(['conversations-2099-01-01.future-pod.jsonl']);

    // A folder inside a regular file can never be created: every append fails.
    const blocked = join(scratch, 'conversations-2099-01-01.future-pod.jsonl', 'logs');
    const runtime = await startTestRuntime(model.dir, { env: { CONVERSATION_LOG_DIR: blocked } });
    try {
      const token = await getToken(runtime.chatUrl);
      const response = await postChat(runtime, token, { messages: hello, max_tokens: 2 });
      expect(response.status).to.equal(200);
      await eventually('the lost line is counted at /metrics', async () =>
        /^clawbot_conversation_log_write_failures_total 1$/m.test(
          await (await fetch(`${runtime.healthUrl}/metrics`)).text(),
        ),
      );
    } finally {
      await runtime.stop();
    }
    expect(
      runtime.logs.some(
        (l) => l.level === 'warn' && String(l.msg).startsWith('cannot write the conversation log'),
      ),
    ).to.equal(true);
  });
});

/** The token with one character of its payload changed: the signature no longer matches. */
function alter(token: string): string {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const i = Math.floor(payload.length / 2);
  const swapped = payload[i] === 'A' ? 'B' : 'A';
  return `${header}.${payload.slice(0, i)}${swapped}${payload.slice(i + 1)}.${signature}`;
}

/** The token's claims under an unsigned "alg: none" header. */
function algNone(token: string): string {
  const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url');
  return `${header}.${token.split('.')[1]}.`;
}

/** Text of about `tokens` tokens for the tiny byte-level tokenizer, without long repeats. */
function longText(tokens: number): string {
  return Array.from({ length: tokens / 4 }, (_, i) => `${i % 997} `).join('');
}
