import { expect } from 'chai';
import { HttpError } from '../http-errors.ts';
import { parseChatRequest } from './chat-request.ts';
import { parseCompletionRequest } from './openai-request.ts';

const limits = { maxTokens: 256, modelId: 'tiny' };
const hello = [{ role: 'user', content: 'hello' }];

function refusal(parse: () => unknown): HttpError {
  try {
    parse();
  } catch (error) {
    expect(error).to.be.instanceOf(HttpError);
    return error as HttpError;
  }
  expect.fail('the request was accepted');
}

describe('parseChatRequest (/api/chat)', () => {
  it("reads the guide's request with the defaults left to the engine", () => {
    const call = parseChatRequest({ messages: hello }, limits);
    expect(call.stream).to.equal(false);
    expect(call.generation.messages).to.deep.equal(hello);
    expect(call.generation.maxTokens).to.equal(undefined);
    expect(call.generation.temperature).to.equal(undefined);
  });

  it('reads every option', () => {
    const call = parseChatRequest(
      {
        messages: [
          { role: 'system', content: 'be brief' },
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: 'hello' },
          { role: 'user', content: '' },
        ],
        max_tokens: 256,
        temperature: 0.7,
        top_p: 0.9,
        top_k: 40,
        frequency_penalty: 0.5,
        presence_penalty: -0.5,
        repetition_penalty: 1.2,
        stop: 'END',
        seed: 7,
        stream: true,
      },
      limits,
    );
    expect(call.stream).to.equal(true);
    expect(call.generation).to.deep.include({
      maxTokens: 256,
      temperature: 0.7,
      topP: 0.9,
      topK: 40,
      frequencyPenalty: 0.5,
      presencePenalty: -0.5,
      repetitionPenalty: 1.2,
      stop: ['END'],
      seed: 7,
    });
    expect(call.generation.messages.map((m) => m.role)).to.deep.equal([
      'system',
      'user',
      'assistant',
      'user',
    ]);
  });

  // Each bad body, the field the error must name, and words its message must contain.
  const refused: [string, unknown, string | null, RegExp][] = [
    ['an array body', [hello], null, /must be a JSON object/],
    ['no messages', {}, 'messages', /messages is required/],
    ['messages not an array', { messages: 'hi' }, 'messages', /must be an array, not a string/],
    ['empty messages', { messages: [] }, 'messages', /at least one message/],
    ['a message that is not an object', { messages: ['hi'] }, 'messages[0]', /must be an object/],
    [
      'an unknown role',
      { messages: [{ role: 'wizard', content: 'x' }] },
      'messages[0].role',
      /one of "system", "user", "assistant", not "wizard"/,
    ],
    ['a missing role', { messages: [{ content: 'x' }] }, 'messages[0].role', /, not missing/],
    [
      'a role every object has',
      { messages: [{ role: 'constructor', content: 'x' }] },
      'messages[0].role',
      /one of "system", "user", "assistant", not "constructor"/,
    ],
    [
      'non-string content',
      { messages: [{ role: 'user', content: 42 }] },
      'messages[0].content',
      /must be a string, not a number/,
    ],
    [
      'text parts (OpenAI only)',
      { messages: [{ role: 'user', content: [{ type: 'text', text: 'x' }] }] },
      'messages[0].content',
      /must be a string, not an array/,
    ],
    ['max_tokens 0', { messages: hello, max_tokens: 0 }, 'max_tokens', /from 1 to 256.*not 0/],
    ['max_tokens negative', { messages: hello, max_tokens: -5 }, 'max_tokens', /not -5/],
    [
      'max_tokens above MAX_TOKENS',
      { messages: hello, max_tokens: 100000 },
      'max_tokens',
      /at most 256 tokens: MAX_TOKENS/,
    ],
    ['max_tokens fractional', { messages: hello, max_tokens: 1.5 }, 'max_tokens', /whole number/],
    ['max_tokens a string', { messages: hello, max_tokens: '10' }, 'max_tokens', /not a string/],
    ['temperature too high', { messages: hello, temperature: 3 }, 'temperature', /at most 2/],
    ['temperature a string', { messages: hello, temperature: 'hot' }, 'temperature', /a number/],
    ['top_p 0', { messages: hello, top_p: 0 }, 'top_p', /greater than 0/],
    ['top_k negative', { messages: hello, top_k: -1 }, 'top_k', /0 turns it off/],
    [
      'frequency_penalty out of range',
      { messages: hello, frequency_penalty: 2.5 },
      'frequency_penalty',
      /at least -2 and at most 2, not 2.5/,
    ],
    [
      'presence_penalty a string',
      { messages: hello, presence_penalty: 'high' },
      'presence_penalty',
      /must be a number, not a string/,
    ],
    [
      'repetition_penalty 0',
      { messages: hello, repetition_penalty: 0 },
      'repetition_penalty',
      /greater than 0 and at most 2, not 0/,
    ],
    ['stop of numbers', { messages: hello, stop: [1] }, 'stop', /array of strings/],
    ['an empty stop', { messages: hello, stop: [''] }, 'stop', /must not be empty/],
    ['five stops', { messages: hello, stop: ['a', 'b', 'c', 'd', 'e'] }, 'stop', /at most 4/],
    ['stream a string', { messages: hello, stream: 'yes' }, 'stream', /true or false/],
    ['a misspelt field', { messages: hello, max_token: 5 }, 'max_token', /unknown field/],
  ];
  for (const [what, body, param, message] of refused) {
    it(`refuses ${what}`, () => {
      const error = refusal(() => parseChatRequest(body, limits));
      expect(error.status).to.equal(400);
      expect(error.param).to.equal(param);
      expect(error.message).to.match(message);
    });
  }
});

