// One error shape for every HTTP endpoint of the runtime, the one OpenAI's API uses, so OpenAI
// SDKs surface our messages as they are:
//   {"error": {"message": "...", "type": "...", "code": "..." | null, "param": "..." | null}}
// Throw (or pass to next) an HttpError anywhere; httpErrorHandler renders it, and also turns
// the body parser's errors (malformed JSON, oversized body, ...) into the same shape.

import type { ErrorRequestHandler, Response } from 'express';
import type { Logger } from '../common/log.ts';
import { requestLogger } from './request-id.ts';

export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'server_error';

export interface ErrorBody {
  error: { message: string; type: ErrorType; code: string | null; param: string | null };
}

export interface HttpErrorDetails {
  /** Defaults from the status: 401 authentication_error, 403 permission_error, ... */
  type?: ErrorType;
  /** A stable, machine-readable name for this error, e.g. "expired_token". */
  code?: string;
  /** The request field at fault, e.g. "api_key". */
  param?: string;
  /** Response headers that belong to the error, e.g. Retry-After or WWW-Authenticate. */
  headers?: Record<string, string>;
}

/** An error whose message is meant for the client: say what is wrong and what to do next. */
export class HttpError extends Error {
  readonly status: number;
  readonly type: ErrorType;
  readonly code: string | null;
  readonly param: string | null;
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, message: string, details: HttpErrorDetails = {}) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.type = details.type ?? typeForStatus(status);
    this.code = details.code ?? null;
    this.param = details.param ?? null;
    this.headers = details.headers ?? {};
  }

  toBody(): ErrorBody {
    return {
      error: { message: this.message, type: this.type, code: this.code, param: this.param },
    };
  }
}

function typeForStatus(status: number): ErrorType {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  return status >= 500 ? 'server_error' : 'invalid_request_error';
}

/** Writes `error` as the response (status, its headers, and the JSON body). */
export function sendError(res: Response, error: HttpError): void {
  res.status(error.status).set(error.headers).json(error.toBody());
}

/**
 * Any thrown value as an HttpError. Body-parser errors get messages of our own: theirs can quote
 * the request body, which may hold an API key. Anything else becomes a 500 without details.
 */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  const { type, status, limit, length, charset } = (error ?? {}) as Record<string, unknown>;
  switch (type) {
    case 'entity.parse.failed':
      return new HttpError(
        400,
        'the request body is not valid JSON: send a JSON object with Content-Type: application/json',
        { code: 'invalid_json' },
      );
    case 'entity.too.large':
      return new HttpError(
        413,
        `the request body${typeof length === 'number' ? ` (${length} bytes)` : ''} is larger ` +
          `than the ${String(limit)} bytes this endpoint accepts`,
        { code: 'request_too_large' },
      );
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return new HttpError(
        415,
        `the request body's ${type === 'charset.unsupported' ? `charset "${String(charset)}"` : 'encoding'} ` +
          'is not supported: send UTF-8 JSON',
        { code: 'unsupported_media_type' },
      );
    case 'request.aborted':
    case 'request.size.invalid':
      return new HttpError(400, 'the request body ended before its Content-Length was reached', {
        code: 'incomplete_body',
      });
  }
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new HttpError(status, `the request was refused (HTTP ${status})`);
  }
  return new HttpError(500, 'internal error: the details are in the server log', {
    code: 'internal_error',
  });
}

/** Express error middleware rendering every error in the shared shape; mount it last. */
export function httpErrorHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const httpError = toHttpError(error);
    const where = { method: req.method, path: req.path, status: httpError.status };
    const log = requestLogger(req, logger);
    // Client errors are logged by code only: the body parser's messages can quote the body.
    if (httpError.status >= 500) {
      log.error('request failed', {
        ...where,
        error: error instanceof HttpError ? error.message : (error as Error)?.stack,
      });
    } else {
      log.debug('request refused', { ...where, code: httpError.code });
    }
    sendError(res, httpError);
  };
}
