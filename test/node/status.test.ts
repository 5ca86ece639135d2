// Truth in a ChatBot's status, from what really happens to its pods on a real node: the kernel's
// OOM killer, a loader that refuses a file whose sha256 is wrong, and the scheduler's own word
// that no node has a GPU. No pod status is written by the test.

import { expect } from 'chai';
import { ensureSmolLM2 } from '../../tools/models/smollm2.ts';
import { kube } from '../kube.ts';
import {
  nodeCluster,
  serveFiles,
  tinyModel,
  untilCondition,
  type FileServer,
  type NodeCluster,
} from './node-cluster.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('node: ChatBot status from real pods', function () {
  this.timeout(900_000);
  let cluster: NodeCluster;
  let k: ReturnType<typeof kube>;
  let namespace: string;
  let files: FileServer;

  const chatBot = (name: string, model: Json, resources: Json) => ({
    apiVersion: 'clawbot.dev/v1alpha1',
    kind: 'ChatBot',
    metadata: { name },
    spec: {
      model: { ...model, format: 'gguf' },
      resources: { cpu: '250m', ...resources },
      storage: { size: '1Gi' },
      scaling: { replicas: 1 },
    },
  });
  /** The ChatBot's condition once its reason is `reason`. */
  const conditionWith = (name: string, type: string, reason: string) =>
    untilCondition(k, name, type, (c) => c.reason === reason);

  before(async () => {
    const [model, started] = await Promise.all([ensureSmolLM2(), nodeCluster()]);
    cluster = started;
    namespace = await cluster.namespace('truth');
    k = kube(cluster, namespace);
    const tiny = tinyModel();
    files = await serveFiles(cluster.hostIp, {
      '/smollm2.gguf': model.gguf,
      '/tiny.gguf': tiny.bytes,
    });
    const smollm2 = { source: { url: files.url('/smollm2.gguf'), sha256: model.sha256 } };
    const tinySource = {
      source: {
        url: files.url('/tiny.gguf'),
        sha256: tiny.sha256,
      },
    };
    // 160 MiB cannot hold SmolLM2's 224 MiB of ONNX weights: the runtime dies loading them.
    await k.apply(chatBot('small-memory', smollm2, { memory: '160Mi' }));
    await k.apply(
      chatBot(
        'wrong-sha',
        { source: { ...tinySource.source, sha256: 'ab'.repeat(32) } },
        { memory: '1Gi' },
      ),
    );
    await k.apply(chatBot('wants-gpu', tinySource, { memory: '1Gi', gpu: 1 }));
  });

  after(async () => {
    await files?.close();
    await cluster?.kubectl(['delete', 'namespace', namespace, '--wait=false']).catch(() => {});
  });

  it('says OOMKilled, with advice, when the runtime exceeds its memory limit', async () => {
    const degraded = await conditionWith('small-memory', 'Degraded', 'OOMKilled');
    expect(degraded.status).to.equal('True');
    expect(degraded.message).to.match(/exceeding its memory limit \(resources.memory 160Mi\)/);
    const pod = (
      JSON.parse(
        await k.kubectl(['get', 'pods', '-l', 'clawbot.dev/chatbot=small-memory', '-o', 'json']),
      ) as { items: Json[] }
    ).items[0]!;
    const runtime = (pod.status.containerStatuses as Json[]).find((c) => c.name === 'runtime')!;
    // The kubelet's own record of the kill.
    const terminated = runtime.lastState?.terminated ?? runtime.state?.terminated;
    expect(terminated.reason).to.equal('OOMKilled');
  });

  it("says ModelLoadFailed with the loader's message when the sha256 does not match", async () => {
    const ready = await conditionWith('wrong-sha', 'ModelReady', 'ModelLoadFailed');
    expect(ready.status).to.equal('False');
    expect(ready.message).to.match(/sha256 mismatch for .*tiny\.gguf: expected abab/);
  });

  it("says InsufficientGPU with the scheduler's own message on a node without GPUs", async () => {
    const ready = await conditionWith('wants-gpu', 'Ready', 'InsufficientGPU');
    expect(ready.status).to.equal('False');
    expect(ready.message).to.match(/Insufficient nvidia\.com\/gpu/);
    expect(ready.message).to.match(/set resources\.gpu: 0 to run on CPU/);
  });
});
