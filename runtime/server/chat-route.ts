// POST /api/chat, the deployment guide's API.
//
// Answer: {"message": {"role": "assistant", "content": "..."},
//          "usage": {"prompt_tokens": n, "completion_tokens": n}, "finish_reason": "stop"|"length"}
//
// With "stream": true the answer is server-sent events, each with a name and one JSON object:
//   event: delta   data: {"content": "..."}          text as it is generated (may repeat)
//   event: done    data: <the answer above>          the last event of a successful stream
//   event: error   data: {"error": {...}}            the last event of a failed stream
// plus ": keep-alive" comments while a request waits. Concatenating the deltas gives the done
// event's message.content.
import type { Request, Response } from 'express';
import type { GenerationResult } from '../engine/types.ts';
import { parseChatRequest } from './chat-request.ts';
import { requestLogger } from '../request-id.ts';
import { EventStream } from './event-stream.ts';
import { type ChatContext, completed, startExchange, streamFailure } from './exchange.ts';

export function chatAnswer(result: GenerationResult) {
  return {
    message: { role: 'assistant', content: result.text },
    usage: {
      prompt_tokens: result.usage.promptTokens,
      completion_tokens: result.usage.completionTokens,
    },
    finish_reason: result.finishReason,
  };
}

export function chatRoute(context: ChatContext) {
  return async (req: Request, res: Response): Promise<void> => {
    const call = parseChatRequest(req.body, { maxTokens: context.maxTokens });
    const generation = await startExchange(context, req, res, call.generation);

    if (!call.stream) {
      res.json(chatAnswer(await completed(generation)));
      return;
    }

    const events = new EventStream(res, { logger: requestLogger(req, context.logger) });
    try {
      for await (const delta of generation.deltas) {
        events.send(JSON.stringify({ content: delta.text }), 'delta');
      }
      events.send(JSON.stringify(chatAnswer(await generation.result)), 'done');
    } catch (error) {
      events.send(JSON.stringify(streamFailure(context, req, error).toBody()), 'error');
    }
    events.end();
  };
}
