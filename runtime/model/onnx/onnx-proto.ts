// ONNX ModelProto and the messages under it, encoded with the field numbers of onnx.proto. Only
// what a decoder graph needs: nodes with int/float/ints/string attributes, tensors either inline
// (small constants) or in an external data file (weights), and typed graph inputs/outputs.
import { bytesField, concat, floatField, intField, messageField, stringField } from './protobuf.ts';

/** TensorProto.DataType values. */
export const DataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  BOOL: 9,
  FLOAT16: 10,
} as const;
export type DataTypeId = (typeof DataType)[keyof typeof DataType];

export type AttributeValue =
  { int: number } | { float: number } | { ints: readonly number[] } | { string: string };

export interface NodeSpec {
  opType: string;
  domain?: string;
  name: string;
  inputs: readonly string[];
  outputs: readonly string[];
  attributes?: Readonly<Record<string, AttributeValue>>;
}

interface TensorHeader {
  name: string;
  dataType: DataTypeId;
  dims: readonly number[];
}

export interface InlineTensor extends TensorHeader {
  raw: Uint8Array;
}

/** A tensor whose bytes live at [offset, offset+length) of `location`, relative to the model. */
export interface ExternalTensor extends TensorHeader {
  location: string;
  offset: number;
  length: number;
}

/** A dimension is a fixed size or a symbolic name such as "batch". */
export interface ValueInfo {
  name: string;
  elemType: DataTypeId;
  shape: readonly (number | string)[];
}

export interface GraphSpec {
  name: string;
  nodes: readonly NodeSpec[];
  inlineTensors: readonly InlineTensor[];
  externalTensors: readonly ExternalTensor[];
  inputs: readonly ValueInfo[];
  outputs: readonly ValueInfo[];
}

export interface ModelSpec {
  irVersion: number;
  opsets: readonly { domain: string; version: number }[];
  producerName: string;
  graph: GraphSpec;
}

const ATTRIBUTE_TYPE = { FLOAT: 1, INT: 2, STRING: 3, INTS: 7 } as const;
const DATA_LOCATION_EXTERNAL = 1;

function attribute(name: string, value: AttributeValue): Uint8Array[] {
  const fields = [stringField(1, name)];
  if ('int' in value) fields.push(intField(3, value.int), intField(20, ATTRIBUTE_TYPE.INT));
  else if ('float' in value)
    fields.push(floatField(2, value.float), intField(20, ATTRIBUTE_TYPE.FLOAT));
  else if ('ints' in value)
    fields.push(...value.ints.map((i) => intField(8, i)), intField(20, ATTRIBUTE_TYPE.INTS));
  else fields.push(stringField(4, value.string), intField(20, ATTRIBUTE_TYPE.STRING));
  return fields;
}

function node(spec: NodeSpec): Uint8Array[] {
  return [
    ...spec.inputs.map((i) => stringField(1, i)),
    ...spec.outputs.map((o) => stringField(2, o)),
    stringField(3, spec.name),
    stringField(4, spec.opType),
    ...Object.entries(spec.attributes ?? {}).map(([k, v]) => messageField(5, attribute(k, v))),
    ...(spec.domain ? [stringField(7, spec.domain)] : []),
  ];
}

function tensorHeader(t: TensorHeader): Uint8Array[] {
  return [...t.dims.map((d) => intField(1, d)), intField(2, t.dataType), stringField(8, t.name)];
}

function inlineTensor(t: InlineTensor): Uint8Array[] {
  return [...tensorHeader(t), bytesField(9, t.raw)];
}

function externalTensor(t: ExternalTensor): Uint8Array[] {
  const entry = (key: string, value: string) =>
    messageField(13, [stringField(1, key), stringField(2, value)]);
  return [
    ...tensorHeader(t),
    entry('location', t.location),
    entry('offset', String(t.offset)),
    entry('length', String(t.length)),
    intField(14, DATA_LOCATION_EXTERNAL),
  ];
}

function valueInfo(v: ValueInfo): Uint8Array[] {
  const dims = v.shape.map((d) =>
    messageField(1, [typeof d === 'number' ? intField(1, d) : stringField(2, d)]),
  );
  const tensorType = [intField(1, v.elemType), messageField(2, dims)];
  return [stringField(1, v.name), messageField(2, [messageField(1, tensorType)])];
}

function graph(g: GraphSpec): Uint8Array[] {
  return [
    ...g.nodes.map((n) => messageField(1, node(n))),
    stringField(2, g.name),
    ...g.inlineTensors.map((t) => messageField(5, inlineTensor(t))),
    ...g.externalTensors.map((t) => messageField(5, externalTensor(t))),
    ...g.inputs.map((v) => messageField(11, valueInfo(v))),
    ...g.outputs.map((v) => messageField(12, valueInfo(v))),
  ];
}

export function encodeModel(m: ModelSpec): Uint8Array {
  return concat([
    intField(1, m.irVersion),
    stringField(2, m.producerName),
    messageField(7, graph(m.graph)),
    ...m.opsets.map((o) => messageField(8, [stringField(1, o.domain), intField(2, o.version)])),
  ]);
}
