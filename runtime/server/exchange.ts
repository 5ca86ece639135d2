// One chat exchange, whichever API it came through: admission into the engine, cancellation
// when the client goes away, and the bookkeeping once the answer is complete (token metrics,
// the request's log line, the conversation log).
import type { Request, Response } from 'express';
import type { Logger } from '../../common/log.ts';
import type { Generation, GenerationRequest, GenerationResult } from '../engine/types.ts';
import { principalOf } from '../auth/index.ts';
import { type HttpError, toHttpError } from '../http-errors.ts';
import { requestLogger } from '../request-id.ts';
import type { ConversationLog } from './conversation-log.ts';
import { fromEngineError } from './engine-errors.ts';
import type { ServerMetrics } from './metrics.ts';
import type { ModelState } from './model-state.ts';
import { noteGeneration, routeOf } from './request-log.ts';

export interface ChatContext {
  model: ModelState;
  /** The name clients use for the model. */
  modelId: string;
  /** MAX_TOKENS, for request validation. */
  maxTokens: number;
  metrics: ServerMetrics;
  conversationLog: ConversationLog | undefined;
  logger: Logger;
}

/**
 * Queues the generation (throwing the HTTP error when it cannot be admitted) and ties it to the
 * client: when the connection closes before the response ends, the generation is aborted and
 * its batch slot freed.
 */
export async function startExchange(
  context: ChatContext,
  req: Request,
  res: Response,
  request: Omit<GenerationRequest, 'signal'>,
): Promise<Generation> {
  const engine = context.model.engine();
  const keyId = principalOf(res).keyId;
  noteGeneration(res, { keyId });

  const abort = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  let generation: Generation;
  try {
    generation = await engine.generate({ ...request, signal: abort.signal });
  } catch (error) {
    throw fromEngineError(error);
  }

  const route = routeOf(req);
  generation.result.then(
    (result) => {
      const { metrics, conversationLog } = context;
      metrics.promptTokens.inc(result.usage.promptTokens);
      metrics.completionTokens.inc(result.usage.completionTokens);
      metrics.generations.inc({ finish_reason: result.finishReason });
      if (result.usage.completionTokens > 0) {
        metrics.timeToFirstToken.observe(result.timeToFirstTokenMs / 1000);
      }
      noteGeneration(res, {
        usage: result.usage,
        finishReason: result.finishReason,
        timeToFirstTokenMs: result.timeToFirstTokenMs,
      });
      conversationLog?.append({
        time: new Date().toISOString(),
        key_id: keyId,
        model: context.modelId,
        route,
        messages: request.messages,
        answer: result.text,
        usage: {
          prompt_tokens: result.usage.promptTokens,
          completion_tokens: result.usage.completionTokens,
        },
        finish_reason: result.finishReason,
      });
    },
    // A failed generation is answered (and counted) by the route that awaits it.
    () => undefined,
  );
  return generation;
}

/**
 * The HTTP error for a generation that failed after its stream began (the status line is gone,
 * so the error travels as the stream's last event); counted and logged here, as the express
 * error handler never sees it.
 */
export function streamFailure(context: ChatContext, req: Request, error: unknown): HttpError {
  const httpError = toHttpError(fromEngineError(error));
  const route = routeOf(req);
  context.metrics.errors.inc({ route, code: httpError.code ?? 'unknown' });
  requestLogger(req, context.logger).warn('stream ended by an error', { route, error });
  return httpError;
}

/** The finished generation, or the HTTP error it failed with. */
export async function completed(generation: Generation): Promise<GenerationResult> {
  try {
    return await generation.result;
  } catch (error) {
    throw fromEngineError(error);
  }
}
