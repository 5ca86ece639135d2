// Integration: the kit's transport against the real API server.

import { readdir, readlink } from 'node:fs/promises';
import { CoreV1Api } from '@kubernetes/client-node';
import { expect } from 'chai';
import { testCluster, type TestCluster } from '../../test/cluster.ts';
import { KubeClient } from './rest.ts';

/** Socket descriptors this process holds open (Linux /proc). */
async function openSockets(): Promise<number> {
  const fds = await readdir('/proc/self/fd');
  const targets = await Promise.all(
    fds.map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')),
  );
  return targets.filter((target) => target.startsWith('socket:')).length;
}

describe('KubeClient (real API server)', () => {
  let cluster: TestCluster;

  before(async () => {
    cluster = await testCluster();
  });

  it('sends every request, raw or through a typed API, over one pooled connection', async () => {
    const kube = new KubeClient(cluster.kc);
    const core = kube.api(CoreV1Api);
    await kube.request({ method: 'GET', path: '/api/v1/namespaces/default' });
    const before = await openSockets();
    // Sequential requests: a pool needs one connection for all of them; a client that opens a
    // connection per request (client-node's own behavior) would hold 30 more.
    for (let i = 0; i < 15; i++) {
      await kube.request({ method: 'GET', path: '/api/v1/namespaces/default' });
      await core.readNamespace({ name: 'default' });
    }
    expect((await openSockets()) - before).to.be.at.most(1);
  });
});
