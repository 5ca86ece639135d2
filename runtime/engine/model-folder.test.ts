import { expect } from 'chai';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { modelSettings, pickOnnxFile, readModelFolder } from './model-folder.ts';
import { UnsupportedModelError } from './model-io.ts';

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

const template = '{% for m in messages %}{{ m.content }}{% endfor %}';

describe('pickOnnxFile', () => {
  const files = ['config.json', 'onnx/model.onnx', 'onnx/model.onnx_data', 'onnx/model_q4.onnx'];

  it('picks onnx/model.onnx, or the requested variant', () => {
    expect(pickOnnxFile(files, undefined)).to.equal('onnx/model.onnx');
    expect(pickOnnxFile(files, undefined, 'q4')).to.equal('onnx/model_q4.onnx');
    expect(pickOnnxFile(files, undefined, 'model_q4.onnx')).to.equal('onnx/model_q4.onnx');
  });

  it('finds model.onnx at the top of the folder, where the GGUF importer writes it', () => {
    expect(pickOnnxFile(['model.onnx', 'model.onnx_data'], undefined)).to.equal('model.onnx');
  });

  it('lists the variants present when the wanted one is missing', () => {
    expect(() => pickOnnxFile(files, undefined, 'fp16')).to.throw(
      UnsupportedModelError,
      /model_fp16\.onnx.*onnx\/model\.onnx, onnx\/model_q4\.onnx/,
    );
  });

  it('follows genai_config.json to the decoder file', () => {
    const genai = { model: { decoder: { filename: 'model.onnx' } } };
    expect(pickOnnxFile(['genai_config.json', 'model.onnx', 'model.onnx.data'], genai)).to.equal(
      'model.onnx',
    );
    expect(() => pickOnnxFile(['genai_config.json'], genai)).to.throw(/names model\.onnx/);
  });
});

describe('modelSettings', () => {
  it('reads an onnx-community model: context, cache geometry, end tokens, sampling defaults', () => {
    const settings = modelSettings({
      config: {
        max_position_embeddings: 8192,
        num_attention_heads: 9,
        num_key_value_heads: 3,
        hidden_size: 576,
        eos_token_id: 2,
      },
      generationConfig: {
        eos_token_id: [2, 7],
        do_sample: true,
        temperature: 0.6,
        top_p: 0.9,
        repetition_penalty: 1.1,
      },
      tokenizerConfig: {
        chat_template: template,
        bos_token: '<s>',
        eos_token: { content: '</s>' },
      },
    });
    expect(settings).to.deep.include({
      contextLength: 8192,
      kvHints: { heads: 3, headDim: 64 },
      eosTokenIds: [2, 7],
      bosToken: '<s>',
      eosToken: '</s>',
      chatTemplate: template,
      samplingDefaults: { temperature: 0.6, topP: 0.9, repetitionPenalty: 1.1 },
    });
  });

  it('reads an onnxruntime-genai model from genai_config.json', () => {
    const settings = modelSettings({
      genaiConfig: {
        model: {
          context_length: 4096,
          eos_token_id: [32000, 32007],
          decoder: {
            head_size: 96,
            num_key_value_heads: 32,
            num_attention_heads: 32,
            hidden_size: 3072,
          },
        },
        search: { do_sample: false, top_k: 1 },
      },
      tokenizerConfig: {
        chat_template: [
          { name: 'tool_use', template: 'x' },
          { name: 'default', template },
        ],
      },
    });
    expect(settings).to.deep.include({
      contextLength: 4096,
      kvHints: { heads: 32, headDim: 96 },
      eosTokenIds: [32000, 32007],
      chatTemplate: template,
      samplingDefaults: { temperature: 0, topK: 1 },
    });
  });

  it('falls back to chat_template.jinja', () => {
    const settings = modelSettings({
      config: { max_position_embeddings: 10 },
      chatTemplateFile: template,
    });
    expect(settings.chatTemplate).to.equal(template);
  });

  it('refuses encoder-decoder models', () => {
    expect(() =>
      modelSettings({
        config: { is_encoder_decoder: true, model_type: 't5' },
        tokenizerConfig: { chat_template: template },
      }),
    ).to.throw(UnsupportedModelError, /encoder-decoder model \(t5\)/);
  });

  it('refuses a model without a chat template', () => {
    expect(() => modelSettings({ config: { max_position_embeddings: 10 } })).to.throw(
      /no chat template/,
    );
  });
});

describe('readModelFolder', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'model-folder-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true });
  });

  const write = (name: string, value: unknown) =>
    writeFile(join(dir, name), typeof value === 'string' ? value : JSON.stringify(value));

  it('reads an onnx-community folder', async () => {
    await mkdir(join(dir, 'onnx'));
    await write('onnx/model.onnx', '');
    await write('config.json', { max_position_embeddings: 64, eos_token_id: 1 });
    await write('tokenizer.json', { model: {} });
    await write('tokenizer_config.json', { chat_template: template });
    const model = await readModelFolder(dir);
    expect(model.layout).to.equal('onnx-community');
    expect(model.onnxPath).to.equal(join(dir, 'onnx/model.onnx'));
    expect(model.contextLength).to.equal(64);
  });

  it('refuses a folder without a tokenizer, saying what is needed', async () => {
    await write('model.onnx', '');
    await write('config.json', { max_position_embeddings: 64 });
    expect((await failure(readModelFolder(dir))).message).to.match(/no tokenizer\.json/);
  });

  it('refuses a folder that is not a model folder', async () => {
    await write('model.gguf', '');
    expect((await failure(readModelFolder(dir))).message).to.match(
      /neither config\.json nor genai_config\.json.*import-gguf/,
    );
  });
});
