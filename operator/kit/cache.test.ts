import { expect } from 'chai';
import type { KubernetesObject } from '@kubernetes/client-node';
import { ObjectCache, type InformerEvent } from './cache.ts';

function pod(
  namespace: string,
  name: string,
  resourceVersion: string,
  app = 'web',
): KubernetesObject {
  return { metadata: { namespace, name, resourceVersion, labels: { app } } };
}

const summary = (events: InformerEvent<KubernetesObject>[]) =>
  events.map((e) => `${e.type} ${e.object.metadata!.namespace}/${e.object.metadata!.name}`).sort();

describe('ObjectCache', () => {
  it('turns upserts and removes into add, update and delete events', () => {
    const cache = new ObjectCache();
    expect(cache.upsert(pod('a', 'p', '1')).type).to.equal('add');
    const update = cache.upsert(pod('a', 'p', '2'));
    expect(update.type).to.equal('update');
    expect(update.type === 'update' && update.old.metadata!.resourceVersion).to.equal('1');
    expect(cache.get('a/p')!.metadata!.resourceVersion).to.equal('2');
    expect(cache.remove(pod('a', 'p', '3'))?.type).to.equal('delete');
    expect(cache.remove(pod('a', 'p', '3')), 'already gone').to.equal(undefined);
    expect(cache.list()).to.deep.equal([]);
  });

  it('freezes what it stores, so a reader cannot change it for everyone', () => {
    const cache = new ObjectCache();
    cache.upsert(pod('a', 'p', '1'));
    const cached = cache.get('a/p')!;
    expect(() => {
      cached.metadata!.labels!.app = 'changed';
    }).to.throw(TypeError);
  });

  it('keeps indexes current through updates and deletes', () => {
    const cache = new ObjectCache();
    cache.upsert(pod('a', 'p1', '1', 'web'));
    cache.addIndex('app', (o) => [o.metadata?.labels?.app ?? '']);
    cache.upsert(pod('a', 'p2', '1', 'web'));
    cache.upsert(pod('a', 'p3', '1', 'db'));
    const names = (app: string) =>
      cache
        .byIndex('app', app)
        .map((o) => o.metadata!.name)
        .sort();
    expect(names('web')).to.deep.equal(['p1', 'p2']);
    cache.upsert(pod('a', 'p2', '2', 'db'));
    expect(names('web')).to.deep.equal(['p1']);
    expect(names('db')).to.deep.equal(['p2', 'p3']);
    cache.remove(pod('a', 'p3', '2'));
    expect(names('db')).to.deep.equal(['p2']);
    expect(names('none')).to.deep.equal([]);
    expect(() => cache.byIndex('missing', 'x')).to.throw(/addIndex/);
    expect(() => cache.addIndex('app', () => [])).to.throw(/already/);
  });

  it('replace: emits what a watch missed, a resync for the rest, and leaves other scopes alone', () => {
    const cache = new ObjectCache();
    for (const object of [
      pod('a', 'same', '1'),
      pod('a', 'changed', '1'),
      pod('a', 'gone', '1'),
      pod('b', 'other', '1'),
    ]) {
      cache.upsert(object);
    }
    const events = cache.replace(
      [pod('a', 'same', '1'), pod('a', 'changed', '2'), pod('a', 'new', '1')],
      (o) => o.metadata!.namespace === 'a',
    );
    expect(summary(events)).to.deep.equal([
      'add a/new',
      'delete a/gone',
      'resync a/same',
      'update a/changed',
    ]);
    expect(cache.get('b/other'), 'out of scope').to.not.equal(undefined);
    expect(cache.get('a/gone')).to.equal(undefined);
    expect(cache.get('a/changed')!.metadata!.resourceVersion).to.equal('2');
  });
});
