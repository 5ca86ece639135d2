import { expect } from 'chai';
import { OptionsError, parseOptions } from './options.ts';

describe('operator options', () => {
  it('run without leader election when nothing asks for it, as `npm run operator` does', () => {
    expect(parseOptions([], {}, '1.0.0').leaderElection).to.equal(false);
  });

  it('elect a leader through a Lease in the pod namespace when asked (the chart does)', () => {
    expect(
      parseOptions(['--leader-elect=true'], { POD_NAMESPACE: 'clawbot-system' }, '1.0.0')
        .leaderElection,
    ).to.deep.equal({ namespace: 'clawbot-system' });
  });

  it('refuse leader election without a Lease namespace, saying how to fix it', () => {
    expect(() => parseOptions([], { LEADER_ELECT: 'true' }, '1.0.0')).to.throw(
      OptionsError,
      /set --lease-namespace \(or POD_NAMESPACE\), or run a single operator without --leader-elect=true/,
    );
  });
});
