import { expect } from 'chai';
import { KeyBackoff } from './backoff.ts';

describe('KeyBackoff', () => {
  it('doubles per failure from the base delay, up to the cap', () => {
    const backoff = new KeyBackoff({ baseMs: 5, maxMs: 1000 });
    const delays = Array.from({ length: 10 }, () => backoff.next('a'));
    expect(delays).to.deep.equal([5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
    expect(backoff.failuresOf('a')).to.equal(10);
  });

  it('counts each key on its own and starts again after forget', () => {
    const backoff = new KeyBackoff({ baseMs: 5, maxMs: 1000 });
    backoff.next('a');
    backoff.next('a');
    expect(backoff.next('b')).to.equal(5);
    backoff.forget('a');
    expect(backoff.failuresOf('a')).to.equal(0);
    expect(backoff.next('a')).to.equal(5);
  });

  it('defaults to 5 ms doubling to a cap of 5 minutes, and stays capped after many failures', () => {
    const backoff = new KeyBackoff();
    expect(backoff.next('a')).to.equal(5);
    for (let i = 0; i < 2000; i++) backoff.next('a');
    expect(backoff.next('a')).to.equal(300_000);
  });

  it('refuses a cap below the base', () => {
    expect(() => new KeyBackoff({ baseMs: 10, maxMs: 5 })).to.throw(/baseMs <= maxMs/);
  });
});
