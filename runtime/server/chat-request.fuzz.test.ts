// Property-based fuzzing of the /api/chat body validator. Runs RUNS cases per property with a
// fixed seed; FUZZ_RUNS and FUZZ_SEED change both (see test/support/fuzz.ts).
import { expect } from 'chai';
import fc from 'fast-check';
import { fuzzParameters, fuzzRuns } from '../../test/support/fuzz.ts';
import { messages, requestBody, sharedFields } from '../../test/support/request-bodies.ts';
import {
  expectRefusalNamingField,
  expectValidGeneration,
} from '../../test/support/request-checks.ts';
import { type ChatCall, parseChatRequest } from './chat-request.ts';

const RUNS = fuzzRuns(1000);
const limits = { maxTokens: 256 };

const ROLES = ['system', 'user', 'assistant'];
const fields = {
  messages: messages(ROLES, fc.string({ maxLength: 8 })),
  ...sharedFields(limits.maxTokens),
};
const body = requestBody(fc.record(fields, { requiredKeys: ['messages'] }), [
  ...Object.keys(fields),
  ...ROLES,
  'developer',
  'tool',
  'model',
  'max_token',
]);

describe('parseChatRequest fuzzing (/api/chat)', () => {
  it(`returns a valid call or a 400 naming the field (${RUNS} cases)`, () => {
    fc.assert(
      fc.property(body, (raw) => {
        let call: ChatCall;
        try {
          call = parseChatRequest(raw, limits);
        } catch (error) {
          expectRefusalNamingField(error, raw);
          expect(error.status).to.equal(400);
          return;
        }
        expectValidGeneration(call.generation, limits.maxTokens);
        expect(call.stream).to.be.a('boolean');
      }),
      fuzzParameters(RUNS),
    );
  });
});
