import { expect } from 'chai';
import { watchEvents } from './watch-events.ts';

async function* chunks(...parts: string[]): AsyncGenerator<Uint8Array> {
  const encoder = new TextEncoder();
  for (const part of parts) yield encoder.encode(part);
}

async function collect(stream: AsyncIterable<Uint8Array>): Promise<unknown[]> {
  const events = [];
  for await (const event of watchEvents(stream)) events.push(event);
  return events;
}

describe('watchEvents', () => {
  it('splits lines wherever the chunks break, including inside a multi-byte character', async () => {
    const line1 = JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'é' } } });
    const line2 = JSON.stringify({
      type: 'BOOKMARK',
      object: { metadata: { resourceVersion: '9' } },
    });
    const bytes = new TextEncoder().encode(`${line1}\n${line2}\n`);
    const cut = bytes.indexOf(0xc3) + 1; // between the two bytes of "é"
    async function* split(): AsyncGenerator<Uint8Array> {
      yield bytes.slice(0, cut);
      yield bytes.slice(cut, cut + 40);
      yield bytes.slice(cut + 40);
    }
    expect(await collect(split())).to.deep.equal([JSON.parse(line1), JSON.parse(line2)]);
  });

  it('reads a last line without a newline and skips blank lines', async () => {
    expect(
      await collect(chunks('\n{"type":"DELETED","object":{}}\n\n', '{"type":"ADDED","object":{}}')),
    ).to.deep.equal([
      { type: 'DELETED', object: {} },
      { type: 'ADDED', object: {} },
    ]);
  });

  it('fails on a line that is not JSON', async () => {
    let error: Error | undefined;
    await collect(chunks('{"type":"ADDED","object":{}}\nnot json\n')).catch(
      (err: Error) => (error = err),
    );
    expect(error?.message).to.match(/not JSON: not json/);
  });
});
