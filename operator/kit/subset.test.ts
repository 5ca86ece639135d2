import { expect } from 'chai';
import { isSubset } from './subset.ts';

describe('isSubset (desired ⊆ live)', () => {
  it('accepts extra live fields and rejects a changed or missing desired one', () => {
    const live = { a: 1, b: { c: 'x', d: true }, extra: 'defaulted' };
    expect(isSubset({ a: 1, b: { c: 'x' } }, live)).to.equal(true);
    expect(isSubset({ a: 2 }, live)).to.equal(false);
    expect(isSubset({ b: { c: 'y' } }, live)).to.equal(false);
    expect(isSubset({ missing: 'x' }, live)).to.equal(false);
    expect(isSubset({ b: 'scalar' }, live)).to.equal(false);
  });

  it('compares lists by length and by position', () => {
    const live = {
      ports: [
        { port: 80, protocol: 'TCP' },
        { port: 443, protocol: 'TCP' },
      ],
    };
    expect(isSubset({ ports: [{ port: 80 }, { port: 443 }] }, live)).to.equal(true);
    expect(isSubset({ ports: [{ port: 80 }] }, live), 'a removed item').to.equal(false);
    expect(isSubset({ ports: [{ port: 443 }, { port: 80 }] }, live), 'reordered').to.equal(false);
    expect(isSubset({ ports: [{ port: 80 }, { port: 443 }, { port: 8080 }] }, live)).to.equal(
      false,
    );
    expect(isSubset({ ports: [] }, { ports: {} })).to.equal(false);
  });

  it('compares quantities by value', () => {
    const live = { resources: { requests: { cpu: '500m', memory: '1073741824' } } };
    expect(isSubset({ resources: { requests: { cpu: '0.5', memory: '1Gi' } } }, live)).to.equal(
      true,
    );
    expect(isSubset({ resources: { requests: { cpu: '1' } } }, live)).to.equal(false);
    expect(isSubset({ resources: { requests: { cpu: 0.5 } } }, live)).to.equal(true);
  });

  it('matches an int with the same int written as a string, and nothing else', () => {
    expect(isSubset({ targetPort: 8080 }, { targetPort: '8080' })).to.equal(true);
    expect(isSubset({ targetPort: '8080' }, { targetPort: 8080 })).to.equal(true);
    expect(isSubset({ targetPort: 8080 }, { targetPort: 'http' })).to.equal(false);
    expect(isSubset({ maxSurge: '25%' }, { maxSurge: '25%' })).to.equal(true);
    expect(isSubset({ maxSurge: '25%' }, { maxSurge: 25 })).to.equal(false);
    expect(isSubset({ enabled: true }, { enabled: 'true' })).to.equal(false);
  });

  it('treats Go zero values as matching a field the server omitted', () => {
    const live = { spec: { replicas: 1 } };
    for (const zero of [false, 0, '', [], {}, null, { nested: { list: [] } }]) {
      expect(
        isSubset({ spec: { replicas: 1, optional: zero } }, live),
        JSON.stringify(zero),
      ).to.equal(true);
    }
    expect(isSubset({ spec: { hostNetwork: true } }, live)).to.equal(false);
    expect(isSubset({ spec: { items: ['a'] } }, live)).to.equal(false);
  });

  it('does not let null stand for a value that is set', () => {
    expect(isSubset({ a: null }, { a: 'set' })).to.equal(false);
    expect(isSubset({ a: null }, { a: null })).to.equal(true);
  });

  it('ignores fields desired leaves undefined', () => {
    expect(isSubset({ a: undefined, b: 1 }, { b: 1 })).to.equal(true);
  });
});
