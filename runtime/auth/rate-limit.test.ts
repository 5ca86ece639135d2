import { expect } from 'chai';
import { RateLimiter } from './rate-limit.ts';

// The limiter takes the time as an argument, so these cases run on a simulated clock.
describe('RateLimiter', () => {
  it("allows a minute's allowance at once, then one request per 60/limit seconds", () => {
    const limiter = new RateLimiter();
    for (let i = 0; i < 3; i++) expect(limiter.take('k', 3, 0)).to.deep.equal({ allowed: true });
    expect(limiter.take('k', 3, 0)).to.deep.equal({ allowed: false, retryAfterSeconds: 20 });
    expect(limiter.take('k', 3, 15_000)).to.deep.equal({ allowed: false, retryAfterSeconds: 5 });
    expect(limiter.take('k', 3, 20_000)).to.deep.equal({ allowed: true });
  });

  it("keeps each key's allowance apart", () => {
    const limiter = new RateLimiter();
    expect(limiter.take('a', 1, 0).allowed).to.equal(true);
    expect(limiter.take('a', 1, 0).allowed).to.equal(false);
    expect(limiter.take('b', 1, 0).allowed).to.equal(true);
  });

  it('never refills beyond the limit, and applies a lowered limit at once', () => {
    const limiter = new RateLimiter();
    limiter.take('k', 100, 0);
    let allowed = 0;
    while (limiter.take('k', 2, 3_600_000).allowed) allowed++;
    expect(allowed).to.equal(2);
  });

  it('asks for at least one second, and survives a clock that steps back', () => {
    const limiter = new RateLimiter();
    limiter.take('k', 6000, 1000);
    for (let i = 0; i < 5999; i++) limiter.take('k', 6000, 1000);
    expect(limiter.take('k', 6000, 1000)).to.deep.equal({ allowed: false, retryAfterSeconds: 1 });
    expect(limiter.take('k', 6000, 0).allowed).to.equal(false);
  });
});
