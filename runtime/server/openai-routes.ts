// OpenAI-compatible routes: POST /v1/chat/completions (streaming or not), GET /v1/models and
// GET /v1/models/{id}, so OpenAI SDKs and tools work against the runtime unchanged.
import type { Request, Response } from 'express';
import { HttpError } from '../http-errors.ts';
import { requestLogger } from '../request-id.ts';
import { EventStream } from './event-stream.ts';
import { type ChatContext, completed, startExchange, streamFailure } from './exchange.ts';
import { parseCompletionRequest } from './openai-request.ts';
import { chunk, completion, completionMeta, modelObject, usageChunk } from './openai-response.ts';

export function completionsRoute(context: ChatContext) {
  return async (req: Request, res: Response): Promise<void> => {
    const call = parseCompletionRequest(req.body, {
      maxTokens: context.maxTokens,
      modelId: context.modelId,
    });
    const generation = await startExchange(context, req, res, call.generation);
    const meta = completionMeta(context.modelId);

    if (!call.stream) {
      res.json(completion(meta, await completed(generation)));
      return;
    }

    const events = new EventStream(res, { logger: requestLogger(req, context.logger) });
    const send = (data: object) => events.send(JSON.stringify(data));
    try {
      send(chunk(meta, { role: 'assistant', content: '' }, null, call.includeUsage));
      for await (const delta of generation.deltas) {
        send(chunk(meta, { content: delta.text }, null, call.includeUsage));
      }
      const result = await generation.result;
      send(chunk(meta, {}, result.finishReason, call.includeUsage));
      if (call.includeUsage) send(usageChunk(meta, result.usage));
      events.send('[DONE]');
    } catch (error) {
      // OpenAI's SDKs raise an APIError for a data line holding {"error": ...}.
      send(streamFailure(context, req, error).toBody());
    }
    events.end();
  };
}

/** The one model this runtime serves; listed while it loads too, as its name is known. */
export function modelRoutes(modelId: string, startedAt = Date.now()) {
  const model = modelObject(modelId, Math.floor(startedAt / 1000));
  return {
    list: (_req: Request, res: Response) => {
      res.json({ object: 'list', data: [model] });
    },
    get: (req: Request, res: Response) => {
      if (req.params.model !== modelId) {
        throw new HttpError(
          404,
          `the model "${String(req.params.model)}" does not exist: this server serves "${modelId}"`,
          { code: 'model_not_found', param: 'model' },
        );
      }
      res.json(model);
    },
  };
}
