// Property-based fuzzing of the /v1/chat/completions body validator. Runs RUNS cases per
// property with a fixed seed; FUZZ_RUNS and FUZZ_SEED change both (see test/support/fuzz.ts).
import { expect } from 'chai';
import fc from 'fast-check';
import { fuzzParameters, fuzzRuns } from '../../test/support/fuzz.ts';
import { messages, requestBody, sharedFields } from '../../test/support/request-bodies.ts';
import {
  expectRefusalNamingField,
  expectValidGeneration,
} from '../../test/support/request-checks.ts';
import { type CompletionCall, parseCompletionRequest } from './openai-request.ts';

const RUNS = fuzzRuns(1000);
const limits = { maxTokens: 256, modelId: 'tiny' };

const ROLES = ['system', 'developer', 'user', 'assistant'];
const text = fc.string({ maxLength: 8 });
const content = fc.oneof(
  text,
  fc.array(fc.record({ type: fc.constant('text'), text }), { maxLength: 3 }),
);
// max_tokens is left to the mutations: beside an unequal max_completion_tokens it is refused.
const { max_tokens: _, ...shared } = sharedFields(limits.maxTokens);
const fields = {
  model: fc.constant(limits.modelId),
  messages: messages(ROLES, content),
  ...shared,
  max_completion_tokens: fc.integer({ min: 1, max: limits.maxTokens }),
  stream_options: fc.record({ include_usage: fc.boolean() }, { requiredKeys: [] }),
  n: fc.constant(1),
  tools: fc.constant([]),
  logprobs: fc.constant(false),
  response_format: fc.constant({ type: 'text' }),
  user: fc.string({ maxLength: 8 }),
};
const valid = fc
  .record(fields, { requiredKeys: ['model', 'messages'] })
  // stream_options is allowed only with stream true.
  .map(({ stream_options, ...rest }) => (rest.stream ? { ...rest, stream_options } : rest));
const body = requestBody(valid, [
  ...Object.keys(fields),
  'max_tokens',
  ...ROLES,
  limits.modelId,
  ...['tool', 'function', 'text', 'image_url', 'json_object', 'functions'],
]);

describe('parseCompletionRequest fuzzing (/v1/chat/completions)', () => {
  it(`returns a valid call or a 4xx naming the field (${RUNS} cases)`, () => {
    fc.assert(
      fc.property(body, (raw) => {
        let call: CompletionCall;
        try {
          call = parseCompletionRequest(raw, limits);
        } catch (error) {
          expectRefusalNamingField(error, raw);
          // 404 only for another model: OpenAI's answer to an unknown model id.
          expect(
            error.status === 400 || (error.status === 404 && error.param === 'model'),
          ).to.equal(true);
          return;
        }
        expectValidGeneration(call.generation, limits.maxTokens);
        expect(call.stream).to.be.a('boolean');
        expect(call.includeUsage).to.equal(call.includeUsage && call.stream);
      }),
      fuzzParameters(RUNS),
    );
  });
});
