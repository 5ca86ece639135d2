// Writes a GraphBuilder's graph as `<dir>/model.onnx` with every weight in `<dir>/model.onnx_data`.
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GraphBuilder } from './graph-builder.ts';
import type { ExternalTensor } from './onnx-proto.ts';
import { encodeModel } from './onnx-proto.ts';

export const MODEL_FILE = 'model.onnx';
export const DATA_FILE = 'model.onnx_data';

// Page-aligned offsets let onnxruntime map weights straight from the file instead of copying.
const ALIGNMENT = 4096;

export interface WriteOptions {
  graphName: string;
  opsets: readonly { domain: string; version: number }[];
  /** Called after each weight is written. */
  onWeight?: (written: number, total: number, name: string) => void;
}

export async function writeOnnxModel(
  dir: string,
  graph: GraphBuilder,
  options: WriteOptions,
): Promise<{ modelBytes: number; dataBytes: number }> {
  const external: ExternalTensor[] = [];
  const data = await open(join(dir, DATA_FILE), 'w');
  let offset = 0;
  try {
    for (const [i, w] of graph.weights.entries()) {
      const bytes = await w.bytes();
      await data.write(bytes, 0, bytes.length, offset);
      external.push({
        name: w.name,
        dataType: w.dataType,
        dims: w.dims,
        location: DATA_FILE,
        offset,
        length: bytes.length,
      });
      offset = Math.ceil((offset + bytes.length) / ALIGNMENT) * ALIGNMENT;
      options.onWeight?.(i + 1, graph.weights.length, w.name);
    }
  } finally {
    await data.close();
  }
  const model = encodeModel({
    irVersion: 10,
    producerName: 'clawbot',
    opsets: options.opsets,
    graph: {
      name: options.graphName,
      nodes: graph.nodes,
      inlineTensors: graph.constants,
      externalTensors: external,
      inputs: graph.inputs,
      outputs: graph.outputs,
    },
  });
  await writeFile(join(dir, MODEL_FILE), model);
  return { modelBytes: model.length, dataBytes: offset };
}