describe('parseCompletionRequest (/v1/chat/completions)', () => {
  it('reads OpenAI fields, text parts and the developer role, and ignores the rest', () => {
    const call = parseCompletionRequest(
      {
        model: 'tiny',
        messages: [
          { role: 'developer', content: 'be brief' },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'hi ' },
              { type: 'text', text: 'there' },
            ],
          },
        ],
        max_completion_tokens: 12,
        temperature: 0,
        stop: ['\n', 'END'],
        seed: 3,
        n: 1,
        stream: true,
        stream_options: { include_usage: true },
        presence_penalty: 0.5,
        user: 'someone',
        tools: [],
        max_tokens: null,
      },
      limits,
    );
    expect(call).to.deep.include({ stream: true, includeUsage: true });
    expect(call.generation.messages).to.deep.equal([
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'hi there' },
    ]);
    expect(call.generation).to.deep.include({
      maxTokens: 12,
      temperature: 0,
      seed: 3,
      presencePenalty: 0.5,
    });
    expect(call.generation.stop).to.deep.equal(['\n', 'END']);
  });

  it('takes max_tokens when it is the only limit', () => {
    const call = parseCompletionRequest({ model: 'tiny', messages: hello, max_tokens: 9 }, limits);
    expect(call.generation.maxTokens).to.equal(9);
    expect(call.includeUsage).to.equal(false);
  });

  const refused: [string, Record<string, unknown>, number, string, RegExp][] = [
    ['n = 2', { n: 2 }, 400, 'n', /one choice per request/],
    ['another model', { model: 'gpt-4o' }, 404, 'model', /serves "tiny"/],
    ['no model', { model: undefined }, 400, 'model', /model is required/],
    ['tools', { tools: [{ type: 'function' }] }, 400, 'tools', /does not call tools/],
    ['logprobs', { logprobs: true }, 400, 'logprobs', /log probabilities/],
    ['JSON mode', { response_format: { type: 'json_object' } }, 400, 'response_format', /JSON/],
    ['stream_options without stream', { stream_options: {} }, 400, 'stream_options', /only/],
    [
      'a tool message, naming which one',
      { messages: [...hello, { role: 'tool', content: 'x' }] },
      400,
      'messages[1].role',
      /^messages\[1\]\.role "tool" is not supported: this server does not call tools$/,
    ],
    [
      'a role every object has',
      { messages: [{ role: 'toString', content: 'x' }] },
      400,
      'messages[0].role',
      /not "toString"/,
    ],
    [
      'an image part',
      { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: {} }] }] },
      400,
      'messages[0].content[0]',
      /text only/,
    ],
    [
      'two different limits',
      { max_tokens: 5, max_completion_tokens: 6 },
      400,
      'max_completion_tokens',
      /differ/,
    ],
    [
      'max_completion_tokens too big',
      { max_completion_tokens: 257 },
      400,
      'max_completion_tokens',
      /MAX_TOKENS/,
    ],
  ];
  for (const [what, fields, status, param, message] of refused) {
    it(`refuses ${what}`, () => {
      const body = { model: 'tiny', messages: hello, ...fields };
      const error = refusal(() => parseCompletionRequest(body, limits));
      expect([error.status, error.param]).to.deep.equal([status, param]);
      expect(error.message).to.match(message);
    });
  }
});
