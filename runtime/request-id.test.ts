import { expect } from 'chai';
import { acceptedRequestId } from './request-id.ts';

describe('request ids', () => {
  it("keeps a client's id of visible ASCII up to 128 characters", () => {
    for (const id of ['f3a1c2d4-0b1e-4c6f-9a7d-2e5b8c9d0a1f', 'req_42', 'x'.repeat(128)])
      expect(acceptedRequestId(id)).to.equal(id);
  });

  it('refuses an id that is missing, empty, too long, or holds spaces, control characters or non-ASCII', () => {
    for (const id of [undefined, '', 'x'.repeat(129), 'a b', 'a\nb', 'a\u0000b', 'café'])
      expect(acceptedRequestId(id), JSON.stringify(id)).to.equal(undefined);
  });
});
