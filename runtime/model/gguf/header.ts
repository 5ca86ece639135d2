// The GGUF header (magic, version, metadata, tensor directory), parsed from the first bytes of a
// file of known size, as llama.cpp's gguf.c reads it: versions 2 and 3, little-endian. Every
// count and length is checked against the bytes left in the file (and in MAX_HEADER_BYTES)
// before anything is allocated or looped over, so a corrupt or truncated header costs at most
// its own bytes.
import { GGUF_VALUE_TYPE } from './value-type.ts';

export type MetadataValue = string | number | bigint | boolean | MetadataValue[];

export interface GgufTensorEntry {
  name: string;
  /** ggml order: ne[0] (the contiguous row length) first. */
  shape: number[];
  /** The ggml type id, supported or not. */
  type: number;
  /** Offset of the tensor's data from `dataOffset`. */
  offset: number;
}

export interface GgufHeader {
  metadata: Record<string, MetadataValue>;
  tensors: GgufTensorEntry[];
  /** Where the tensor data starts: the end of the directory, rounded up to the alignment. */
  dataOffset: number;
}

/** The parsed header, or how many bytes from the start of the file parsing needs. */
export type HeaderParse = { header: GgufHeader } | { needBytes: number };

const MAGIC = 0x46554747; // "GGUF", little-endian
const DEFAULT_ALIGNMENT = 32;
// Real headers (vocabulary, merges, chat template) take tens of MiB at most; a corrupt count or
// length must not make the reader take in a large file whole.
const MAX_HEADER_BYTES = 64 * 2 ** 20;
// ggml's GGML_MAX_DIMS.
const MAX_DIMS = 4;
// Arrays of arrays are legal but unused; the limit keeps recursion off the stack's edge.
const MAX_ARRAY_NESTING = 4;

/** The fewest bytes a value of each type takes: a string or array is at least its length. */
const MIN_VALUE_BYTES = [1, 1, 2, 2, 4, 4, 4, 1, 8, 12, 8, 8, 8];

const corrupt = (why: string) =>
  new Error(`${why}: the file is truncated or corrupt; download it again`);

/** A name from the file as it appears in a message: quoted, and short whatever the file says. */
const quoted = (name: string) => JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name);

class NeedMoreBytes {
  readonly total: number;
  constructor(total: number) {
    this.total = total;
  }
}

/**
 * Parses the header from `bytes`, the first bytes of a file of `fileSize` bytes. Throws an
 * Error saying what is wrong with a file that is not a GGUF, is corrupt or is truncated; asks
 * for more bytes when the header goes on past `bytes`.
 */
export function parseGgufHeader(bytes: Uint8Array, fileSize: number): HeaderParse {
  try {
    return { header: new HeaderCursor(bytes, fileSize).header() };
  } catch (e) {
    if (e instanceof NeedMoreBytes) return { needBytes: e.total };
    throw e;
  }
}

class HeaderCursor {
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  private readonly fileSize: number;
  /** Where the header must end at the latest: the end of the file, or MAX_HEADER_BYTES. */
  private readonly end: number;
  private readonly decoder = new TextDecoder();
  private at = 0;

