import { expect } from 'chai';
import {
  FIRST_RESTART_DELAY_MS,
  HEALTHY_UPTIME_MS,
  MAX_RESTART_DELAY_MS,
  restartDelayMs,
} from './restart-backoff.ts';

describe('restartDelayMs', () => {
  it('restarts the first lost worker after the first delay', () => {
    expect(restartDelayMs(undefined, 0)).to.equal(FIRST_RESTART_DELAY_MS);
    expect(restartDelayMs(undefined, 5_000)).to.equal(FIRST_RESTART_DELAY_MS);
  });

  it('doubles the wait while workers fail soon, up to the maximum', () => {
    const waits: number[] = [];
    let last: number | undefined;
    for (let i = 0; i < 8; i++) waits.push((last = restartDelayMs(last, 10)));
    expect(waits).to.deep.equal([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
    expect(Math.max(...waits)).to.equal(MAX_RESTART_DELAY_MS);
  });

  it('starts over after a worker that served long enough to count as healthy', () => {
    expect(restartDelayMs(16_000, HEALTHY_UPTIME_MS - 1)).to.equal(30_000);
    expect(restartDelayMs(16_000, HEALTHY_UPTIME_MS)).to.equal(FIRST_RESTART_DELAY_MS);
  });
});
