// Unpacks a tar archive (optionally gzip-compressed) of an ONNX model folder. Only what a model
// folder needs: regular files and folders, ustar/GNU long names and pax paths. Links and paths
// that leave the target folder are refused, so an archive can never write outside it.

import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { dirname, join, normalize } from 'node:path';
import { createGunzip } from 'node:zlib';
import { LoadError } from './fetch-source.ts';

const block = 512;

export async function isGzip(file: string): Promise<boolean> {
  return (await readHead(file, 2)).equals(Buffer.from([0x1f, 0x8b]));
}

export async function isTar(file: string): Promise<boolean> {
  const head = await readHead(file, 263);
  return head.length === 263 && head.subarray(257, 262).toString('latin1') === 'ustar';
}

export async function readHead(file: string, bytes: number): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** Reads a stream in exact-size pieces. */
class Reader {
  private buffered: Buffer[] = [];
  private size = 0;
  private readonly source: AsyncIterator<Buffer>;
  constructor(source: AsyncIterable<Buffer>) {
    this.source = source[Symbol.asyncIterator]();
  }
  async read(bytes: number): Promise<Buffer | undefined> {
    while (this.size < bytes) {
      const next = await this.source.next();
      if (next.done) return undefined;
      this.buffered.push(next.value);
      this.size += next.value.length;
    }
    const all = Buffer.concat(this.buffered);
    this.buffered = [all.subarray(bytes)];
    this.size = all.length - bytes;
    return all.subarray(0, bytes);
  }
}

function field(header: Buffer, offset: number, length: number): string {
  const raw = header.subarray(offset, offset + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? length : end).toString('utf8');
}

function octal(header: Buffer, offset: number, length: number): number {
  const text = field(header, offset, length).trim();
  return text ? parseInt(text, 8) : 0;
}

function safeJoin(root: string, name: string): string {
  const cleaned = normalize(name).replace(/^(\.\/)+/, '');
  if (cleaned.startsWith('/') || cleaned === '..' || cleaned.startsWith('../')) {
    throw new LoadError(`archive entry "${name}" points outside the model folder; refusing it`);
  }
  return join(root, cleaned);
}

/** Unpacks `file` into `target` (which must exist) and returns the number of files written. */
export async function untar(file: string, target: string): Promise<number> {
  const input = createReadStream(file);
  const reader = new Reader((await isGzip(file)) ? input.pipe(createGunzip()) : input);
  let longName: string | undefined;
  let files = 0;
  for (;;) {
    const header = await reader.read(block);
    if (!header || header.every((b) => b === 0)) break;
    const size = octal(header, 124, 12);
    const type = String.fromCharCode(header[156]!) || '0';
    const prefix = field(header, 345, 155);
    const name =
      longName ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
    longName = undefined;
    const padded = Math.ceil(size / block) * block;

    if (type === 'L' || type === 'x') {
      const body = (await reader.read(padded))?.subarray(0, size).toString('utf8') ?? '';
      longName =
        type === 'L' ? body.replace(/\0+$/, '') : /(?:^|\n)\d+ path=([^\n]*)\n/.exec(body)?.[1];
      continue;
    }
    if (type === 'g') {
      await reader.read(padded);
      continue;
    }
    const path = safeJoin(target, name);
    if (type === '5') {
      await mkdir(path, { recursive: true });
    } else if (type === '0' || type === '\0') {
      await mkdir(dirname(path), { recursive: true });
      const out = createWriteStream(path);
      let left = size;
      while (left > 0) {
        const piece = Math.min(left, 1 << 20);
        const data = await reader.read(piece);
        if (!data) throw new LoadError(`archive ends in the middle of ${name}`);
        if (!out.write(data)) await new Promise<void>((r) => out.once('drain', () => r()));
        left -= piece;
      }
      await new Promise<void>((resolve, reject) =>
        out.end((err?: Error | null) => (err ? reject(err) : resolve())),
      );
      if (padded > size) await reader.read(padded - size);
      files++;
    } else {
      throw new LoadError(
        `archive entry "${name}" is a link or device (tar type ${type}); a model folder holds only files`,
      );
    }
  }
  return files;
}
