import { expect } from 'chai';
import { armedFailpoint } from './failpoint.ts';

describe('failpoints', () => {
  const env = { CLAWBOT_FAILPOINT: 'apikey:issue' };

  it('arm when the operator runs from its TypeScript sources, as the tests run it', () => {
    expect(armedFailpoint('file:///src/operator/failpoint.ts', env)).to.equal('apikey:issue');
  });

  it('never arm in the compiled operator the image runs, whatever the environment says', () => {
    expect(armedFailpoint('file:///app/dist/operator/failpoint.js', env)).to.equal(undefined);
  });

  it('stay unarmed without the variable', () => {
    expect(armedFailpoint('file:///src/operator/failpoint.ts', {})).to.equal(undefined);
  });
});
