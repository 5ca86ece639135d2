// The guide's autoscaling (2–10 replicas at 70 % CPU) as the cluster carries it out: the
// HorizontalPodAutoscaler the operator writes reads the runtime pods' CPU from metrics-server,
// which scrapes the real kubelet.

import { expect } from 'chai';
import { eventually } from '../../tools/eventually.ts';
import { kube } from '../kube.ts';
import {
  nodeCluster,
  serveFiles,
  tinyModel,
  type FileServer,
  type NodeCluster,
} from './node-cluster.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('node: autoscaling reads CPU from metrics-server', function () {
  this.timeout(900_000);
  let cluster: NodeCluster;
  let k: ReturnType<typeof kube>;
  let namespace: string;
  let files: FileServer;

  before(async () => {
    cluster = await nodeCluster();
    namespace = await cluster.namespace('scaling');
    k = kube(cluster, namespace);
    const tiny = tinyModel();
    files = await serveFiles(cluster.hostIp, { '/tiny.gguf': tiny.bytes });
    await k.apply({
      apiVersion: 'clawbot.dev/v1alpha1',
      kind: 'ChatBot',
      metadata: { name: 'scaled' },
      spec: {
        model: {
          source: {
            url: files.url('/tiny.gguf'),
            sha256: tiny.sha256,
          },
          format: 'gguf',
        },
        resources: { cpu: '100m', memory: '512Mi' },
        storage: { size: '1Gi' },
        scaling: {
          autoscaling: { minReplicas: 1, maxReplicas: 2, targetCPUUtilizationPercentage: 70 },
        },
      },
    });
  });

  after(async () => {
    await files?.close();
    await cluster?.kubectl(['delete', 'namespace', namespace, '--wait=false']).catch(() => {});
  });

  it("gets the runtime pods' CPU utilisation from the resource metrics API", async () => {
    const hpa = await eventually(
      'the autoscaler reading CPU',
      async () => {
        const live = await k.get('hpa', 'scaled');
        const active = (live?.status?.conditions as Json[] | undefined)?.find(
          (c) => c.type === 'ScalingActive',
        );
        return active?.status === 'True' && live;
      },
      600_000,
      2000,
    );
    expect(hpa.spec.scaleTargetRef).to.deep.include({ kind: 'Deployment', name: 'scaled' });
    expect(hpa.spec.minReplicas).to.equal(1);
    expect(hpa.spec.maxReplicas).to.equal(2);
    const cpu = (hpa.status.currentMetrics as Json[]).find((m) => m.resource?.name === 'cpu')!;
    expect(cpu.resource.current.averageUtilization).to.be.a('number');
    const active = (hpa.status.conditions as Json[]).find((c) => c.type === 'ScalingActive')!;
    expect(active.reason).to.equal('ValidMetricFound');
    // The same numbers a user sees with `kubectl top`.
    const top = await k.kubectl(['top', 'pod', '-l', 'clawbot.dev/chatbot=scaled', '--no-headers']);
    expect(top).to.match(/^scaled-\S+\s+\d+m\s+\d+Mi/);
  });
});
