// Which onnxruntime execution providers to try, in order. The CUDA provider is a separate shared
// library that onnxruntime-node downloads only when asked to at install time, so its presence is
// checked first and its absence explained.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Provider } from './out-of-memory.ts';
import type { ExecutionProviderChoice } from '../../common/runtime-env.ts';

export const CUDA_INSTALL_HINT =
  'GPU images get it at build time by installing onnxruntime-node with its CUDA 12 provider ' +
  '(ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node), on a base image with CUDA 12 and cuDNN 9';

/** The folder holding onnxruntime-node's native libraries for this platform. */
export function onnxruntimeBinFolder(): string {
  const entry = createRequire(import.meta.url).resolve('onnxruntime-node');
  return join(dirname(entry), '..', 'bin', 'napi-v6', process.platform, process.arch);
}

export function cudaProviderInstalled(binFolder = onnxruntimeBinFolder()): boolean {
  return existsSync(join(binFolder, 'libonnxruntime_providers_cuda.so'));
}

export function providerCandidates(
  choice: ExecutionProviderChoice,
  cudaInstalled: boolean,
): Provider[] {
  switch (choice) {
    case 'cpu':
      return ['cpu'];
    case 'cuda':
      if (!cudaInstalled) {
        throw new Error(
          `executionProvider 'cuda' was requested but the onnxruntime CUDA provider is not installed ` +
            `(no libonnxruntime_providers_cuda.so next to onnxruntime-node's binding); ${CUDA_INSTALL_HINT}. ` +
            `Use 'auto' or 'cpu' to run on the CPU.`,
        );
      }
      return ['cuda'];
    case 'auto':
      return cudaInstalled ? ['cuda', 'cpu'] : ['cpu'];
  }
}
