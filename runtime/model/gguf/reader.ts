// Opens a GGUF file: header, metadata and tensor directory parsed by ./header.ts from as many
// bytes as the header takes, tensor data read by offset on demand so a large model is never
// loaded whole.
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
import { type GgufHeader, type MetadataValue, parseGgufHeader } from './header.ts';
import { readFully } from './read-fully.ts';

export type { MetadataValue } from './header.ts';

// Enough for the header of a small model in one read; a larger vocabulary takes a few more.
const FIRST_READ_BYTES = 1 << 20;

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
  const file: FileHandle = await open(path, 'r');
  let tensors: Map<string, GgufTensorInfo>;
  let metadata: Record<string, MetadataValue>;
  try {
    const { size } = await file.stat();
    let header: GgufHeader;
    try {
      header = await readHeader(file, size);
    } catch (e) {
      throw unreadable(path, (e as Error).message, e);
    }
    ({ metadata } = header);
    tensors = new Map(
      header.tensors.map((t) => [
        t.name,
        {
          ...t,
          elements: t.shape.reduce((a, b) => a * b, 1),
          offset: header.dataOffset + t.offset,
        },
      ]),
    );
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
    if ((await readFully(file, data, info.offset)) !== data.length) {
      throw new Error(`${path} is truncated inside tensor ${name}`);
    }
    return { info, type: info.type, data };
  };

  return {
    path,
    metadata,
    tensors,
    readTensor,
    async readFloats(name) {
      const { info, type, data } = await readTensor(name);
      return dequantize(type, data, info.elements);
    },
    close: () => file.close(),
  };
}

/** Reads as much of the file as its header takes (within the file), and parses it. */
async function readHeader(file: FileHandle, size: number): Promise<GgufHeader> {
  let bytes = new Uint8Array(0);
  let wanted = Math.min(size, FIRST_READ_BYTES);
  for (;;) {
    const more = new Uint8Array(wanted);
    more.set(bytes);
    const { bytesRead } = await file.read(more, bytes.length, wanted - bytes.length, bytes.length);
    bytes = more.subarray(0, bytes.length + bytesRead);
    const parse = parseGgufHeader(bytes, size);
    if ('header' in parse) return parse.header;
    if (bytesRead === 0) throw new Error('the file got shorter while it was read');
    // Doubling keeps the re-parsing of a large header to a few passes.
    wanted = Math.min(size, Math.max(parse.needBytes, 2 * bytes.length));
  }
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
