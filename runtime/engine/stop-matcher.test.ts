import { expect } from 'chai';
import { StopMatcher } from './stop-matcher.ts';

/** Feeds pieces one by one and returns what was emitted, and whether it stopped. */
function feed(stops: string[], pieces: string[]) {
  const matcher = new StopMatcher(stops);
  const emitted: string[] = [];
  for (const piece of pieces) {
    const check = matcher.push(piece);
    emitted.push(check.text);
    if (check.stopped) return { emitted, stopped: true };
  }
  emitted.push(matcher.flush());
  return { emitted, stopped: false };
}

describe('StopMatcher', () => {
  it('passes text straight through without stop sequences', () => {
    expect(feed([], ['Hel', 'lo'])).to.deep.equal({ emitted: ['Hel', 'lo', ''], stopped: false });
  });

  it('ends before a stop sequence inside one piece and drops it', () => {
    expect(feed(['END'], ['abcENDxyz', 'more'])).to.deep.equal({
      emitted: ['abc'],
      stopped: true,
    });
  });

  it('holds back a possible partial match and never emits it when it completes', () => {
    const { emitted, stopped } = feed(['\nUser:'], ['Sure', '.\nU', 'se', 'r:', ' hi']);
    expect(stopped).to.equal(true);
    expect(emitted).to.deep.equal(['Sure', '.', '', '']);
  });

  it('releases held text as soon as the match fails', () => {
    const { emitted, stopped } = feed(['\nUser:'], ['a\nUs', 'ually']);
    expect(stopped).to.equal(false);
    expect(emitted).to.deep.equal(['a', '\nUsually', '']);
  });

  it('releases held text at the end when no stop followed', () => {
    expect(feed(['###'], ['done #', '#'])).to.deep.equal({
      emitted: ['done ', '', '##'],
      stopped: false,
    });
  });

  it('stops at whichever stop sequence comes first', () => {
    expect(feed(['bb', 'a'], ['xxbba'])).to.deep.equal({ emitted: ['xx'], stopped: true });
  });

  it('matches multi-byte text', () => {
    expect(feed(['好'], ['你', '好吗'])).to.deep.equal({ emitted: ['你', ''], stopped: true });
  });

  it('ignores empty stop strings', () => {
    expect(feed([''], ['abc'])).to.deep.equal({ emitted: ['abc', ''], stopped: false });
  });
});
