// The engine tests' model: the project's tiny random-weight Llama, written once per test run into
// a temporary folder through the real GGUF importer.
import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTinyModel } from '../../runtime/model/tiny/tiny-model.ts';

let folder: Promise<string> | undefined;

export function tinyModelFolder(): Promise<string> {
  folder ??= (async () => {
    const parent = await mkdtemp(join(tmpdir(), 'engine-test-'));
    process.once('exit', () => rmSync(parent, { recursive: true, force: true }));
    const dir = join(parent, 'tiny');
    // A context long enough that a generation the tests cancel or cut short cannot finish first
    // on a slow, busy machine (the tiny model decodes a token in well under a millisecond).
    await writeTinyModel(dir, { contextLength: 4096 });
    return dir;
  })();
  return folder;
}
