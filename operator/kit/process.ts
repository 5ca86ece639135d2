// The operator's main loop as a process: SIGTERM or SIGINT starts a graceful shutdown (exit 0);
// losing leadership exits 1, so Kubernetes restarts the pod and it campaigns again from a clean
// state. A second signal exits at once.

import type { Logger } from '../../common/log.ts';
import type { Manager } from './manager.ts';

export async function runUntilSignalled(manager: Manager, log: Logger): Promise<never> {
  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (stop.signal.aborted) {
      log.warn('second signal: exiting without waiting', { signal });
      process.exit(1);
    }
    log.info('signal received: shutting down', { signal });
    stop.abort();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    const outcome = await manager.run(stop.signal);
    log.info('stopped', { outcome });
    process.exit(outcome === 'stopped' ? 0 : 1);
  } catch (err) {
    log.error('the operator failed', { error: err });
    process.exit(1);
  }
}
