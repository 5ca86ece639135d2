// `npm run runtime -- import-gguf <file.gguf> <out-dir>`
import { parseArgs } from 'node:util';
import { createLogger } from '../../common/log.ts';
import type { ImportProgress } from './import-gguf.ts';
import { SUPPORTED_TYPES } from './gguf/ggml-type.ts';
import { importGguf } from './import-gguf.ts';
import type { WeightOptions } from './llama/gguf-weights.ts';
import { DEFAULT_WEIGHT_OPTIONS } from './llama/gguf-weights.ts';

const USAGE = `usage: npm run runtime -- import-gguf <file.gguf> <out-dir> [options]

Converts a Llama-family GGUF (tensor types ${SUPPORTED_TYPES}) into an ONNX model folder
(onnx/model.onnx + model.onnx_data, config.json, generation_config.json, tokenizer.json,
tokenizer_config.json). The folder appears only once complete.

options:
  --force               replace <out-dir> if it exists
  --accuracy <mode>     fp32 (default): 4-bit matrices multiply in float32, equal to the GGUF's
                        math up to float rounding
                        int8: activations are also quantized to int8 per block, as llama.cpp
                        does; faster (SmolLM2 here: ~1.2-1.5x decode) but not exact
  --q4_1 <encoding>     nbits (default): 4-bit MatMulNBits; dense: dequantize to float32`;

const ACCURACY_CHOICES = ['fp32', 'int8'] as const;
const Q4_1_CHOICES = ['nbits', 'dense'] as const;

function choice<T extends string>(
  flag: string,
  value: string | undefined,
  choices: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw new Error(`--${flag} must be one of ${choices.join(', ')}; got "${value}"`);
}

export function progressLogger(log: ReturnType<typeof createLogger>): (p: ImportProgress) => void {
  let lastPercent = -1;
  return (p) => {
    if (p.stage !== 'weights') return log.info(p.stage, { ...p });
    const percent = Math.floor((100 * p.written) / p.total / 10) * 10;
    if (percent !== lastPercent || p.written === p.total) {
      lastPercent = percent;
      log.info('weights', {
        percent: Math.floor((100 * p.written) / p.total),
        written: p.written,
        total: p.total,
        last: p.name,
      });
    }
  };
}

export async function run(argv: string[]): Promise<number> {
  const log = createLogger('import-gguf');
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        force: { type: 'boolean', default: false },
        accuracy: { type: 'string' },
        q4_1: { type: 'string' },
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
  if (positionals.length !== 2) {
    process.stderr.write(`expected a GGUF file and an output directory\n\n${USAGE}\n`);
    return 2;
  }
  const [gguf, outDir] = positionals as [string, string];
  let weights: WeightOptions;
  try {
    weights = {
      accuracy: choice(
        'accuracy',
        values.accuracy,
        ACCURACY_CHOICES,
        DEFAULT_WEIGHT_OPTIONS.accuracy,
      ),
      q4_1: choice('q4_1', values.q4_1, Q4_1_CHOICES, DEFAULT_WEIGHT_OPTIONS.q4_1),
    };
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  try {
    const started = Date.now();
    await importGguf(gguf, outDir, {
      force: values.force,
      weights,
      onProgress: progressLogger(log),
    });
    log.info('imported', { gguf, outDir, seconds: (Date.now() - started) / 1000 });
    return 0;
  } catch (e) {
    log.error('import failed', { gguf, outDir, error: (e as Error).message });
    return 1;
  }
}
