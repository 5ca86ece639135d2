import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { setImmediate as yieldToIo } from 'node:timers/promises';
import { expect } from 'chai';
import express from 'express';
import { createLogger } from '../../common/log.ts';
import { EventStream } from './event-stream.ts';

// Real sockets: a route that writes events as fast as it can (as a batch of decoding streams
// does), and clients that read them or do not.
describe('event streams and clients that stop reading', function () {
  this.timeout(30_000);
  const stallMs = 300;
  const event = JSON.stringify({ content: 'x'.repeat(16 * 1024) });
  const logs: Record<string, unknown>[] = [];
  let server: Server;
  let port: number;
  /** Told when a response closes: the bytes it wrote, and those it still held. */
  let onClose: (outcome: { writtenBytes: number; bufferedBytes: number }) => void = () => {};

  before(async () => {
    const logger = createLogger('test', { write: (line) => logs.push(JSON.parse(line)) });
    const app = express();
    app.get('/events', (_req, res) => {
      const events = new EventStream(res, { logger, stallMs });
      let writtenBytes = 0;
      const total = Number(_req.query.bytes);
      res.once('close', () => onClose({ writtenBytes, bufferedBytes: res.writableLength }));
      void (async () => {
        while (!res.destroyed && writtenBytes < total) {
          events.send(event, 'delta');
          writtenBytes += event.length;
          await yieldToIo();
        }
        events.end();
      })();
    });
    server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => server.close());

  it(`closes the stream of a client that stops reading, ${stallMs} ms after its socket refused data`, async () => {
    const closed = new Promise<{ writtenBytes: number; bufferedBytes: number }>(
      (resolve) => (onClose = resolve),
    );
    const socket = connect(port, '127.0.0.1');
    socket.pause();
    socket.write(`GET /events?bytes=${1 << 30} HTTP/1.1\r\nHost: x\r\n\r\n`);
    const { writtenBytes, bufferedBytes } = await closed;
    socket.destroy();
    // It stopped far short of the gigabyte asked for, holding no more than the socket refused
    // in the last stall period.
    expect(writtenBytes).to.be.below(256 * 2 ** 20);
    expect(bufferedBytes).to.be.below(64 * 2 ** 20);
    expect(logs.some((l) => l.msg === 'the client stopped reading: closing its stream')).to.equal(
      true,
    );
  });

  it('streams to a client that keeps reading, however long the answer', async () => {
    logs.length = 0;
    const bytes = 32 * 2 ** 20;
    const response = await fetch(`http://127.0.0.1:${port}/events?bytes=${bytes}`);
    let received = 0;
    for await (const chunk of response.body!) received += (chunk as Uint8Array).length;
    expect(received).to.be.above(bytes);
    expect(logs).to.deep.equal([]);
  });
});
