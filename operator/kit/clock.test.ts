import { expect } from 'chai';
import { realClock } from './clock.ts';

describe('the real clock', () => {
  it('waits for delays longer than setTimeout allows instead of firing at once', async () => {
    let fired = false;
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    const cancel = realClock.setTimer(() => (fired = true), 30 * 24 * 3600_000);
    await new Promise((r) => setTimeout(r, 50));
    cancel();
    process.off('warning', onWarning);
    expect(fired).to.equal(false);
    expect(warnings).to.not.include('TimeoutOverflowWarning');
  });

  it('still fires short timers', async () => {
    let fired = false;
    realClock.setTimer(() => (fired = true), 5);
    await new Promise((r) => setTimeout(r, 50));
    expect(fired).to.equal(true);
  });
});
