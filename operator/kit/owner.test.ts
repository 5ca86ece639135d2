import { expect } from 'chai';
import type { KubernetesObject, V1OwnerReference } from '@kubernetes/client-node';
import { controllerOwnerKey, controllerReference } from './owner.ts';
import type { ResourceType } from './resource.ts';

const chatBots: ResourceType = {
  group: 'clawbot.dev',
  version: 'v1alpha1',
  plural: 'chatbots',
  kind: 'ChatBot',
  namespaced: true,
};
const bot = {
  apiVersion: 'clawbot.dev/v1alpha1',
  kind: 'ChatBot',
  metadata: { name: 'bot', namespace: 'ns', uid: 'u-1' },
};

function child(ownerReferences?: V1OwnerReference[]): KubernetesObject {
  return { metadata: { name: 'bot-web', namespace: 'ns', ownerReferences } };
}

describe('owner references', () => {
  it('maps a child to its controlling owner of the given kind', () => {
    expect(controllerOwnerKey(child([controllerReference(bot, chatBots)]), chatBots)).to.equal(
      'ns/bot',
    );
  });

  it('builds a controller reference from the owner as read from the API', () => {
    expect(controllerReference(bot, chatBots)).to.deep.equal({
      apiVersion: 'clawbot.dev/v1alpha1',
      kind: 'ChatBot',
      name: 'bot',
      uid: 'u-1',
      controller: true,
      blockOwnerDeletion: true,
    });
    expect(() => controllerReference({ metadata: { name: 'bot' } }, chatBots)).to.throw(/uid/);
  });

  it('ignores owners that are not the controller, or of another kind or group', () => {
    const ref = controllerReference(bot, chatBots);
    expect(controllerOwnerKey(child([{ ...ref, controller: false }]), chatBots)).to.equal(
      undefined,
    );
    expect(controllerOwnerKey(child([{ ...ref, controller: undefined }]), chatBots)).to.equal(
      undefined,
    );
    expect(controllerOwnerKey(child([{ ...ref, kind: 'ApiKey' }]), chatBots)).to.equal(undefined);
    expect(
      controllerOwnerKey(child([{ ...ref, apiVersion: 'other.dev/v1alpha1' }]), chatBots),
    ).to.equal(undefined);
    expect(controllerOwnerKey(child(undefined), chatBots)).to.equal(undefined);
  });

  it('accepts another version of the owner’s group, and picks the controller among several owners', () => {
    const ref = controllerReference(bot, chatBots);
    const other = { apiVersion: 'v1', kind: 'ConfigMap', name: 'cm', uid: 'u-2' };
    expect(
      controllerOwnerKey(child([other, { ...ref, apiVersion: 'clawbot.dev/v1' }]), chatBots),
    ).to.equal('ns/bot');
  });

  it('maps to a cluster-scoped owner by name alone', () => {
    const nodes: ResourceType = {
      group: '',
      version: 'v1',
      plural: 'nodes',
      kind: 'Node',
      namespaced: false,
    };
    const ref = { apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'u', controller: true };
    expect(controllerOwnerKey(child([ref]), nodes)).to.equal('n1');
  });
});
