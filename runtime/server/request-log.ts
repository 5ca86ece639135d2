// One structured log line and one latency observation per request, written when the response
// ends or the client goes away. The line carries what an operator needs to follow traffic —
// never message contents, keys or tokens.
import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from '../../common/log.ts';
import type { FinishReason, Usage } from '../engine/types.ts';
import { requestLogger } from '../request-id.ts';
import type { InFlight } from './in-flight.ts';
import type { ServerMetrics } from './metrics.ts';

/** What a chat route learnt about its generation, for the request's log line. */
export interface GenerationNote {
  keyId?: string;
  usage?: Usage;
  finishReason?: FinishReason;
  timeToFirstTokenMs?: number;
}

const notes = new WeakMap<Response, GenerationNote>();

export function noteGeneration(res: Response, note: GenerationNote): void {
  notes.set(res, { ...notes.get(res), ...note });
}

/** The route pattern (not the URL), so metrics stay a fixed set of series. */
export function routeOf(req: Request): string {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  return typeof path === 'string' ? req.baseUrl + path : 'unmatched';
}

// nginx's convention for "the client closed the connection before the response".
const CLIENT_CLOSED = 499;

export function requestLog(
  logger: Logger,
  metrics: ServerMetrics,
  inFlight: InFlight,
): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    const leave = inFlight.enter();
    // A response emits 'close' once: after it finished, or when the connection went first.
    res.once('close', () => {
      leave();
      const clientClosed = !res.writableFinished;
      const status = clientClosed && !res.headersSent ? CLIENT_CLOSED : res.statusCode;
      const route = routeOf(req);
      const seconds = (performance.now() - started) / 1000;
      metrics.requestDuration.observe({ method: req.method, route, status }, seconds);
      const note = notes.get(res);
      const level = status >= 500 ? 'warn' : 'info';
      requestLogger(req, logger)[level]('request', {
        method: req.method,
        route,
        status,
        latencyMs: Math.round(seconds * 1e6) / 1e3,
        ...(clientClosed && { clientClosed }),
        ...(note?.keyId !== undefined && { keyId: note.keyId }),
        ...(note?.usage && {
          promptTokens: note.usage.promptTokens,
          completionTokens: note.usage.completionTokens,
        }),
        ...(note?.finishReason && { finishReason: note.finishReason }),
        ...(note?.timeToFirstTokenMs !== undefined && {
          timeToFirstTokenMs: Math.round(note.timeToFirstTokenMs * 1e3) / 1e3,
        }),
      });
    });
    next();
  };
}
