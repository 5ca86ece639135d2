import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  cudaProviderInstalled,
  onnxruntimeBinFolder,
  providerCandidates,
} from './execution-provider.ts';

describe('providerCandidates', () => {
  it('tries CUDA first under auto when it is installed, then the CPU', () => {
    expect(providerCandidates('auto', true)).to.deep.equal(['cuda', 'cpu']);
    expect(providerCandidates('auto', false)).to.deep.equal(['cpu']);
  });

  it('refuses cuda when the provider library is missing, and says how a GPU image gets it', () => {
    expect(() => providerCandidates('cuda', false)).to.throw(
      /not installed.*ONNXRUNTIME_NODE_INSTALL=cuda12/,
    );
    expect(providerCandidates('cuda', true)).to.deep.equal(['cuda']);
  });

  it('never tries CUDA for cpu', () => {
    expect(providerCandidates('cpu', true)).to.deep.equal(['cpu']);
  });
});

describe('cudaProviderInstalled', () => {
  it('looks for the provider library in the binding folder', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ort-bin-'));
    try {
      expect(cudaProviderInstalled(dir)).to.equal(false);
      await writeFile(join(dir, 'libonnxruntime_providers_cuda.so'), '');
      expect(cudaProviderInstalled(dir)).to.equal(true);
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  it('finds the installed onnxruntime-node binding folder', () => {
    expect(onnxruntimeBinFolder()).to.match(/onnxruntime-node\/bin\/napi-v6\//);
  });
});
