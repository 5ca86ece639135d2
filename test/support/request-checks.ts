// What the chat validators' fuzz tests require of every answer: an accepted request holds only
// values the engine can take; a refused one is a 4xx HttpError whose message names the field.
import { expect } from 'chai';
import type { GenerationRequest } from '../../runtime/engine/types.ts';
import { HttpError } from '../../runtime/http-errors.ts';

const ROLES = ['system', 'user', 'assistant'];

function expectOptionalNumber(
  value: unknown,
  name: string,
  {
    min,
    max,
    minExclusive = false,
    integer = false,
  }: {
    min: number;
    max: number;
    minExclusive?: boolean;
    integer?: boolean;
  },
): void {
  if (value === undefined) return;
  expect(value, name).to.be.a('number');
  const n = value as number;
  expect(Number.isFinite(n) && (!integer || Number.isInteger(n)), `${name} = ${n}`).to.equal(true);
  expect(minExclusive ? n > min : n >= min, `${name} = ${n}`).to.equal(true);
  expect(n, name).to.be.at.most(max);
}

export function expectValidGeneration(
  generation: Omit<GenerationRequest, 'signal'>,
  maxTokens: number,
): void {
  const { messages, stop } = generation;
  expect(messages).to.be.an('array').with.length.above(0);
  for (const message of messages) {
    expect(Object.keys(message).sort()).to.deep.equal(['content', 'role']);
    expect(ROLES).to.include(message.role);
    expect(message.content).to.be.a('string');
  }
  expectOptionalNumber(generation.maxTokens, 'maxTokens', {
    min: 1,
    max: maxTokens,
    integer: true,
  });
  expectOptionalNumber(generation.temperature, 'temperature', { min: 0, max: 2 });
  expectOptionalNumber(generation.topP, 'topP', { min: 0, max: 1, minExclusive: true });
  expectOptionalNumber(generation.topK, 'topK', { min: 0, max: 1e6, integer: true });
  expectOptionalNumber(generation.frequencyPenalty, 'frequencyPenalty', { min: -2, max: 2 });
  expectOptionalNumber(generation.presencePenalty, 'presencePenalty', { min: -2, max: 2 });
  expectOptionalNumber(generation.repetitionPenalty, 'repetitionPenalty', {
    min: 0,
    max: 2,
    minExclusive: true,
  });
  const safe = { min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER, integer: true };
  expectOptionalNumber(generation.seed, 'seed', safe);
  if (stop !== undefined) {
    expect(stop).to.be.an('array').with.length.at.most(4);
    for (const s of stop) expect(s).to.be.a('string').with.length.above(0);
  }
}

/** `error` is a 4xx HttpError; when the body was an object, its message names the field. */
export function expectRefusalNamingField(
  error: unknown,
  body: unknown,
): asserts error is HttpError {
  if (!(error instanceof HttpError)) throw error;
  expect(error.status).to.be.within(400, 499);
  expect(error.message).to.be.a('string').with.length.above(0);
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
    expect(error.param, error.message).to.be.a('string');
    expect(error.message, `param ${error.param}`).to.include(error.param);
  }
}
