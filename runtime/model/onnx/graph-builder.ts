// Accumulates an ONNX graph: nodes with generated unique names, small constants kept inline, and
// weights described lazily (their bytes are produced only when the model file is written, one at a
// time, so a multi-gigabyte model never has to sit in memory whole).
import type {
  AttributeValue,
  DataTypeId,
  InlineTensor,
  NodeSpec,
  ValueInfo,
} from './onnx-proto.ts';
import { DataType } from './onnx-proto.ts';

export interface Weight {
  name: string;
  dataType: DataTypeId;
  dims: readonly number[];
  bytes: () => Promise<Uint8Array> | Uint8Array;
}

export interface OpOptions {
  domain?: string;
  /** Output names; one generated name when omitted. */
  outputs?: readonly string[];
}

export class GraphBuilder {
  readonly nodes: NodeSpec[] = [];
  readonly constants: InlineTensor[] = [];
  readonly weights: Weight[] = [];
  readonly inputs: ValueInfo[] = [];
  readonly outputs: ValueInfo[] = [];
  private readonly constantNames = new Map<string, string>();
  private nodeCount = 0;

  /** Adds a node and returns its output names. */
  ops(
    opType: string,
    inputs: readonly string[],
    attributes: Record<string, AttributeValue> = {},
    options: OpOptions = {},
  ): readonly string[] {
    const name = `${opType}_${this.nodeCount++}`;
    const outputs = options.outputs ?? [`${name}_out`];
    this.nodes.push({ opType, name, inputs, outputs, attributes, domain: options.domain });
    return outputs;
  }

  /** Adds a single-output node and returns its output name. */
  op(
    opType: string,
    inputs: readonly string[],
    attributes: Record<string, AttributeValue> = {},
    options: OpOptions = {},
  ): string {
    return this.ops(opType, inputs, attributes, options)[0]!;
  }

  /** An int64 constant (a scalar when dims is []); equal constants share one tensor. */
  int64(values: readonly number[], dims: readonly number[] = [values.length]): string {
    const raw = new Uint8Array(new BigInt64Array(values.map((v) => BigInt(v))).buffer);
    return this.constant(DataType.INT64, dims, raw);
  }

  float32(values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.constant(DataType.FLOAT, dims, new Uint8Array(Float32Array.from(values).buffer));
  }

  weight(w: Weight): string {
    this.weights.push(w);
    return w.name;
  }

  private constant(dataType: DataTypeId, dims: readonly number[], raw: Uint8Array): string {
    const key = `${dataType}:${dims.join('x')}:${Buffer.from(raw).toString('hex')}`;
    let name = this.constantNames.get(key);
    if (name === undefined) {
      name = `const_${this.constantNames.size}`;
      this.constantNames.set(key, name);
      this.constants.push({ name, dataType, dims, raw });
    }
    return name;
  }
}
