// `npm run runtime -- load-model --source <url|path> --sha256 <hex> --model-path <dir>`: the
// ChatBot's model-loader init container, and the guide's `load_model --model_path` by hand.

import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { importGguf } from '../model/import-gguf.ts';
import { formatBytes, progressPrinter, type ProgressSink } from './progress.ts';
import { loadModel } from './load-model.ts';

const usage = `usage: npm run runtime -- load-model --source <url|path> --sha256 <hex> --model-path <dir>
                                       [--format gguf|onnx]

Fetches the model once, verifies its SHA-256, turns a GGUF file into an ONNX model folder (or
unpacks a .tar/.tar.gz of an ONNX model folder), and publishes it at --model-path atomically.
Running it again with the same sha256 does nothing.`;

const importWithProgress = (file: string, outDir: string, progress: ProgressSink) =>
  importGguf(file, outDir, {
    onProgress: (p) => {
      if (p.stage === 'weights') {
        progress(`importing GGUF: ${Math.floor((100 * p.written) / p.total)}% of weights written`);
      } else if (p.stage === 'done') {
        progress(
          `importing GGUF: done, ${formatBytes(p.modelBytes + p.dataBytes)} of ONNX model\n`,
        );
      } else {
        progress(`importing GGUF: ${p.stage}\n`);
      }
    },
  }).then(() => undefined);

export async function run(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        source: { type: 'string' },
        sha256: { type: 'string' },
        'model-path': { type: 'string' },
        format: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${usage}`);
    return 2;
  }
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const { source, sha256, format } = values;
  const modelPath = values['model-path'];
  if (!source || !sha256 || !modelPath || (format && format !== 'gguf' && format !== 'onnx')) {
    console.error(
      `--source, --sha256 and --model-path are required; --format is gguf or onnx\n\n${usage}`,
    );
    return 2;
  }
  try {
    await loadModel({
      source,
      sha256,
      modelPath,
      format: format as 'gguf' | 'onnx' | undefined,
      progress: progressPrinter(),
      importGguf: importWithProgress,
    });
    return 0;
  } catch (err) {
    const reason = (err as Error).message;
    console.error(`load-model failed: ${reason}`);
    // Kubernetes shows this file's contents as the container's termination message, which the
    // operator copies into the ChatBot's ModelReady condition.
    await writeFile('/dev/termination-log', reason).catch(() => {});
    return 1;
  }
}
