import { expect } from 'chai';
import type { FileHandle } from 'node:fs/promises';
import { readFully } from './read-fully.ts';

/** A file of `size` bytes that records its reads and writes nothing (the buffer stays untouched). */
function fakeFile(size: number) {
  const reads: { offset: number; length: number; position: number }[] = [];
  const file: Pick<FileHandle, 'read'> = {
    read: (async (_buffer: Uint8Array, offset: number, length: number, position: number) => {
      reads.push({ offset, length, position });
      return { bytesRead: Math.max(0, Math.min(length, size - position)), buffer: _buffer };
    }) as FileHandle['read'],
  };
  return { file, reads };
}

describe('readFully', () => {
  it('reads a range of 2 GiB and more in parts below 2 GiB, which Node aborts on', async () => {
    // Untouched, the buffer's pages are never committed.
    const into = new Uint8Array(2 ** 31 + 32);
    const { file, reads } = fakeFile(2 ** 32);
    expect(await readFully(file, into, 100)).to.equal(into.length);
    expect(reads.map((r) => r.length).every((n) => n < 2 ** 31)).to.equal(true);
    expect(reads.map((r) => [r.offset, r.position - 100])).to.deep.equal([
      [0, 0],
      [2 ** 30, 2 ** 30],
      [2 ** 31, 2 ** 31],
    ]);
  });

  it('stops where the file ends', async () => {
    const { file } = fakeFile(150);
    expect(await readFully(file, new Uint8Array(100), 100)).to.equal(50);
  });
});
