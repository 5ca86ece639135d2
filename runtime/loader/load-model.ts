// The deployment guide's `load_model --model_path`, as the ChatBot's init container runs it:
// fetch the model once, verify its sha256, turn it into an ONNX model folder, and publish that
// folder atomically. Safe to run again (a verified model is not fetched twice) and safe to run
// from several pods at once on a shared volume (a lock file serialises them).

import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fetchSource, LoadError } from './fetch-source.ts';
import type { ProgressSink } from './progress.ts';
import { isTar, readHead, untar } from './untar.ts';

export interface LoadModelOptions {
  source: string;
  sha256: string;
  modelPath: string;
  /** Refuse a source of another format; detected from the file when absent. */
  format?: 'gguf' | 'onnx';
  progress: ProgressSink;
  /** GGUF → ONNX model folder; `outDir` does not exist yet. */
  importGguf: (file: string, outDir: string, progress: ProgressSink) => Promise<void>;
}

export interface LoadResult {
  /** False when a verified copy was already in place. */
  fetched: boolean;
  modelPath: string;
}

/** Written last into a finished model folder: what it was made from. */
const markerFile = '.clawbot-model.json';

interface Marker {
  sha256: string;
  source: string;
  loadedAt: string;
}

export async function loadModel(options: LoadModelOptions): Promise<LoadResult> {
  const sha256 = options.sha256.toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(sha256)) {
    throw new LoadError(`--sha256 must be 64 hexadecimal characters, got "${options.sha256}"`);
  }
  const { modelPath } = options;
  if (await verifiedCopy(modelPath, sha256)) {
    options.progress(`model ${sha256.slice(0, 12)} is already in ${modelPath}; nothing to do\n`);
    return { fetched: false, modelPath };
  }
  await mkdir(dirname(modelPath), { recursive: true });
  const unlock = await lock(`${modelPath}.lock`, options.progress);
  try {
    // Another pod may have finished the same model while this one waited for the lock.
    if (await verifiedCopy(modelPath, sha256)) return { fetched: false, modelPath };
    const work = `${modelPath}.partial-${randomBytes(4).toString('hex')}`;
    await mkdir(work, { recursive: true });
    try {
      const fetched = await fetchSource(options.source, join(work, 'download'), options.progress);
      if (fetched.sha256 !== sha256) {
        throw new LoadError(
          `sha256 mismatch for ${options.source}: expected ${sha256}, got ${fetched.sha256}. ` +
            'The file changed or is not the one meant: check model.source.url and model.source.sha256.',
        );
      }
      const folder = join(work, 'model');
      const format = await detectFormat(fetched.file);
      if (options.format && options.format !== format) {
        throw new LoadError(
          `${options.source} is ${format === 'gguf' ? 'a GGUF file' : 'an archive of an ONNX model folder'}, ` +
            `but the format given is ${options.format}; set model.format: ${format}`,
        );
      }
      if (format === 'gguf') await options.importGguf(fetched.file, folder, options.progress);
      else {
        await mkdir(folder);
        await untar(fetched.file, folder);
      }
      if (fetched.temporary) await rm(fetched.file);
      const marker: Marker = { sha256, source: options.source, loadedAt: new Date().toISOString() };
      await writeFile(join(folder, markerFile), JSON.stringify(marker, null, 2) + '\n');
      // Publish: an older or broken folder moves aside first, so modelPath is never half-written.
      const old = `${modelPath}.old-${randomBytes(4).toString('hex')}`;
      await rename(modelPath, old).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
      await rename(folder, modelPath);
      await rm(old, { recursive: true, force: true });
      options.progress(`model ${sha256.slice(0, 12)} is ready in ${modelPath}\n`);
      return { fetched: true, modelPath };
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  } finally {
    await unlock();
  }
}

async function verifiedCopy(modelPath: string, sha256: string): Promise<boolean> {
  try {
    const marker = JSON.parse(await readFile(join(modelPath, markerFile), 'utf8')) as Marker;
    return marker.sha256 === sha256;
  } catch {
    return false;
  }
}

async function detectFormat(file: string): Promise<'gguf' | 'onnx'> {
  if ((await readHead(file, 4)).toString('latin1') === 'GGUF') return 'gguf';
  const head = await readHead(file, 2);
  if ((head[0] === 0x1f && head[1] === 0x8b) || (await isTar(file))) return 'onnx';
  throw new LoadError(
    `${basename(file)} is neither a GGUF file nor a (gzipped) tar archive of an ONNX model folder`,
  );
}

const staleLockMs = 60_000;

/**
 * Who holds a lock: the pod (init containers of one pod run one at a time, so a lock of our own
 * pod is left by an earlier attempt of ours that died), or else this machine's process.
 */
function lockHolder(): string {
  return process.env.POD_NAME
    ? `pod ${process.env.POD_NAME}`
    : `process ${hostname()}/${process.pid}`;
}

/** Whether the holder is gone for certain: our own pod's earlier attempt, or a dead local process. */
function holderIsGone(holder: string): boolean {
  if (process.env.POD_NAME) return holder === lockHolder();
  const local = /^process (.+)\/(\d+)$/.exec(holder);
  if (!local || local[1] !== hostname()) return false;
  try {
    process.kill(Number(local[2]), 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * An exclusive lock file, refreshed every 10 s while held. A lock whose holder is gone for
 * certain is taken over at once (a crashed attempt of this pod's loader restarting); one not
 * refreshed for a minute belongs to a loader that died elsewhere (a killed pod) and is taken over.
 */
async function lock(path: string, progress: ProgressSink): Promise<() => Promise<void>> {
  let waiting = false;
  for (;;) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(`${lockHolder()}\n`);
      await handle.close();
      const heartbeat = setInterval(() => {
        const now = new Date();
        void utimes(path, now, now).catch(() => {});
      }, 10_000);
      return async () => {
        clearInterval(heartbeat);
        await rm(path, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = (await readFile(path, 'utf8').catch(() => '')).trim();
      const info = await stat(path).catch(() => undefined);
      if (holderIsGone(holder) || (info && Date.now() - info.mtimeMs > staleLockMs)) {
        progress(`taking over the lock of a loader that is gone (${holder || 'unknown'})\n`);
        await rm(path, { force: true });
        continue;
      }
      if (!waiting) {
        progress(`another loader (${holder || 'unknown'}) is loading this model; waiting for it\n`);
        waiting = true;
      }
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}
