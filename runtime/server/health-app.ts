// The health port (HEALTH_PORT): probes and scrapes, without authentication and off the
// Service, so neither depends on keys nor is reachable by chat clients.
//   GET /livez    200 while the process runs (and its event loop answers)
//   GET /readyz   200 once the model is loaded; 503 with the reason while loading, while the
//                 engine restarts its inference worker, or while stopping
//   GET /metrics  Prometheus text format
import express from 'express';
import type { Registry } from 'prom-client';
import { HttpError, sendError } from '../http-errors.ts';
import type { ModelState } from './model-state.ts';

export function createHealthApp(model: ModelState, registry: Registry): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/livez', (_req, res) => {
    res.json({ status: 'alive' });
  });
  app.get('/readyz', (_req, res) => {
    const readiness = model.readiness();
    const engine = model.loadedEngine();
    const loaded = engine && {
      model: engine.info.id,
      executionProvider: engine.info.executionProvider,
    };
    res.status(readiness.ready ? 200 : 503).json({ ...readiness, ...loaded });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });
  app.use((req, res) => {
    sendError(
      res,
      new HttpError(404, `there is no ${req.path} here: use /livez, /readyz or /metrics`, {
        code: 'not_found',
      }),
    );
  });
  return app;
}
