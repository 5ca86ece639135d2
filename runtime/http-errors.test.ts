import { expect } from 'chai';
import express from 'express';
import { createLogger } from '../common/log.ts';
import { startServer, type RunningServer } from '../test/support/auth-server.ts';
import { HttpError, httpErrorHandler, toHttpError } from './http-errors.ts';

const SECRET = 'cbk_0123456789ab_TOPSECRETtopsecretTOPSECRETtops123456';

describe('runtime HTTP errors', () => {
  let server: RunningServer;
  const logLines: string[] = [];

  before(async () => {
    const app = express();
    app.use(express.json({ limit: '1kb' }));
    app.post('/echo', (req, res) => {
      res.json(req.body);
    });
    app.get('/teapot', () => {
      throw new HttpError(429, 'slow down: retry in 7 s', {
        code: 'rate_limit_exceeded',
        headers: { 'Retry-After': '7' },
      });
    });
    app.get('/broken', (_req, _res, next) => next(new Error('bug: x is not a function')));
    app.use(
      httpErrorHandler(createLogger('test', { level: 'debug', write: (l) => logLines.push(l) })),
    );
    server = await startServer(app);
  });
  after(() => server.close());

  async function post(body: string, headers: Record<string, string> = {}) {
    const res = await fetch(`${server.url}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
    return { status: res.status, text: await res.text(), headers: res.headers };
  }

  it('renders an HttpError in the OpenAI shape, with its headers', async () => {
    const res = await fetch(`${server.url}/teapot`);
    expect(res.status).to.equal(429);
    expect(res.headers.get('retry-after')).to.equal('7');
    expect(await res.json()).to.deep.equal({
      error: {
        message: 'slow down: retry in 7 s',
        type: 'rate_limit_error',
        code: 'rate_limit_exceeded',
        param: null,
      },
    });
  });

  it('answers malformed JSON with 400 invalid_json, quoting none of the body', async () => {
    const res = await post(`{"api_key": "${SECRET}",`);
    expect(res.status).to.equal(400);
    const { error } = JSON.parse(res.text);
    expect(error).to.include({ type: 'invalid_request_error', code: 'invalid_json' });
    expect(error.message).to.match(/not valid JSON/);
    expect(res.text).to.not.include('TOPSECRET');
    expect(logLines.join('\n')).to.not.include('TOPSECRET');
  });

  it('answers an oversized body with 413, naming the limit', async () => {
    const res = await post(JSON.stringify({ api_key: SECRET, pad: 'x'.repeat(2000) }));
    expect(res.status).to.equal(413);
    const { error } = JSON.parse(res.text);
    expect(error.code).to.equal('request_too_large');
    expect(error.message).to.match(/larger than the 1024 bytes/);
    expect(res.text).to.not.include('TOPSECRET');
  });

  it('answers an unsupported charset with 415', async () => {
    const res = await post('{}', { 'content-type': 'application/json; charset=klingon' });
    expect(res.status).to.equal(415);
    expect(JSON.parse(res.text).error.message).to.match(/charset "klingon" is not supported/);
  });

  // A client that stops mid-body is gone before any answer could reach it; only the mapping
  // itself can be checked.
  it('maps an incomplete body and other client errors to a 4xx without their message', () => {
    for (const type of ['request.aborted', 'request.size.invalid']) {
      expect(
        toHttpError(Object.assign(new Error('x'), { status: 400, type })).toBody().error,
      ).to.include({
        code: 'incomplete_body',
      });
    }
    const other = toHttpError(Object.assign(new Error(`quoting ${SECRET}`), { status: 403 }));
    expect(other.status).to.equal(403);
    expect(other.message).to.not.include('TOPSECRET');
  });

  it('hides unexpected errors behind a 500 and logs them for the operator', async () => {
    const res = await fetch(`${server.url}/broken`);
    expect(res.status).to.equal(500);
    const text = await res.text();
    expect(JSON.parse(text).error).to.deep.include({
      type: 'server_error',
      code: 'internal_error',
    });
    expect(text).to.not.include('bug');
    expect(
      logLines.some((l) => l.includes('"level":"error"') && l.includes('x is not a function')),
    ).to.equal(true);
  });
});