  constructor(bytes: Uint8Array, fileSize: number) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.fileSize = fileSize;
    this.end = Math.min(fileSize, MAX_HEADER_BYTES);
  }

  header(): GgufHeader {
    if (this.fileSize < 4 || this.u32('the magic') !== MAGIC) {
      throw new Error('it does not start with "GGUF"');
    }
    const version = this.u32('the version');
    if (version !== 2 && version !== 3) {
      throw new Error(
        `its version is ${version}; this reader reads GGUF versions 2 and 3 (little-endian): ` +
          'convert the model again with a current llama.cpp',
      );
    }
    const tensorCount = this.count('tensors', 8 + 4 + 4 + 8);
    const kvCount = this.count('metadata entries', 8 + 4 + 1);

    const metadata: Record<string, MetadataValue> = {};
    for (let i = 0; i < kvCount; i++) {
      const key = this.string('a metadata key');
      if (Object.hasOwn(metadata, key)) throw corrupt(`metadata key ${quoted(key)} appears twice`);
      const value = this.value(this.u32(`the type of ${quoted(key)}`), quoted(key), 0);
      Object.defineProperty(metadata, key, { value, enumerable: true });
    }

    const tensors: GgufTensorEntry[] = [];
    const names = new Set<string>();
    for (let i = 0; i < tensorCount; i++) {
      const text = this.string('a tensor name');
      const name = quoted(text);
      if (names.has(text)) throw corrupt(`tensor ${name} appears twice`);
      names.add(text);
      const dims = this.u32(`the dimension count of tensor ${name}`);
      if (dims > MAX_DIMS) {
        throw corrupt(
          `tensor ${name} has ${dims} dimensions; ggml tensors have at most ${MAX_DIMS}`,
        );
      }
      const shape: number[] = [];
      let elements = 1;
      for (let d = 0; d < dims; d++) {
        shape.push(this.safeInteger(this.u64(`the shape of tensor ${name}`)));
        elements *= shape[d]!;
      }
      if (!Number.isSafeInteger(elements)) {
        throw corrupt(
          `tensor ${name} has shape [${shape.join(', ')}], more values than any file holds`,
        );
      }
      const type = this.u32(`the type of tensor ${name}`);
      const offset = this.safeInteger(this.u64(`the data offset of tensor ${name}`));
      tensors.push({ name: text, shape, type, offset });
    }

    const alignment = metadata['general.alignment'] ?? DEFAULT_ALIGNMENT;
    if (typeof alignment !== 'number' || alignment <= 0 || (alignment & (alignment - 1)) !== 0) {
      throw corrupt(`general.alignment must be a power of two (uint32), not ${String(alignment)}`);
    }
    const dataOffset = Math.ceil(this.at / alignment) * alignment;
    return { metadata, tensors, dataOffset };
  }

  /** `length` more bytes at the cursor, which must be inside the header and are then passed. */
  private take(length: number, what: string): number {
    const start = this.at;
    if (length > this.end - start) {
      throw corrupt(
        this.end === this.fileSize
          ? `${what} at byte ${start} needs ${length} bytes, but the file ends at byte ${this.fileSize}`
          : `${what} at byte ${start} needs ${length} bytes, past the first ` +
              `${MAX_HEADER_BYTES / 2 ** 20} MiB, longer than any model's header`,
      );
    }
    if (start + length > this.bytes.length) throw new NeedMoreBytes(start + length);
    this.at += length;
    return start;
  }

  private u32(what: string): number {
    return this.view.getUint32(this.take(4, what), true);
  }

  private u64(what: string): bigint {
    return this.view.getBigUint64(this.take(8, what), true);
  }

  private safeInteger(value: bigint): number {
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw corrupt(`it declares a size of ${value}, larger than any file`);
    }
    return Number(value);
  }

  /** A count of things of at least `minBytes` each, which the rest of the file must hold. */
  private count(what: string, minBytes: number): number {
    const count = this.u64(`the number of ${what}`);
    const left = this.end - this.at;
    if (count > BigInt(Math.floor(left / minBytes))) {
      throw corrupt(
        `it declares ${count} ${what}, but its remaining ${left} bytes hold at most ` +
          Math.floor(left / minBytes),
      );
    }
    return Number(count);
  }

  private string(what: string): string {
    // Past 2^53 the length is rounded, but still larger than any file.
    const start = this.take(Number(this.u64(`the length of ${what}`)), what);
    return this.decoder.decode(this.bytes.subarray(start, this.at));
  }

  private value(type: number, key: string, nesting: number): MetadataValue {
    const at = (size: number) => this.take(size, `the value of ${key}`);
    switch (type) {
      case GGUF_VALUE_TYPE.UINT8:
        return this.view.getUint8(at(1));
      case GGUF_VALUE_TYPE.INT8:
        return this.view.getInt8(at(1));
      case GGUF_VALUE_TYPE.UINT16:
        return this.view.getUint16(at(2), true);
      case GGUF_VALUE_TYPE.INT16:
        return this.view.getInt16(at(2), true);
      case GGUF_VALUE_TYPE.UINT32:
        return this.view.getUint32(at(4), true);
      case GGUF_VALUE_TYPE.INT32:
        return this.view.getInt32(at(4), true);
      case GGUF_VALUE_TYPE.FLOAT32:
        return this.view.getFloat32(at(4), true);
      case GGUF_VALUE_TYPE.BOOL:
        return this.view.getUint8(at(1)) !== 0;
      case GGUF_VALUE_TYPE.STRING:
        return this.string(`the value of ${key}`);
      case GGUF_VALUE_TYPE.UINT64:
        return this.view.getBigUint64(at(8), true);
      case GGUF_VALUE_TYPE.INT64:
        return this.view.getBigInt64(at(8), true);
      case GGUF_VALUE_TYPE.FLOAT64:
        return this.view.getFloat64(at(8), true);
      case GGUF_VALUE_TYPE.ARRAY: {
        if (nesting === MAX_ARRAY_NESTING) {
          throw corrupt(`metadata ${key} nests arrays more than ${MAX_ARRAY_NESTING} deep`);
        }
        const itemType = this.u32(`the item type of ${key}`);
        const minBytes = MIN_VALUE_BYTES[itemType];
        if (minBytes === undefined)
          throw corrupt(`metadata ${key} has items of unknown type ${itemType}`);
        const length = this.count(`items in ${key}`, minBytes);
        const items: MetadataValue[] = [];
        for (let i = 0; i < length; i++) items.push(this.value(itemType, key, nesting + 1));
        return items;
      }
      default:
        throw corrupt(`metadata ${key} has unknown value type ${type}`);
    }
  }
}
