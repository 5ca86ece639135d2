// Opens a GGUF file: header, metadata and tensor directory through @huggingface/gguf, tensor data
// read by offset on demand so a large model is never loaded whole.
import { gguf } from '@huggingface/gguf';
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { dequantize } from './dequantize.ts';
import type { GgmlTypeId } from './ggml-type.ts';
import {
  blockElements,
  ggmlTypeName,
  isSupportedType,
  SUPPORTED_TYPES,
  tensorByteSize,
} from './ggml-type.ts';

export type MetadataValue = string | number | bigint | boolean | MetadataValue[];

export interface GgufTensorInfo {
  name: string;
  /** ggml order: ne[0] (the contiguous row length) first. */
  shape: number[];
  /** The ggml type id; may be one this importer cannot read (see SUPPORTED_TYPES). */
  type: number;
  elements: number;
  /** Absolute offset of the tensor's data in the file. */
  offset: number;
}

export interface GgufFile {
  path: string;
  metadata: Readonly<Record<string, MetadataValue>>;
  tensors: ReadonlyMap<string, GgufTensorInfo>;
  readTensor(name: string): Promise<{ info: GgufTensorInfo; type: GgmlTypeId; data: Uint8Array }>;
  /** The tensor's values as float32, dequantized when stored quantized. */
  readFloats(name: string): Promise<Float32Array>;
  close(): Promise<void>;
}

export async function openGguf(path: string): Promise<GgufFile> {
  let parsed;
  try {
    parsed = await gguf(path, { allowLocalFile: true });
  } catch (e) {
    throw unreadable(path, (e as Error).message, e);
  }
  const dataStart = Number(parsed.tensorDataOffset);
  const tensors = new Map<string, GgufTensorInfo>(
    parsed.tensorInfos.map((t) => {
      const shape = t.shape.map(Number);
      const info = {
        name: t.name,
        shape,
        type: t.dtype as number,
        elements: shape.reduce((a, b) => a * b, 1),
        offset: dataStart + Number(t.offset),
      };
      return [t.name, info];
    }),
  );
  const { version: _v, tensor_count: _t, kv_count: _k, ...metadata } = parsed.metadata;
  const file: FileHandle = await open(path, 'r');
  try {
    const { size } = await file.stat();
    for (const info of tensors.values()) checkExtent(path, info, size);
  } catch (e) {
    await file.close();
    throw e;
  }

  const readTensor = async (name: string) => {
    const info = tensors.get(name);
    if (!info) throw new Error(`${path} has no tensor named ${name}`);
    if (!isSupportedType(info.type)) {
      throw new Error(
        `tensor ${name} is stored as ${ggmlTypeName(info.type)}, which is not supported; supported types: ${SUPPORTED_TYPES}`,
      );
    }
    const data = new Uint8Array(tensorByteSize(info.type, info.elements));
    const { bytesRead } = await file.read(data, 0, data.length, info.offset);
    if (bytesRead !== data.length) throw new Error(`${path} is truncated inside tensor ${name}`);
    return { info, type: info.type, data };
  };

  return {
    path,
    metadata: metadata as Record<string, MetadataValue>,
    tensors,
    readTensor,
    async readFloats(name) {
      const { info, type, data } = await readTensor(name);
      return dequantize(type, data, info.elements);
    },
    close: () => file.close(),
  };
}

function unreadable(path: string, why: string, cause?: unknown): Error {
  return new Error(`${path} is not a readable GGUF file: ${why}`, { cause });
}

/**
 * A tensor of a supported type must be whole blocks per row and lie inside the file: checked
 * when the file is opened, so a corrupt shape or offset is refused before its data is allocated.
 * (Unsupported types are refused when read.)
 */
function checkExtent(path: string, info: GgufTensorInfo, fileSize: number): void {
  if (!isSupportedType(info.type)) return;
  const rowLength = info.shape[0] ?? 1;
  const block = blockElements(info.type);
  if (rowLength % block !== 0) {
    throw unreadable(
      path,
      `tensor ${info.name} is ${ggmlTypeName(info.type)} with rows of ${rowLength} values, ` +
        `not whole blocks of ${block}: the file is corrupt`,
    );
  }
  const bytes = tensorByteSize(info.type, info.elements);
  if (info.offset + bytes > fileSize) {
    throw unreadable(
      path,
      `tensor ${info.name} (shape [${info.shape.join(', ')}]) needs ${bytes} bytes from offset ` +
        `${info.offset}, past the end of the file (${fileSize} bytes): the file is truncated ` +
        'or corrupt; download it again',
    );
  }
}
