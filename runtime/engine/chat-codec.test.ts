import { expect } from 'chai';
import { createChatCodec } from './chat-codec.ts';
import type { ChatCodec } from './chat-codec.ts';
import { readModelFolder } from './model-folder.ts';
import { tinyModelFolder } from '../../test/support/engine-model.ts';

describe('createChatCodec (tiny model tokenizer)', () => {
  let codec: ChatCodec;
  before(async () => {
    codec = createChatCodec(await readModelFolder(await tinyModelFolder()));
  });

  it('renders the conversation with the chat template and a generation prompt', () => {
    const ids = codec.encodeChat([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
    ]);
    // <|im_start|> (id 1) opens each message and the assistant's turn; decoding skips it.
    expect(ids.filter((id) => id === 1)).to.have.length(3);
    expect(ids[0]).to.equal(1);
    expect(codec.decode(ids)).to.equal('system\nBe brief.\nuser\nHi\nassistant\n');
  });

  it('ends generations at the eos token', () => {
    expect(codec.eosTokenIds).to.deep.equal([2]);
  });
});
