import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { fetchSource } from './fetch-source.ts';

describe('fetchSource', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'clawbot-fetch-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  // Seen on the first real node: a model served by an HTTP/1.0-style server (Python's
  // http.server) crashed the init container with an uncatchable assertion inside Node's fetch.
  // The server sends the whole body and closes the connection while the download still waits
  // on backpressure.
  it('downloads from a server that closes the connection after the body', async () => {
    let body = Buffer.alloc(0);
    const server: Server = createServer((socket) => {
      socket.once('data', () => {
        socket.write(
          `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
        );
        socket.end(body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/model.gguf`;
    try {
      // Sizes around the stream buffers' limits: each crashed Node 24's fetch about half the time.
      for (const size of [64 * 1024, 200_000, 1_000_000, 4_000_000, 64 * 1024, 1_000_000]) {
        body = Buffer.alloc(size, size % 251);
        const file = join(dir, `download-${size}`);
        const fetched = await fetchSource(url, file, () => {});
        expect(fetched.bytes).to.equal(size);
        expect(fetched.sha256).to.equal(createHash('sha256').update(body).digest('hex'));
        expect((await readFile(file)).equals(body)).to.equal(true);
      }
    } finally {
      server.close();
    }
  });
});
