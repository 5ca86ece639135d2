import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from './graph-builder.ts';
import { DataType } from './onnx-proto.ts';
import { MODEL_FILE, writeOnnxModel } from './write-model.ts';

describe('writeOnnxModel', () => {
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'onnx-write-'))));
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('writes a model onnxruntime runs, with weights read from the external data file', async () => {
    const g = new GraphBuilder();
    g.inputs.push({ name: 'x', elemType: DataType.FLOAT, shape: ['n', 2] });
    const w = (name: string, values: number[]) =>
      g.weight({
        name,
        dataType: DataType.FLOAT,
        dims: [2, 2],
        bytes: () => new Uint8Array(Float32Array.from(values).buffer),
      });
    const product = g.op('MatMul', ['x', w('a', [1, 2, 3, 4])]);
    const shifted = g.op('Add', [product, w('b', [10, 20, 30, 40])]);
    const scaled = g.op('Mul', [shifted, g.float32([0.5], [])]);
    g.op('ReduceSum', [scaled, g.int64([1])], { keepdims: { int: 0 } }, { outputs: ['y'] });
    g.outputs.push({ name: 'y', elemType: DataType.FLOAT, shape: ['n'] });
    const progress: string[] = [];
    await writeOnnxModel(dir, g, {
      graphName: 'test',
      opsets: [{ domain: '', version: 21 }],
      onWeight: (done, total, name) => progress.push(`${done}/${total} ${name}`),
    });

    const session = await ort.InferenceSession.create(join(dir, MODEL_FILE));
    const x = new ort.Tensor('float32', Float32Array.of(1, 1, 2, 0), [2, 2]);
    const { y } = await session.run({ x });
    // x·a = [[4, 6], [2, 4]]; + b = [[14, 26], [32, 44]]; halved row sums = [20, 38].
    expect(Array.from(y!.data as Float32Array)).to.deep.equal([20, 38]);
    expect(progress).to.deep.equal(['1/2 a', '2/2 b']);
    await session.release();
  });
});
