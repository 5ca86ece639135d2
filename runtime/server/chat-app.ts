// The chat API on PORT: /api/auth (the auth layer's router), /api/chat and the OpenAI routes,
// each behind the auth layer's guard, all errors in the one JSON shape of runtime/http-errors.ts.
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import type { Auth } from '../auth/index.ts';
import { HttpError, httpErrorHandler, toHttpError } from '../http-errors.ts';
import { jsonBody } from '../json-body.ts';
import { assignRequestId } from '../request-id.ts';
import { chatRoute } from './chat-route.ts';
import type { ChatContext } from './exchange.ts';
import type { InFlight } from './in-flight.ts';
import { completionsRoute, modelRoutes } from './openai-routes.ts';
import { requestLog, routeOf } from './request-log.ts';

/** Largest chat request body: far more text than any supported context holds. */
export const CHAT_BODY_LIMIT = 1024 * 1024;

// Which methods each path answers, for 405s that name the right one.
const routes: Record<string, string> = {
  '/api/auth': 'POST',
  '/api/chat': 'POST',
  '/v1/chat/completions': 'POST',
  '/v1/models': 'GET',
};

export interface ChatAppOptions {
  context: ChatContext;
  auth: Pick<Auth, 'router' | 'require'>;
  inFlight: InFlight;
}

export function createChatApp({ context, auth, inFlight }: ChatAppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // First, so that every line logged for the request, and every answer, carries the id.
  app.use(assignRequestId);
  app.use(requestLog(context.logger, context.metrics, inFlight));
  app.use(auth.router);

  // Authentication first: an unauthenticated request's body is never parsed.
  const json = jsonBody(CHAT_BODY_LIMIT);
  const chat = auth.require('chat');
  // OpenAI SDKs send the API key itself as the bearer.
  const openAiChat = auth.require('chat', { acceptApiKey: true });
  const openAiModels = auth.require('models', { acceptApiKey: true });
  const models = modelRoutes(context.modelId);

  app.post('/api/chat', chat, json, chatRoute(context));
  app.post('/v1/chat/completions', openAiChat, json, completionsRoute(context));
  app.get('/v1/models', openAiModels, models.list);
  app.get('/v1/models/:model', openAiModels, models.get);

  app.use(noRoute);
  app.use(countErrors(context));
  app.use(httpErrorHandler(context.logger));
  return app;
}

const noRoute: RequestHandler = (req) => {
  const allowed = routes[req.path] ?? (req.path.startsWith('/v1/models/') ? 'GET' : undefined);
  if (allowed !== undefined) {
    throw new HttpError(405, `${req.path} answers ${allowed} requests, not ${req.method}`, {
      code: 'method_not_allowed',
      headers: { Allow: allowed },
    });
  }
  throw new HttpError(
    404,
    `there is no ${req.path} here: the chat API serves ` +
      Object.entries(routes)
        .map(([path, method]) => `${method} ${path}`)
        .join(', '),
    { code: 'not_found' },
  );
};

function countErrors(context: ChatContext): ErrorRequestHandler {
  return (error, req, _res, next) => {
    const { code, status } = toHttpError(error);
    context.metrics.errors.inc({ route: routeOf(req), code: code ?? `http_${status}` });
    next(error);
  };
}
