import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { expect } from 'chai';
import { resolvedChatBot, productionSpec } from '../../test/support/chatbots.ts';
import { observe, type ObservedCondition } from './observe.ts';

const cb = resolvedChatBot(productionSpec);

function deployment(status: V1Deployment['status'], replicas = 2): V1Deployment {
  return {
    metadata: { generation: 1 },
    spec: { replicas, selector: {}, template: {} },
    status: { observedGeneration: 1, ...status },
  };
}

function pod(name: string, status: V1Pod['status']): V1Pod {
  return { metadata: { name }, status };
}

const condition = (conditions: ObservedCondition[], type: string) =>
  conditions.find((c) => c.type === type)!;

describe('observing a ChatBot', () => {
  it('is Ready and done rolling out when the replicas are ready', () => {
    const o = observe(cb, {
      deployment: deployment({
        replicas: 2,
        readyReplicas: 2,
        updatedReplicas: 2,
        availableReplicas: 2,
      }),
      pods: [],
      claim: { spec: { accessModes: ['ReadWriteMany'] }, status: { phase: 'Bound' } },
    });
    expect(condition(o.conditions, 'Ready')).to.include({ status: 'True', reason: 'Serving' });
    expect(condition(o.conditions, 'Progressing')).to.include({
      status: 'False',
      reason: 'RolloutComplete',
    });
    expect(condition(o.conditions, 'Degraded')).to.include({ status: 'False' });
    expect(condition(o.conditions, 'ModelReady')).to.include({ status: 'True' });
    expect(o.readyReplicas).to.equal(2);
  });

  it('says when no node has a free GPU', () => {
    const pending = pod('bot-1', {
      phase: 'Pending',
      conditions: [
        {
          type: 'PodScheduled',
          status: 'False',
          reason: 'Unschedulable',
          message: '0/3 nodes are available: 3 Insufficient nvidia.com/gpu.',
        },
      ],
    });
    const o = observe(cb, {
      deployment: deployment({ replicas: 2, updatedReplicas: 2 }),
      pods: [pending],
    });
    expect(condition(o.conditions, 'Ready')).to.include({
      status: 'False',
      reason: 'InsufficientGPU',
    });
    expect(condition(o.conditions, 'Degraded').message).to.match(
      /Insufficient nvidia.com\/gpu.*lower resources.gpu/,
    );
  });

  it('says when the runtime ran out of memory, even while another replica serves', () => {
    const oom = pod('bot-2', {
      containerStatuses: [
        {
          name: 'runtime',
          image: 'i',
          imageID: '',
          ready: false,
          restartCount: 3,
          state: { waiting: { reason: 'CrashLoopBackOff' } },
          lastState: { terminated: { exitCode: 137, reason: 'OOMKilled' } },
        },
      ],
    });
    const o = observe(cb, {
      deployment: deployment({ replicas: 2, readyReplicas: 1, updatedReplicas: 2 }),
      pods: [oom],
    });
    expect(condition(o.conditions, 'Ready')).to.include({ status: 'True' });
    expect(condition(o.conditions, 'Degraded')).to.include({ status: 'True', reason: 'OOMKilled' });
    expect(condition(o.conditions, 'Degraded').message).to.match(/Raise resources.memory/);
  });

  it("reports a failed model load with the loader's own message", () => {
    const failed = pod('bot-3', {
      initContainerStatuses: [
        {
          name: 'model-loader',
          image: 'i',
          imageID: '',
          ready: false,
          restartCount: 1,
          state: { waiting: { reason: 'CrashLoopBackOff' } },
          lastState: {
            terminated: { exitCode: 1, message: 'sha256 mismatch: expected abab…, got 1234…' },
          },
        },
      ],
    });
    const o = observe(cb, {
      deployment: deployment({ replicas: 2, updatedReplicas: 2 }),
      pods: [failed],
    });
    expect(condition(o.conditions, 'ModelReady')).to.include({
      status: 'False',
      reason: 'ModelLoadFailed',
    });
    expect(condition(o.conditions, 'ModelReady').message).to.contain('sha256 mismatch');
  });

  it('forgets a failed model load once a retry has loaded the model', () => {
    // Seen on the real node: the loader crashed once, its restart loaded the model, and the
    // earlier exit stayed in lastState while the pod served.
    const recovered = pod('bot-5', {
      initContainerStatuses: [
        {
          name: 'model-loader',
          image: 'i',
          imageID: '',
          ready: true,
          restartCount: 1,
          state: { terminated: { exitCode: 0, reason: 'Completed' } },
          lastState: { terminated: { exitCode: 1, message: 'AssertionError …' } },
        },
      ],
    });
    const o = observe(cb, {
      deployment: deployment({ replicas: 1, readyReplicas: 1, updatedReplicas: 1 }, 1),
      pods: [recovered],
      claim: { spec: { accessModes: ['ReadWriteMany'] }, status: { phase: 'Bound' } },
    });
    expect(condition(o.conditions, 'Degraded')).to.include({ status: 'False' });
    expect(condition(o.conditions, 'ModelReady')).to.include({ status: 'True' });
  });

  it('reports bad images and a rollout in progress', () => {
    const pulling = pod('bot-4', {
      containerStatuses: [
        {
          name: 'runtime',
          image: 'i',
          imageID: '',
          ready: false,
          restartCount: 0,
          state: { waiting: { reason: 'ImagePullBackOff', message: 'not found' } },
        },
      ],
    });
    const o = observe(cb, {
      deployment: deployment({ replicas: 3, readyReplicas: 2, updatedReplicas: 1 }),
      pods: [pulling],
    });
    expect(condition(o.conditions, 'Progressing')).to.include({
      status: 'True',
      reason: 'RollingOut',
    });
    expect(condition(o.conditions, 'Degraded')).to.include({ reason: 'ImagePullBackOff' });
  });

  it('flags a one-node claim under a spec that wants several replicas', () => {
    const o = observe(cb, {
      deployment: deployment({ replicas: 2, readyReplicas: 2, updatedReplicas: 2 }),
      pods: [],
      claim: { spec: { accessModes: ['ReadWriteOnce'] }, status: { phase: 'Bound' } },
    });
    expect(condition(o.conditions, 'Degraded')).to.include({
      status: 'True',
      reason: 'StorageAccessMode',
    });
  });
});
