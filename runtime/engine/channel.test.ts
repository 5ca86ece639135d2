import { expect } from 'chai';
import { Channel } from './channel.ts';

async function collect<T>(channel: Channel<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of channel) items.push(item);
  return items;
}

describe('Channel', () => {
  it('delivers items pushed before and after the reader started', async () => {
    const channel = new Channel<number>();
    channel.push(1);
    const reading = collect(channel);
    await Promise.resolve();
    channel.push(2);
    setTimeout(() => {
      channel.push(3);
      channel.close();
    }, 5);
    expect(await reading).to.deep.equal([1, 2, 3]);
  });

  it('throws the failure after the items pushed before it', async () => {
    const channel = new Channel<string>();
    channel.push('a');
    channel.fail(new Error('boom'));
    channel.push('ignored');
    const seen: string[] = [];
    let error: unknown;
    try {
      for await (const item of channel) seen.push(item);
    } catch (e) {
      error = e;
    }
    expect(seen).to.deep.equal(['a']);
    expect((error as Error).message).to.equal('boom');
  });
});
