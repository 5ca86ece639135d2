// Time as the queue and leader election see it: injectable, so unit tests can move time by hand
// instead of sleeping.

export interface Clock {
  /** Milliseconds on a monotonic clock (never jumps back when the wall clock is set). */
  now(): number;
  /** Runs fn after ms; returns a function that cancels it. */
  setTimer(fn: () => void, ms: number): () => void;
}

/** setTimeout's limit (about 24.8 days); longer delays fire at once with a warning. */
const maxTimerMs = 2 ** 31 - 1;

export const realClock: Clock = {
  now: () => performance.now(),
  // Requeues can be a month away (the next key rotation): wait in steps setTimeout accepts.
  setTimer(fn, ms) {
    let timer: NodeJS.Timeout;
    const wait = (left: number) => {
      timer = setTimeout(
        () => (left > maxTimerMs ? wait(left - maxTimerMs) : fn()),
        Math.min(left, maxTimerMs),
      );
    };
    wait(ms);
    return () => clearTimeout(timer);
  },
};
