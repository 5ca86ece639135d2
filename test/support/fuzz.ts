// The fuzz tests' budget (the *.fuzz.test.ts files): a fixed seed and a fixed number of cases
// per property, so `npm test` is reproducible and its time bounded. To hunt longer, or elsewhere:
//   FUZZ_RUNS=20000 FUZZ_SEED=7 npx mocha runtime/server/chat-request.fuzz.test.ts
// A failing property prints its seed and counterexample path; rerun with that FUZZ_SEED to see it.
import type fc from 'fast-check';

const DEFAULT_SEED = 18_003;

function integerFromEnv(name: string, min: number): number | undefined {
  const text = process.env[name];
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min) {
    throw new Error(
      `${name} must be a whole number of at least ${min}, not "${text}"; unset it for the default`,
    );
  }
  return value;
}

/** The cases each property runs: FUZZ_RUNS when set, else the file's own default. */
export function fuzzRuns(defaultRuns: number): number {
  return integerFromEnv('FUZZ_RUNS', 1) ?? defaultRuns;
}

/** fc.assert parameters: FUZZ_SEED (or the fixed default seed) and `runs` cases. */
export function fuzzParameters<T>(runs: number): fc.Parameters<T> {
  return {
    seed: integerFromEnv('FUZZ_SEED', Number.MIN_SAFE_INTEGER) ?? DEFAULT_SEED,
    numRuns: runs,
  };
}
