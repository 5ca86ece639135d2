// A positioned read of a whole range, in parts: Node aborts the process (a native assertion,
// not an exception) on a single read of 2 GiB or more, and one tensor of a large model is that
// big (Llama 3 70B's F16 token embedding is 2.1 GB).
import type { FileHandle } from 'node:fs/promises';

const MAX_READ_BYTES = 2 ** 30;

/** Fills `into` from `position` on; returns how many bytes the file had (fewer at its end). */
export async function readFully(
  file: Pick<FileHandle, 'read'>,
  into: Uint8Array,
  position: number,
): Promise<number> {
  let done = 0;
  while (done < into.length) {
    const length = Math.min(into.length - done, MAX_READ_BYTES);
    const { bytesRead } = await file.read(into, done, length, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}
