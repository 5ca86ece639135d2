// Where the server's engine is in its life. The listeners start before the model loads (so the
// startupProbe sees "loading" rather than a refused connection), which means every handler must
// ask here for the engine and answer 503 while there is none. (A model that fails to load ends
// the process: a crash-looping pod with the reason in its log is easier to notice than a pod
// that stays up and never becomes ready.) Once loaded, the engine restarts an inference worker
// it loses by itself; readiness follows the engine's status meanwhile.
import type { Engine, EngineStatus } from '../engine/types.ts';
import { HttpError } from '../http-errors.ts';

export type ModelPhase =
  | { name: 'loading' }
  | { name: 'ready'; engine: Engine }
  | { name: 'stopping'; engine: Engine | undefined };

/** What /readyz reports. */
export interface Readiness {
  ready: boolean;
  status: ModelPhase['name'] | 'restarting';
  reason?: string;
}

// Loading takes seconds to minutes; a client retrying sooner only adds load.
const LOADING_RETRY_SECONDS = 10;
const STOPPING_RETRY_SECONDS = 1;

export class ModelState {
  readonly modelPath: string;
  #phase: ModelPhase = { name: 'loading' };

  constructor(modelPath: string) {
    this.modelPath = modelPath;
  }

  get phase(): ModelPhase {
    return this.#phase;
  }

  ready(engine: Engine): void {
    this.#phase = { name: 'ready', engine };
  }

  /** Shutting down: no new work, while what is running may finish. */
  stopping(): void {
    const engine = this.#phase.name === 'ready' ? this.#phase.engine : undefined;
    this.#phase = { name: 'stopping', engine };
  }

  /** The engine while it is loaded, for gauges; undefined otherwise. */
  loadedEngine(): Engine | undefined {
    const phase = this.#phase;
    return phase.name === 'ready' || phase.name === 'stopping' ? phase.engine : undefined;
  }

  /** The engine to run a request on, or the 503 that tells the client why there is none. */
  engine(): Engine {
    const phase = this.#phase;
    if (phase.name === 'ready') return phase.engine;
    const { reason } = this.readiness();
    const retryAfter = phase.name === 'loading' ? LOADING_RETRY_SECONDS : STOPPING_RETRY_SECONDS;
    throw new HttpError(503, `${reason}; retry in ${retryAfter} s`, {
      code: phase.name === 'loading' ? 'model_loading' : 'unavailable',
      headers: { 'Retry-After': String(retryAfter) },
    });
  }

  readiness(): Readiness {
    const phase = this.#phase;
    switch (phase.name) {
      case 'ready':
        return loadedReadiness(phase.engine.status());
      case 'loading':
        return {
          ready: false,
          status: 'loading',
          reason: `the model is loading from ${this.modelPath}`,
        };
      case 'stopping':
        return { ready: false, status: 'stopping', reason: 'the server is shutting down' };
    }
  }
}

/** A loaded engine may still be without a model for a while: restarting its inference worker. */
function loadedReadiness(status: EngineStatus): Readiness {
  switch (status.state) {
    case 'serving':
      return { ready: true, status: 'ready' };
    case 'restarting':
      return { ready: false, status: 'restarting', reason: status.reason };
    case 'closed':
      return { ready: false, status: 'stopping', reason: 'the engine is closed' };
  }
}
