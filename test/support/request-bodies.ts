// Arbitrary request bodies for the chat validators' fuzz tests: a valid body with up to three
// mutations (a field or a message's key set to a wrong value, removed, or added), so every field
// meets wrong values, not only the first one checked; now and then no body, or any JSON. Each is
// what express.json() hands over (a JSON round trip), with the names objects inherit
// ("__proto__", "toString", ...) among the keys and strings, as a client can send them.
import fc from 'fast-check';

const INHERITED_NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'];

/** Numbers at and just past the fields' bounds, and any others. */
const numbers = fc.oneof(
  fc.constantFrom(
    ...[0, 0.5, 1, 1.5, 2, 2.5, 4, 5, 40, 255, 256, 257, 1e6, 1e6 + 1, 5e-324],
    ...[-1, -2, -2.5, 2 ** 53 - 1, 2 ** 53, -(2 ** 53), 1e308, -1e308],
  ),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/** Any value a field could be set to: wrong types, edge numbers, the API's own words. */
function anything(words: readonly string[]): fc.Arbitrary<unknown> {
  const word = fc.constantFrom(...words, ...INHERITED_NAMES, '');
  const part = fc.record(
    { type: word, text: fc.oneof(fc.string({ maxLength: 4 }), numbers, fc.constant(null)) },
    { requiredKeys: [] },
  );
  return fc.oneof(
    numbers,
    { weight: 3, arbitrary: word },
    fc.string({ maxLength: 8 }),
    fc.constantFrom(true, false, null, [], {}),
    fc.array(fc.oneof(fc.string({ maxLength: 4 }), numbers, part, fc.constant(null)), {
      maxLength: 5,
    }),
    part,
    fc.jsonValue({ maxDepth: 2 }),
  );
}

const REMOVE = Symbol('remove');

interface Mutation {
  /** A top-level key, or [message index, key of that message] (null: the whole message). */
  at: string | [number, string | null];
  value: unknown;
}

function mutations(words: readonly string[]) {
  const key = fc.constantFrom(...words, ...INHERITED_NAMES);
  const messageKey = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom('role', 'content') },
    fc.constantFrom('name', ...INHERITED_NAMES),
  );
  const mutation: fc.Arbitrary<Mutation> = fc.record({
    at: fc.oneof(key, fc.tuple(fc.nat(3), fc.option(messageKey))),
    value: fc.oneof(
      { weight: 4, arbitrary: anything(words) },
      { weight: 1, arbitrary: fc.constant(REMOVE) },
    ),
  });
  return fc.array(mutation, { maxLength: 3 });
}

// Defined, not assigned, so "__proto__" becomes an own key as JSON.parse makes it.
function setOwn(object: Record<string, unknown>, key: string, value: unknown): void {
  if (value === REMOVE) Reflect.deleteProperty(object, key);
  else
    Object.defineProperty(object, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
}

// A JSON copy: generated values are changed only in copies, which fast-check's shrinking needs.
const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

function mutate(valid: object, changes: readonly Mutation[]): unknown {
  const body = copy(valid) as Record<string, unknown>;
  for (const change of changes) {
    const { at } = change;
    const value = change.value === REMOVE ? REMOVE : copy(change.value);
    if (typeof at === 'string') {
      setOwn(body, at, value);
      continue;
    }
    const [index, key] = at;
    const list = body.messages;
    if (!Array.isArray(list) || index >= list.length) continue;
    if (key === null) {
      if (value === REMOVE) list.splice(index, 1);
      else list[index] = value;
    } else if (typeof list[index] === 'object' && list[index] !== null) {
      setOwn(list[index] as Record<string, unknown>, key, value);
    }
  }
  return copy(body);
}

/**
 * Bodies around the `valid` ones, mutated at keys among `words` (field names, and others) and
 * with values that include `words` (roles, part types, model ids...).
 */
export function requestBody(
  valid: fc.Arbitrary<object>,
  words: readonly string[],
): fc.Arbitrary<unknown> {
  const mutated = fc.tuple(valid, mutations(words)).map(([body, changes]) => mutate(body, changes));
  return fc.oneof(
    { weight: 30, arbitrary: mutated },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  );
}

const nonEmpty = fc.string({ minLength: 1, maxLength: 4 });

/** Valid values of the fields both APIs share, for a server answering at most `maxTokens`. */
export const sharedFields = (maxTokens: number) => ({
  max_tokens: fc.integer({ min: 1, max: maxTokens }),
  temperature: fc.double({ min: 0, max: 2, noNaN: true }),
  top_p: fc.double({ min: Number.MIN_VALUE, max: 1, noNaN: true }),
  top_k: fc.integer({ min: 0, max: 1e6 }),
  frequency_penalty: fc.double({ min: -2, max: 2, noNaN: true }),
  presence_penalty: fc.double({ min: -2, max: 2, noNaN: true }),
  repetition_penalty: fc.double({ min: Number.MIN_VALUE, max: 2, noNaN: true }),
  stop: fc.oneof(nonEmpty, fc.array(nonEmpty, { minLength: 1, maxLength: 4 })),
  seed: fc.maxSafeInteger(),
  stream: fc.boolean(),
});

/** Valid `messages`: one to three of `roles`, with `content`. */
export const messages = (roles: readonly string[], content: fc.Arbitrary<unknown>) =>
  fc.array(fc.record({ role: fc.constantFrom(...roles), content }), { minLength: 1, maxLength: 3 });
