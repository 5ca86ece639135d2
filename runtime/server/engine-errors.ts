// The engine's errors as HTTP answers, per the contract in runtime/engine/types.ts.
import { EngineError } from '../engine/types.ts';
import { HttpError } from '../http-errors.ts';

/** Engine errors become their HTTP answer; anything else is passed through unchanged. */
export function fromEngineError(error: unknown): unknown {
  if (!(error instanceof EngineError)) return error;
  const retryAfter: Record<string, string> =
    error.retryAfterSeconds === undefined ? {} : { 'Retry-After': String(error.retryAfterSeconds) };
  switch (error.code) {
    case 'context_length_exceeded':
    case 'invalid_request':
      // Both are about the conversation the client sent; the engine's message says how to fix it.
      return new HttpError(400, error.message, { code: error.code, param: 'messages' });
    case 'queue_full':
      return new HttpError(429, error.message, { code: error.code, headers: retryAfter });
    case 'unavailable':
    case 'out_of_memory':
      return new HttpError(503, error.message, { code: error.code, headers: retryAfter });
    case 'internal':
      // The message can name files and internals; it goes to the server log instead.
      return new HttpError(
        500,
        'the inference engine failed; retry, and if it keeps failing, the server log says why',
        { code: 'engine_error' },
      );
  }
}
