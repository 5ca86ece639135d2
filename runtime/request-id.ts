// One id per chat API request, on every log line written for it (the auth audit, errors, the
// request line) and in the X-Request-Id response header, so a client's complaint, a proxy's
// access log and the runtime's lines can be matched. A sane X-Request-Id from the client (or a
// proxy in front) is kept; anything else is replaced by a fresh UUID, as a header is
// attacker-controlled text that ends up in the logs.

import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import type { Logger } from '../common/log.ts';

export const REQUEST_ID_HEADER = 'X-Request-Id';

// Visible ASCII, as long as any common id (a UUID is 36 characters, a W3C trace id 32) and
// short enough that no client can bloat every log line.
const SANE_REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

/** The client's request id when it is a sane one. */
export function acceptedRequestId(header: string | undefined): string | undefined {
  return header !== undefined && SANE_REQUEST_ID.test(header) ? header : undefined;
}

const requestIds = new WeakMap<Request, string>();

/** Middleware giving each request its id (the client's, or a new one) and echoing it. */
export const assignRequestId: RequestHandler = (req, res, next) => {
  const id = acceptedRequestId(req.get(REQUEST_ID_HEADER)) ?? randomUUID();
  requestIds.set(req, id);
  res.set(REQUEST_ID_HEADER, id);
  next();
};

/** `logger` with the request's id on every line; `logger` itself where no id was assigned. */
export function requestLogger(req: Request, logger: Logger): Logger {
  const requestId = requestIds.get(req);
  return requestId === undefined ? logger : logger.with({ requestId });
}
