// spec.network.allowedCIDRs enforced on a real node: the NetworkPolicy the operator writes is
// carried out by the node's firewall, kube-router (tools/node/network-policy.ts). Two client
// pods, one inside the allowed range and one outside it, dial the ChatBot pod's own address, so
// nothing but the policy stands between them and the chat port.

import { expect } from 'chai';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { logTail } from '../../tools/cluster/processes.ts';
import { debianImage } from '../../tools/images/bases.ts';
import { eventually } from '../../tools/eventually.ts';
import { nodeUnsupportedReason } from '../../tools/node/support.ts';
import { kube } from '../kube.ts';
import {
  clientPod,
  nodeCluster,
  serveFiles,
  tinyModel,
  untilCondition,
  type FileServer,
  type NodeCluster,
} from './node-cluster.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const chatPort = 18789;
const healthPort = 18790;

describe('node: spec.network.allowedCIDRs, enforced', function () {
  this.timeout(900_000);
  let cluster: NodeCluster;
  let k: ReturnType<typeof kube>;
  let namespace: string;
  let files: FileServer;
  let insiderIp: string;
  let botIp: string;

  /** A pod that only waits, for `kubectl exec` to dial from. */
  const waitingClient = (name: string) =>
    clientPod(
      name,
      { image: debianImage, command: ['sleep', 'infinity'] },
      { labels: { app: 'client' } },
    );
  const podIp = (name: string) =>
    eventually(
      `pod ${name} running with an address`,
      async () => {
        const pod = await k.get('pod', name);
        return pod?.status?.phase === 'Running' && (pod.status.podIP as string | undefined);
      },
      180_000,
      500,
    );
  /**
   * An HTTP GET from inside `pod`, by bash's /dev/tcp: the response's status line, `refused`
   * when the handshake is rejected (kube-router's answer to what no policy admits), or `timed
   * out` when nothing answers within 3 s (a firewall that drops instead).
   */
  const get = async (pod: string, ip: string, port: number, path: string) => {
    const script =
      `exec 3<>/dev/tcp/${ip}/${port} && ` +
      `printf 'GET ${path} HTTP/1.0\\r\\nHost: ${ip}\\r\\n\\r\\n' >&3 && head -n 1 <&3`;
    try {
      return (await k.kubectl(['exec', pod, '--', 'timeout', '3', 'bash', '-c', script])).trim();
    } catch (err) {
      const message = (err as Error).message;
      if (/Connection refused/.test(message)) return 'refused';
      if (/exit code 124/.test(message)) return 'timed out';
      throw err;
    }
  };
  const botPod = async (): Promise<Json> =>
    (
      JSON.parse(
        await k.kubectl(['get', 'pods', '-l', 'clawbot.dev/chatbot=guarded', '-o', 'json']),
      ) as { items: Json[] }
    ).items.find((p) => !p.metadata.deletionTimestamp)!;

  before(async function () {
    const unsupported = nodeUnsupportedReason();
    if (unsupported) {
      console.log(`      skipped: ${unsupported}`);
      this.skip();
    }
    cluster = await nodeCluster();
    namespace = await cluster.namespace('netpol');
    k = kube(cluster, namespace);
    const tiny = tinyModel();
    files = await serveFiles(cluster.hostIp, { '/tiny.gguf': tiny.bytes });
    await k.apply(waitingClient('insider'));
    await k.apply(waitingClient('outsider'));
    insiderIp = await podIp('insider');
    const outsiderIp = await podIp('outsider');
    expect(outsiderIp).to.not.equal(insiderIp);
    await k.apply({
      apiVersion: 'clawbot.dev/v1alpha1',
      kind: 'ChatBot',
      metadata: { name: 'guarded' },
      spec: {
        model: { source: { url: files.url('/tiny.gguf'), sha256: tiny.sha256 }, format: 'gguf' },
        resources: { cpu: '250m', memory: '1Gi' },
        storage: { size: '1Gi' },
        scaling: { replicas: 1 },
        network: { allowedCIDRs: [`${insiderIp}/32`] },
      },
    });
    await untilCondition(k, 'guarded', 'Ready', (c) => c.status === 'True');
    botIp = (await botPod()).status.podIP as string;
  });

  after(async () => {
    await files?.close();
    await cluster?.kubectl(['delete', 'namespace', namespace, '--wait=false']).catch(() => {});
  });

  it("has the operator's NetworkPolicy: the chat port for the allowed range only", async () => {
    const policy = await k.get('networkpolicy', 'guarded');
    expect(policy!.spec.ingress[0]).to.deep.equal({
      from: [{ ipBlock: { cidr: `${insiderIp}/32` } }],
      ports: [{ port: chatPort, protocol: 'TCP' }],
    });
  });

  it('refuses a client pod outside the allowed range on the chat port', async () => {
    const answer = await eventually(
      'the outsider refused on the chat port',
      async () => {
        const got = await get('outsider', botIp, chatPort, '/');
        return ['refused', 'timed out'].includes(got) && got;
      },
      60_000,
      1000,
    ).catch(async (err: Error) => {
      throw new Error(
        `${err.message}: it got "${await get('outsider', botIp, chatPort, '/')}" from ` +
          `${botIp}:${chatPort}, so nothing on the node enforces the NetworkPolicy. The node's ` +
          `kube-router log ends:\n` +
          (logTail(join(cluster.node.dir, 'kube-router.log')) || '(no log: it never ran here)'),
      );
    });
    console.log(`      the outsider's connection to ${botIp}:${chatPort}: ${answer}`);
  });

  it('admits a client pod inside the allowed range on the chat port', async () => {
    expect(await get('insider', botIp, chatPort, '/')).to.match(/^HTTP\/1\.1 \d{3} /);
  });

  it('leaves the health port open to the outsider, for probes and scrapes', async () => {
    expect(await get('outsider', botIp, healthPort, '/readyz')).to.equal('HTTP/1.1 200 OK');
    expect(await get('outsider', botIp, healthPort, '/metrics')).to.equal('HTTP/1.1 200 OK');
  });

  it("keeps the pod Ready: the kubelet's probes still pass", async () => {
    // The readiness probe gives up after 3 failures 5 s apart; wait longer than that.
    await sleep(20_000);
    const pod = await botPod();
    const ready = (pod.status.conditions as Json[]).find((c) => c.type === 'Ready');
    expect(ready!.status).to.equal('True');
    const runtime = (pod.status.containerStatuses as Json[]).find((c) => c.name === 'runtime')!;
    expect(runtime.restartCount).to.equal(0);
  });
});
