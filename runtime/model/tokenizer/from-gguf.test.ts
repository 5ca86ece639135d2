import { Template } from '@huggingface/jinja';
import { Tokenizer } from '@huggingface/tokenizers';
import { expect } from 'chai';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTinyModel } from '../tiny/tiny-model.ts';
import { SPECIAL_TOKENS, tinyVocabulary } from '../tiny/vocabulary.ts';
import { tokenizerFromGguf } from './from-gguf.ts';

describe('tokenizer files from GGUF metadata', () => {
  let dir: string;
  let tokenizer: Tokenizer;
  let tokenizerConfig: Record<string, unknown>;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tokenizer-'));
    await writeTinyModel(join(dir, 'model'));
    const json = async (name: string) =>
      JSON.parse(await readFile(join(dir, 'model', name), 'utf8'));
    tokenizerConfig = await json('tokenizer_config.json');
    tokenizer = new Tokenizer(await json('tokenizer.json'), tokenizerConfig);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  for (const text of [
    'Hello world',
    'the cat and the hat',
    '你好，世界',
    'tabs\tand\nnewlines  ',
    'digits 12345 and émoji 🤖',
  ]) {
    it(`decode(encode(x)) === x for ${JSON.stringify(text)}`, () => {
      const { ids } = tokenizer.encode(text);
      expect(tokenizer.decode(ids)).to.equal(text);
    });
  }

  it('applies the merges', () => {
    expect(tokenizer.encode(' the and').tokens).to.deep.equal(['Ġthe', 'Ġand']);
  });

  it('splits digits one by one, as the smollm pre-tokenizer does', () => {
    expect(tokenizer.encode('123').tokens).to.deep.equal(['1', '2', '3']);
  });

  it('encodes each special token as its single id, and keeps them when decoding', () => {
    SPECIAL_TOKENS.forEach((token, id) => expect(tokenizer.encode(token).ids).to.deep.equal([id]));
    const ids = tokenizer.encode('<|im_start|>user\nhi<|im_end|>').ids;
    expect(ids[0]).to.equal(1);
    expect(ids.at(-1)).to.equal(2);
    expect(tokenizer.decode(ids)).to.equal('<|im_start|>user\nhi<|im_end|>');
  });

  it('writes a ChatML template that renders with @huggingface/jinja', () => {
    const template = new Template(tokenizerConfig.chat_template as string);
    const rendered = template.render({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
      ],
      add_generation_prompt: true,
    });
    expect(rendered).to.equal(
      '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n',
    );
    expect(tokenizerConfig).to.include({
      bos_token: '<|im_start|>',
      eos_token: '<|im_end|>',
      add_bos_token: false,
    });
  });

  it('prepends BOS when the GGUF asks for it', () => {
    const v = tinyVocabulary();
    const files = tokenizerFromGguf(
      {
        'tokenizer.ggml.model': 'gpt2',
        'tokenizer.ggml.pre': 'llama-bpe',
        'tokenizer.ggml.tokens': v.tokens,
        'tokenizer.ggml.token_type': v.tokenTypes,
        'tokenizer.ggml.merges': v.merges,
        'tokenizer.ggml.bos_token_id': 0,
        'tokenizer.ggml.eos_token_id': 2,
        'tokenizer.ggml.add_bos_token': true,
      },
      128,
    );
    const t = new Tokenizer(files.tokenizer, files.tokenizerConfig);
    const { ids } = t.encode('the 2024 cat');
    expect(ids[0]).to.equal(0);
    expect(t.decode(ids, { skip_special_tokens: true })).to.equal('the 2024 cat');
  });

  it('refuses a special token id outside the vocabulary', () => {
    // Imported before: an eos id the model can never emit, so no generation could end.
    const v = tinyVocabulary();
    const metadata = {
      'tokenizer.ggml.model': 'gpt2',
      'tokenizer.ggml.tokens': v.tokens,
      'tokenizer.ggml.merges': v.merges,
      'tokenizer.ggml.bos_token_id': 1,
      'tokenizer.ggml.eos_token_id': v.tokens.length,
    };
    expect(() => tokenizerFromGguf(metadata, 128)).to.throw(
      `tokenizer.ggml.eos_token_id is ${v.tokens.length}, but the vocabulary's ids run from 0 to ${v.tokens.length - 1}: the GGUF is corrupt`,
    );
    expect(() =>
      tokenizerFromGguf(
        { ...metadata, 'tokenizer.ggml.eos_token_id': 2, 'tokenizer.ggml.padding_token_id': -1 },
        128,
      ),
    ).to.throw(/padding_token_id is -1/);
  });

  it('names the supported tokenizer kinds when given another', () => {
    expect(() => tokenizerFromGguf({ 'tokenizer.ggml.model': 'llama' }, 1)).to.throw(
      /"llama" is not supported; supported: "gpt2"/,
    );
    expect(() =>
      tokenizerFromGguf({ 'tokenizer.ggml.model': 'gpt2', 'tokenizer.ggml.pre': 'exotic' }, 1),
    ).to.throw(/"exotic" is not supported; supported: default, gpt2, smollm, llama-bpe, qwen2/);
  });
});
