// Time as the queue and leader election see it: injectable, so unit tests can move time by hand
// instead of sleeping.

export interface Clock {
  /** Milliseconds on a monotonic clock (never jumps back when the wall clock is set). */
  now(): number;
  /** Runs fn after ms; returns a function that cancels it. */
  setTimer(fn: () => void, ms: number): () => void;
}

export const realClock: Clock = {
  now: () => performance.now(),
  setTimer(fn, ms) {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
};
