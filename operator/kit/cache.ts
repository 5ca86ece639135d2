// The informer's store: objects by key, secondary indexes, and the diff of a fresh list against
// what the store holds (how a relist turns into the add/update/delete events the watch missed).
// Objects are frozen on the way in: they are shared with every reader, and a reconciler that
// mutated one would silently corrupt everybody's view.

import type { KubernetesObject } from '@kubernetes/client-node';
import { objectKey } from './object-key.ts';

export type InformerEvent<T> =
  | { type: 'add'; object: T }
  | { type: 'update'; object: T; old: T }
  | { type: 'delete'; object: T }
  /** A relist found the object unchanged: controllers reconcile it again, to repair drift. */
  | { type: 'resync'; object: T };

/** The index values of an object (e.g. its owner's key, a label's value); [] for none. */
export type IndexFunction<T> = (object: T) => string[];

interface Index<T> {
  valuesOf: IndexFunction<T>;
  keysByValue: Map<string, Set<string>>;
}

export class ObjectCache<T extends KubernetesObject> {
  private readonly objects = new Map<string, T>();
  private readonly indexes = new Map<string, Index<T>>();

  get(key: string): T | undefined {
    return this.objects.get(key);
  }

  list(): T[] {
    return [...this.objects.values()];
  }

  /** Adds an index (computed over the objects already cached as well). */
  addIndex(name: string, valuesOf: IndexFunction<T>): void {
    if (this.indexes.has(name)) throw new Error(`the cache already has an index named "${name}"`);
    const index: Index<T> = { valuesOf, keysByValue: new Map() };
    this.indexes.set(name, index);
    for (const [key, object] of this.objects) addToIndex(index, key, object);
  }

  /** The objects whose index `name` includes value. */
  byIndex(name: string, value: string): T[] {
    const index = this.indexes.get(name);
    if (!index) throw new Error(`the cache has no index named "${name}": add it with addIndex`);
    return [...(index.keysByValue.get(value) ?? [])].map((key) => this.objects.get(key)!);
  }

  /** Stores an object from a watch event or a list; returns the event it amounts to. */
  upsert(object: T): InformerEvent<T> {
    const frozen = deepFreeze(object);
    const key = objectKey(frozen);
    const old = this.objects.get(key);
    this.objects.set(key, frozen);
    for (const index of this.indexes.values()) {
      if (old) removeFromIndex(index, key, old);
      addToIndex(index, key, frozen);
    }
    return old ? { type: 'update', object: frozen, old } : { type: 'add', object: frozen };
  }

  /** Removes an object; the event carries its last known state, or undefined if it was not here. */
  remove(object: T): InformerEvent<T> | undefined {
    const key = objectKey(object);
    const old = this.objects.get(key);
    if (!old) return undefined;
    this.objects.delete(key);
    for (const index of this.indexes.values()) removeFromIndex(index, key, old);
    return { type: 'delete', object: deepFreeze(object) };
  }

  /**
   * Makes the cached objects in scope exactly `listed`, and returns what changed: adds, updates
   * (resourceVersion differs), deletes (cached but not listed), and a resync for each unchanged
   * object. Objects out of scope (another namespace's list) are left alone.
   */
  replace(listed: T[], inScope: (object: T) => boolean): InformerEvent<T>[] {
    const events: InformerEvent<T>[] = [];
    const seen = new Set<string>();
    for (const object of listed) {
      const key = objectKey(object);
      seen.add(key);
      const cached = this.objects.get(key);
      if (cached && cached.metadata?.resourceVersion === object.metadata?.resourceVersion) {
        events.push({ type: 'resync', object: cached });
      } else {
        events.push(this.upsert(object));
      }
    }
    for (const [key, cached] of [...this.objects]) {
      if (!seen.has(key) && inScope(cached)) events.push(this.remove(cached)!);
    }
    return events;
  }
}

function addToIndex<T>(index: Index<T>, key: string, object: T): void {
  for (const value of index.valuesOf(object)) {
    let keys = index.keysByValue.get(value);
    if (!keys) index.keysByValue.set(value, (keys = new Set()));
    keys.add(key);
  }
}

function removeFromIndex<T>(index: Index<T>, key: string, object: T): void {
  for (const value of index.valuesOf(object)) {
    const keys = index.keysByValue.get(value);
    keys?.delete(key);
    if (keys?.size === 0) index.keysByValue.delete(value);
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  for (const child of Object.values(value)) deepFreeze(child);
  return Object.freeze(value);
}
