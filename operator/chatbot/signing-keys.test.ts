import { expect } from 'chai';
import { clockToleranceMs, planSigningKeys, propagationDelayMs } from './signing-keys.ts';

const day = 24 * 3600_000;
const ttl = day;
const interval = 30 * day;
const t0 = new Date('2026-01-01T00:00:00Z');
const at = (ms: number) => new Date(t0.getTime() + ms);

describe('signing key rotation plan', () => {
  it('starts with one key that signs at once, and revisits at the rotation time', () => {
    const plan = planSigningKeys(undefined, t0, interval, ttl);
    expect(plan.next!.keys).to.have.length(1);
    expect(plan.next!.keys[0]!.createdAt).to.equal(t0.toISOString());
    expect(plan.revisitAt.getTime()).to.equal(t0.getTime() + interval);
  });

  it('changes nothing before the rotation is due', () => {
    const first = planSigningKeys(undefined, t0, interval, ttl).next!;
    const plan = planSigningKeys(first, at(10 * day), interval, ttl);
    expect(plan.next).to.equal(undefined);
    expect(plan.revisitAt.getTime()).to.equal(t0.getTime() + interval);
  });

  it('announces a successor ahead of use and keeps the old key until its tokens expire', () => {
    const first = planSigningKeys(undefined, t0, interval, ttl).next!;
    const now = at(interval);
    const plan = planSigningKeys(first, now, interval, ttl);
    const [old, successor] = plan.next!.keys;
    expect(successor!.createdAt).to.equal(
      new Date(now.getTime() + propagationDelayMs).toISOString(),
    );
    expect(Date.parse(old!.retireAfter!)).to.equal(
      now.getTime() + propagationDelayMs + ttl + clockToleranceMs,
    );
    // Next: the old key's retirement, long before the successor's own rotation.
    expect(plan.revisitAt.toISOString()).to.equal(old!.retireAfter);

    const after = planSigningKeys(
      plan.next,
      new Date(Date.parse(old!.retireAfter!) + 1),
      interval,
      ttl,
    );
    expect(after.next!.keys.map((k) => k.kid)).to.deep.equal([successor!.kid]);
  });

  it('starts over when every key has retired while nobody was looking', () => {
    const first = planSigningKeys(undefined, t0, interval, ttl).next!;
    const rotated = planSigningKeys(first, at(interval), interval, ttl).next!;
    const late = planSigningKeys(
      { keys: rotated.keys.map((k) => ({ ...k, retireAfter: at(interval).toISOString() })) },
      at(3 * interval),
      interval,
      ttl,
    );
    expect(late.next!.keys).to.have.length(1);
    expect(late.next!.keys[0]!.createdAt).to.equal(at(3 * interval).toISOString());
  });
});
