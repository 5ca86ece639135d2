import { expect } from 'chai';
import { FakeClock } from '../../test/support/fake-clock.ts';
import { metricsRegistry } from './metrics.ts';
import { WorkQueue } from './queue.ts';

let queues = 0;
function newQueue(clock = new FakeClock(), backoff = { baseMs: 5, maxMs: 1000 }) {
  return { queue: new WorkQueue({ name: `unit-${++queues}`, clock, backoff }), clock };
}

/** Keys the queue hands out right now, without waiting. */
async function takeReady(queue: WorkQueue): Promise<string[]> {
  const keys: string[] = [];
  while (queue.len() > 0) keys.push((await queue.get())!);
  return keys;
}

async function metricValue(metric: string, name: string): Promise<number> {
  const values = (await metricsRegistry.getSingleMetric(metric)!.get()).values;
  return values.find((v) => v.labels.name === name && !('le' in v.labels))?.value ?? 0;
}

describe('WorkQueue', () => {
  it('hands out keys in order and does not queue a waiting key twice', async () => {
    const { queue } = newQueue();
    for (const key of ['a', 'b', 'a', 'c', 'b']) queue.add(key);
    expect(queue.len()).to.equal(3);
    expect(await takeReady(queue)).to.deep.equal(['a', 'b', 'c']);
    expect(await metricValue('workqueue_adds_total', queue.name)).to.equal(3);
  });

  it('never hands a key to two workers: a key added while processing returns after done()', async () => {
    const { queue } = newQueue();
    queue.add('a');
    const first = await queue.get();
    queue.add('a');
    queue.add('a');
    expect(queue.len(), 'not ready while a worker holds it').to.equal(0);
    let second: string | undefined;
    void queue.get().then((key) => (second = key));
    await Promise.resolve();
    expect(second).to.equal(undefined);
    queue.done(first!);
    await Promise.resolve();
    expect(second, 'queued once more, after done').to.equal('a');
    queue.done('a');
    expect(queue.len()).to.equal(0);
  });

  it('does not bring back a processed key nobody added again', async () => {
    const { queue } = newQueue();
    queue.add('a');
    queue.done((await queue.get())!);
    expect(queue.len()).to.equal(0);
  });

  it('wakes a waiting worker when a key arrives', async () => {
    const { queue } = newQueue();
    const next = queue.get();
    queue.add('x');
    expect(await next).to.equal('x');
  });

  /** Fails key "a" once more and returns how many ms pass before it is handed out again. */
  async function retryAfter(queue: WorkQueue, clock: FakeClock): Promise<number> {
    queue.addRateLimited('a');
    let waited = 0;
    while (queue.len() === 0) {
      clock.advance(1);
      waited++;
    }
    queue.done((await queue.get())!);
    return waited;
  }

  it('backs off per key, doubling with each retry, and forget() resets it', async () => {
    const { queue, clock } = newQueue();
    const waits = [];
    for (let i = 0; i < 3; i++) waits.push(await retryAfter(queue, clock));
    expect(waits).to.deep.equal([5, 10, 20]);
    expect(queue.retries('a')).to.equal(3);
    queue.forget('a');
    expect(await retryAfter(queue, clock)).to.equal(5);
    expect(await metricValue('workqueue_retries_total', queue.name)).to.equal(4);
  });

  it('caps the backoff', async () => {
    const { queue, clock } = newQueue(new FakeClock(), { baseMs: 5, maxMs: 40 });
    const waits = [];
    for (let i = 0; i < 6; i++) waits.push(await retryAfter(queue, clock));
    expect(waits).to.deep.equal([5, 10, 20, 40, 40, 40]);
  });

  it('addAfter: the earliest requested time wins, and the key arrives once', async () => {
    const { queue, clock } = newQueue();
    queue.addAfter('a', 1000);
    queue.addAfter('a', 100);
    queue.addAfter('a', 500);
    clock.advance(99);
    expect(queue.len()).to.equal(0);
    clock.advance(1);
    expect(await takeReady(queue)).to.deep.equal(['a']);
    clock.advance(2000);
    expect(queue.len(), 'the later requests were dropped').to.equal(0);
    expect(clock.pendingTimers()).to.equal(0);
  });

  it('addAfter with no delay adds at once', async () => {
    const { queue } = newQueue();
    queue.addAfter('a', 0);
    expect(await takeReady(queue)).to.deep.equal(['a']);
  });

  it('shutDown: workers get undefined, adds are ignored, timers are cancelled', async () => {
    const { queue, clock } = newQueue();
    const waiting = queue.get();
    queue.addAfter('later', 50);
    queue.shutDown();
    expect(await waiting).to.equal(undefined);
    queue.add('a');
    expect(await queue.get()).to.equal(undefined);
    expect(clock.pendingTimers()).to.equal(0);
  });

  it('drained() waits for keys still being processed', async () => {
    const { queue } = newQueue();
    queue.add('a');
    const key = (await queue.get())!;
    queue.shutDown();
    let drained = false;
    const done = queue.drained().then(() => (drained = true));
    await Promise.resolve();
    expect(drained).to.equal(false);
    queue.done(key);
    await done;
    expect(drained).to.equal(true);
  });

  it('reports depth, and the time keys wait and are worked on', async () => {
    const { queue, clock } = newQueue();
    queue.add('a');
    queue.add('b');
    expect(await metricValue('workqueue_depth', queue.name)).to.equal(2);
    clock.advance(2000);
    const key = (await queue.get())!;
    clock.advance(3000);
    queue.done(key);
    expect(await metricValue('workqueue_depth', queue.name)).to.equal(1);
    const sum = async (metric: string) =>
      (await metricsRegistry.getSingleMetric(metric)!.get()).values.find(
        (v) =>
          v.labels.name === queue.name &&
          (v as { metricName?: string }).metricName === `${metric}_sum`,
      )?.value;
    expect(await sum('workqueue_queue_duration_seconds')).to.equal(2);
    expect(await sum('workqueue_work_duration_seconds')).to.equal(3);
  });
});
