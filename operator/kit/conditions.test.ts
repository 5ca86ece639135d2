import { expect } from 'chai';
import {
  findCondition,
  isConditionTrue,
  kubeTime,
  setCondition,
  statusNeedsApply,
  type Condition,
} from './conditions.ts';

const t0 = new Date('2026-01-01T10:00:00.123Z');
const t1 = new Date('2026-01-01T11:00:00.000Z');

const ready = (status: Condition['status'], reason = 'Ready', message = 'serving') => ({
  type: 'Ready',
  status,
  reason,
  message,
  observedGeneration: 1,
});

describe('conditions', () => {
  it('adds a new condition stamped with now, in whole seconds', () => {
    const conditions = setCondition(undefined, ready('True'), t0);
    expect(conditions).to.deep.equal([
      { ...ready('True'), lastTransitionTime: '2026-01-01T10:00:00Z' },
    ]);
  });

  it('keeps lastTransitionTime when only reason, message or generation change', () => {
    const before = setCondition(undefined, ready('False', 'Loading', 'downloading'), t0);
    const after = setCondition(
      before,
      { ...ready('False', 'Starting', 'starting'), observedGeneration: 2 },
      t1,
    );
    expect(after[0]).to.include({ reason: 'Starting', observedGeneration: 2 });
    expect(after[0]!.lastTransitionTime).to.equal(kubeTime(t0));
  });

  it('moves lastTransitionTime when status flips', () => {
    const before = setCondition(undefined, ready('False'), t0);
    const after = setCondition(before, ready('True'), t1);
    expect(after[0]!.lastTransitionTime).to.equal('2026-01-01T11:00:00Z');
  });

  it('keeps other conditions and their order, and does not change its input', () => {
    const start = setCondition(
      setCondition(undefined, ready('True'), t0),
      {
        type: 'Degraded',
        status: 'False',
        reason: 'AsExpected',
        message: '',
      },
      t0,
    );
    const frozen = structuredClone(start);
    const next = setCondition(start, ready('False'), t1);
    expect(next.map((c) => c.type)).to.deep.equal(['Ready', 'Degraded']);
    expect(start).to.deep.equal(frozen);
    expect(findCondition(next, 'Degraded')).to.equal(start[1]);
    expect(isConditionTrue(next, 'Ready')).to.equal(false);
    expect(isConditionTrue(start, 'Ready')).to.equal(true);
    expect(isConditionTrue(start, 'Missing')).to.equal(false);
  });

  describe('statusNeedsApply', () => {
    const live = {
      replicas: 2,
      conditions: setCondition(undefined, ready('True'), t0),
      fieldSomeoneElseSets: 'x',
    };

    it('is false for the same status recomputed later (transition time differs)', () => {
      const desired = {
        replicas: 2,
        conditions: [{ ...ready('True'), lastTransitionTime: kubeTime(t1) }],
      };
      expect(statusNeedsApply(desired, live)).to.equal(false);
    });

    it('is true when a condition changes, appears or disappears', () => {
      expect(
        statusNeedsApply({ conditions: setCondition(live.conditions, ready('False'), t1) }, live),
      ).to.equal(true);
      expect(
        statusNeedsApply(
          { conditions: setCondition(live.conditions, ready('True', 'Other'), t1) },
          live,
        ),
      ).to.equal(true);
      const two = setCondition(live.conditions, { ...ready('True'), type: 'Available' }, t1);
      expect(statusNeedsApply({ conditions: two }, live)).to.equal(true);
      expect(statusNeedsApply({ conditions: [] }, live)).to.equal(true);
    });

    it('is true when another field changes, and when there is no live status', () => {
      expect(statusNeedsApply({ replicas: 3 }, live)).to.equal(true);
      expect(statusNeedsApply({ replicas: 2 }, undefined)).to.equal(true);
    });
  });
});
