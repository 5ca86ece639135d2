import { expect } from 'chai';
import { describeModelIo, UnsupportedModelError } from './model-io.ts';
import type { ValueInfo } from './model-io.ts';

const tensor = (name: string, type: string, shape: (number | string)[]): ValueInfo => ({
  name,
  isTensor: true,
  type,
  shape,
});

function llamaLike(layers: number, cacheType = 'float32') {
  const inputs = [
    tensor('input_ids', 'int64', ['batch', 'seq']),
    tensor('attention_mask', 'int64', ['batch', 'total']),
    tensor('position_ids', 'int64', ['batch', 'seq']),
  ];
  const outputs = [tensor('logits', 'float32', ['batch', 'seq', 100])];
  for (let i = 0; i < layers; i++) {
    for (const kind of ['key', 'value']) {
      inputs.push(tensor(`past_key_values.${i}.${kind}`, cacheType, ['batch', 2, 'past', 8]));
      outputs.push(tensor(`present.${i}.${kind}`, cacheType, ['batch', 2, 'total', 8]));
    }
  }
  return { inputs, outputs };
}

describe('describeModelIo', () => {
  it('pairs every past input with its present output, layer by layer', () => {
    const { inputs, outputs } = llamaLike(2);
    const io = describeModelIo(inputs.reverse(), outputs);
    expect(io.cache).to.deep.equal([
      { past: 'past_key_values.0.key', present: 'present.0.key' },
      { past: 'past_key_values.0.value', present: 'present.0.value' },
      { past: 'past_key_values.1.key', present: 'present.1.key' },
      { past: 'past_key_values.1.value', present: 'present.1.value' },
    ]);
    expect(io.kvShape).to.deep.equal({ heads: 2, headDim: 8, tensors: 4 });
    expect(io.positionIds).to.equal('position_ids');
    expect(io.numLogitsToKeep).to.equal(undefined);
  });

  it('finds the optional inputs', () => {
    const { inputs, outputs } = llamaLike(1);
    inputs.push(tensor('num_logits_to_keep', 'int64', []), tensor('use_cache_branch', 'bool', [1]));
    const io = describeModelIo(inputs, outputs);
    expect(io.numLogitsToKeep).to.equal('num_logits_to_keep');
    expect(io.useCacheBranch).to.equal('use_cache_branch');
  });

  it('takes symbolic head dimensions from config hints', () => {
    const { inputs, outputs } = llamaLike(1);
    inputs[3] = tensor('past_key_values.0.key', 'float32', ['b', 'h', 'p', 'd']);
    expect(describeModelIo(inputs, outputs, { heads: 4, headDim: 16 }).kvShape).to.deep.equal({
      heads: 4,
      headDim: 16,
      tensors: 2,
    });
    expect(() => describeModelIo(inputs, outputs)).to.throw(UnsupportedModelError, /head_dim/);
  });

  it('refuses a graph without a KV cache and says how to export one', () => {
    const inputs = [
      tensor('input_ids', 'int64', ['b', 's']),
      tensor('attention_mask', 'int64', ['b', 's']),
    ];
    expect(() => describeModelIo(inputs, [tensor('logits', 'float32', ['b', 's', 10])])).to.throw(
      UnsupportedModelError,
      /no KV-cache inputs.*with-past/,
    );
  });

  it('refuses the decoder of an encoder-decoder model', () => {
    const { inputs, outputs } = llamaLike(1);
    inputs.push(tensor('encoder_hidden_states', 'float32', ['b', 's', 64]));
    expect(() => describeModelIo(inputs, outputs)).to.throw(
      UnsupportedModelError,
      /encoder-decoder/,
    );
  });

  it('refuses a float16 cache', () => {
    const { inputs, outputs } = llamaLike(1, 'float16');
    expect(() => describeModelIo(inputs, outputs)).to.throw(
      UnsupportedModelError,
      /float16.*float32/,
    );
  });

  it('refuses a past input without its present output', () => {
    const { inputs, outputs } = llamaLike(2);
    const io = outputs.filter((o) => o.name !== 'present.1.value');
    expect(() => describeModelIo(inputs, io)).to.throw(UnsupportedModelError, /present\.1\.value/);
  });

  it('refuses inputs it cannot fill', () => {
    const { inputs, outputs } = llamaLike(1);
    inputs.push(tensor('pixel_values', 'float32', ['b', 3, 224, 224]));
    expect(() => describeModelIo(inputs, outputs)).to.throw(UnsupportedModelError, /pixel_values/);
  });
});
