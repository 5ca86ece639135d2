// Brings a model source to a local file while hashing it: HTTP(S) downloads stream to disk (never
// whole into memory), local files are hashed in place.

import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { stat, statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream } from 'node:stream/web';
// Not the global fetch: Node 24's bundled undici 7 crashes the process with an uncatchable
// assertion when a server closes the connection while the body waits on backpressure
// (nodejs/undici#5360), which HTTP/1.0 and `Connection: close` servers do. Fixed in undici 8,
// whose fetch must also get a dispatcher of its own: by default both share one global
// dispatcher, made by whichever copy of undici loaded first.
import { Agent, fetch } from 'undici';
import { formatBytes, type ProgressSink } from './progress.ts';

export interface FetchedSource {
  file: string;
  sha256: string;
  bytes: number;
  /** True when `file` is a download of ours that the caller should delete afterwards. */
  temporary: boolean;
}

export class LoadError extends Error {
  override name = 'LoadError';
}

export async function fetchSource(
  source: string,
  downloadTo: string,
  progress: ProgressSink,
): Promise<FetchedSource> {
  if (/^https?:\/\//.test(source)) return download(source, downloadTo, progress);
  const path = source.startsWith('file://') ? new URL(source).pathname : source;
  const info = await stat(path).catch(() => {
    throw new LoadError(`model source ${path} does not exist`);
  });
  if (!info.isFile()) throw new LoadError(`model source ${path} is not a file`);
  const hash = createHash('sha256');
  // The meter passes chunks on; something has to drain them.
  await pipeline(
    createReadStream(path),
    meter(hash, info.size, `hashing ${path}`, progress),
    async (chunks) => {
      for await (const _ of chunks);
    },
  );
  return { file: path, sha256: hash.digest('hex'), bytes: info.size, temporary: false };
}

async function download(url: string, file: string, progress: ProgressSink): Promise<FetchedSource> {
  const dispatcher = new Agent();
  try {
    let response: Awaited<ReturnType<typeof fetch>>;
    try {
      response = await fetch(url, { redirect: 'follow', dispatcher });
    } catch (err) {
      throw new LoadError(
        `cannot download ${url}: ${(err as Error).cause ?? (err as Error).message}`,
      );
    }
    if (!response.ok || !response.body) {
      throw new LoadError(`cannot download ${url}: HTTP ${response.status} ${response.statusText}`);
    }
    const total = Number(response.headers.get('content-length') ?? 0);
    if (total > 0) await ensureSpace(dirname(file), total);
    const hash = createHash('sha256');
    await pipeline(
      Readable.fromWeb(response.body as ReadableStream),
      meter(hash, total, `downloading ${url}`, progress),
      createWriteStream(file),
    );
    const bytes = (await stat(file)).size;
    if (total > 0 && bytes !== total) {
      throw new LoadError(`download of ${url} ended early: ${bytes} of ${total} bytes`);
    }
    return { file, sha256: hash.digest('hex'), bytes, temporary: true };
  } finally {
    await dispatcher.close();
  }
}

/** A pass-through that hashes and reports progress. */
function meter(
  hash: ReturnType<typeof createHash>,
  total: number,
  what: string,
  progress: ProgressSink,
) {
  let seen = 0;
  const started = Date.now();
  return async function* (source: AsyncIterable<Buffer>) {
    for await (const chunk of source) {
      hash.update(chunk);
      seen += chunk.length;
      const rate = seen / Math.max(0.001, (Date.now() - started) / 1000);
      const share = total > 0 ? `${Math.floor((seen / total) * 100)}% (` : '(';
      progress(
        `${what}: ${share}${formatBytes(seen)}${total > 0 ? ` of ${formatBytes(total)}` : ''}, ${formatBytes(rate)}/s)`,
      );
      yield chunk;
    }
    progress(`${what}: done, ${formatBytes(seen)}\n`);
  };
}

/** Fails before writing when the volume cannot hold `bytes` (plus room for the unpacked model). */
export async function ensureSpace(dir: string, bytes: number): Promise<void> {
  const fs = await statfs(dir);
  const free = fs.bavail * fs.bsize;
  const needed = bytes * 2;
  if (free < needed) {
    throw new LoadError(
      `not enough space on ${dir}: the model needs about ${formatBytes(needed)} while ` +
        `${formatBytes(free)} is free. Raise the ChatBot's storage.size or free space.`,
    );
  }
}
