// The main thread's text pipeline, fed token ids from the tiny model's real byte-level tokenizer.
import { expect } from 'chai';
import { Tokenizer } from '@huggingface/tokenizers';
import { createChatCodec } from './chat-codec.ts';
import type { ChatCodec } from './chat-codec.ts';
import { GenerationStream } from './generation-stream.ts';
import { readModelFolder } from './model-folder.ts';
import { tinyModelFolder } from '../../test/support/engine-model.ts';

describe('GenerationStream (tiny model tokenizer)', () => {
  let codec: ChatCodec;
  let encode: (text: string) => number[];
  before(async () => {
    const model = await readModelFolder(await tinyModelFolder());
    codec = createChatCodec(model);
    const tokenizer = new Tokenizer(model.tokenizerJson, model.tokenizerConfig);
    encode = (text) => tokenizer.encode(text, { add_special_tokens: false }).ids;
  });

  function streamOf(text: string, stop: string[] = []) {
    let stopRequests = 0;
    const stream = new GenerationStream({
      decode: codec.decode,
      stop,
      promptTokens: 3,
      admittedAt: 0,
      onStopSequence: () => stopRequests++,
      now: () => 5,
    });
    const deltas: string[] = [];
    const reading = (async () => {
      for await (const delta of stream.generation.deltas) deltas.push(delta.text);
    })();
    const tokens = encode(text);
    for (const token of tokens) stream.token(token);
    stream.finished('length', tokens.length);
    return {
      tokens,
      deltas,
      reading,
      result: stream.generation.result,
      stopRequests: () => stopRequests,
    };
  }

  it('streams multi-byte characters intact', async () => {
    const text = '你好, world 🎉';
    const { tokens, deltas, reading, result } = streamOf(text);
    await reading;
    // Byte-level tokens split these characters, so some tokens alone are not text.
    expect(tokens.length).to.be.greaterThan([...text].length);
    expect(deltas.join('')).to.equal(text);
    for (const delta of deltas) expect(delta).not.to.include('\uFFFD');
    expect(deltas).to.include.members(['你', '好']);
    expect((await result).text).to.equal(text);
  });

  it('never streams text that turns out to be part of a stop sequence', async () => {
    const { deltas, reading, result, stopRequests } = streamOf('Sure. User: more', ['User:']);
    await reading;
    expect(deltas.join('')).to.equal('Sure. ');
    for (const delta of deltas) expect(delta).not.to.match(/U/);
    const final = await result;
    expect(final.finishReason).to.equal('stop');
    expect(final.text).to.equal('Sure. ');
    expect(stopRequests()).to.equal(1);
  });

  it('releases text held for a stop sequence that never completed', async () => {
    const { deltas, reading, result } = streamOf('Sure. Use', ['User:']);
    await reading;
    expect(deltas.join('')).to.equal('Sure. Use');
    expect((await result).finishReason).to.equal('length');
  });

  it('reports usage and time to first token', async () => {
    const { tokens, result } = streamOf('abc');
    expect((await result).usage).to.deep.equal({
      promptTokens: 3,
      completionTokens: tokens.length,
      cachedPromptTokens: 0,
    });
    expect((await result).timeToFirstTokenMs).to.equal(5);
  });
});
