// `npm run runtime -- tiny-model <dir>`
import { parseArgs } from 'node:util';
import { createLogger } from '../../common/log.ts';
import type { GgmlTypeName } from './gguf/ggml-type.ts';
import { GgmlType } from './gguf/ggml-type.ts';
import { writeTinyModel } from './tiny/tiny-model.ts';

const TYPES = Object.keys(GgmlType);

const USAGE = `usage: npm run runtime -- tiny-model <dir> [options]

Writes a tiny random-weight Llama model folder (byte-level BPE tokenizer with ChatML special
tokens) through the GGUF importer: the test model.

options:
  --type <type>   weight type, one of ${TYPES.join(', ')} (default F32)
  --seed <n>      random seed (default 1)
  --force         replace <dir> if it exists`;

export async function run(argv: string[]): Promise<number> {
  const log = createLogger('tiny-model');
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        type: { type: 'string', default: 'F32' },
        seed: { type: 'string', default: '1' },
        force: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = args;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const seed = Number(values.seed);
  if (positionals.length !== 1 || !TYPES.includes(values.type) || !Number.isInteger(seed)) {
    process.stderr.write(
      `expected one directory, a --type from ${TYPES.join(', ')} and an integer --seed\n\n${USAGE}\n`,
    );
    return 2;
  }
  const dir = positionals[0]!;
  try {
    const { config } = await writeTinyModel(dir, {
      tensorType: values.type as GgmlTypeName,
      seed,
      force: values.force,
    });
    log.info('wrote tiny model', {
      dir,
      type: values.type,
      seed,
      vocabSize: config.vocabSize,
      layers: config.numLayers,
    });
    return 0;
  } catch (e) {
    log.error('tiny model failed', { dir, error: (e as Error).message });
    return 1;
  }
}
