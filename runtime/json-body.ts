// The JSON body parser both listeners' routes use: express's, refusing bytes that are not UTF-8.
// Its own decoder would turn them into U+FFFD and hand the model (and the conversation log)
// text the client never sent; a 400 that says so is what a client can act on.
import express, { type RequestHandler } from 'express';
import { HttpError } from './http-errors.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function jsonBody(limit: number): RequestHandler {
  return express.json({
    limit,
    verify: (_req, _res, bytes) => {
      try {
        utf8.decode(bytes);
      } catch {
        throw new HttpError(
          400,
          'the request body is not valid UTF-8: send JSON encoded as UTF-8',
          {
            code: 'invalid_encoding',
          },
        );
      }
    },
  });
}
