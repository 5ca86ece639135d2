// A Clock for unit tests: time moves only when the test calls advance(), and timers that come due
// run in order of their due time.

import type { Clock } from '../../operator/kit/clock.ts';

export class FakeClock implements Clock {
  private current = 0;
  private nextId = 0;
  private readonly timers = new Map<number, { dueAt: number; fn: () => void }>();

  now(): number {
    return this.current;
  }

  setTimer(fn: () => void, ms: number): () => void {
    const id = this.nextId++;
    this.timers.set(id, { dueAt: this.current + Math.max(0, ms), fn });
    return () => this.timers.delete(id);
  }

  /** Moves time forward by ms, running every timer that comes due on the way. */
  advance(ms: number): void {
    const end = this.current + ms;
    for (;;) {
      const due = [...this.timers.entries()]
        .filter(([, timer]) => timer.dueAt <= end)
        .sort(([a, x], [b, y]) => x.dueAt - y.dueAt || a - b)[0];
      if (!due) break;
      const [id, timer] = due;
      this.timers.delete(id);
      this.current = timer.dueAt;
      timer.fn();
    }
    this.current = end;
  }

  pendingTimers(): number {
    return this.timers.size;
  }
}
