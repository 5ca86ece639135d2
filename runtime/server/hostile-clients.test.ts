// Slow and hostile HTTP clients against the real runtime server (real sockets, the tiny model):
// each gets the bounded outcome runtime/README.md promises ("Limits on clients"), the server's
// memory stays within a stated bound, and an ordinary chat is served while they are at it.
import { connect, type Socket } from 'node:net';
import { expect } from 'chai';
import { eventually } from '../../tools/eventually.ts';
import {
  getToken,
  postChat,
  startTestRuntime,
  type TestModel,
  type TestRuntime,
  writeTestModel,
} from '../../test/support/runtime-server.ts';
import { metricSum } from '../../test/support/prometheus.ts';
import { HEADERS_TIMEOUT_MS, REQUEST_TIMEOUT_MS } from './http-limits.ts';

/** A raw connection to the chat port, and everything the server sends back on it. */
interface RawClient {
  socket: Socket;
  received(): string;
  /** Resolves once the server has closed the connection (or it failed), with what it sent. */
  closed: Promise<string>;
}

function rawClient(port: number, options: { read?: boolean } = {}): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    if (options.read === false) socket.pause();
    else socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    const received = () => Buffer.concat(chunks).toString('latin1');
    const closed = new Promise<string>((done) => socket.once('close', () => done(received())));
    socket.once('connect', () => resolve({ socket, received, closed }));
    socket.once('error', (error) => {
      if (!socket.connecting) return;
      reject(error);
    });
  });
}

const statusOf = (response: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0);

/** Resident memory of this process (server and test share it), in MiB. */
const rssMiB = () => process.memoryUsage().rss / 2 ** 20;

describe('slow and hostile clients', function () {
  this.timeout(120_000);
  let model: TestModel;
  let runtime: TestRuntime;
  let token: string;
  let port: number;

  /** An ordinary chat, as a well-behaved client sends it. */
  const ordinaryChat = async () => {
    const response = await postChat(runtime, token, {
      messages: [{ role: 'user', content: 'hello' }],
      max_tokens: 4,
    });
    return response.status;
  };

  before(async () => {
    model = await writeTestModel();
    runtime = await startTestRuntime(model.dir, { env: { MAX_CONNECTIONS: '3000' } });
    port = runtime.server.chatPort;
    token = await getToken(runtime.chatUrl);
  });
  after(async () => {
    await runtime?.stop();
    await model?.remove();
  });

  it(`closes a connection whose headers trickle in for longer than ${HEADERS_TIMEOUT_MS / 1000} s, serving others meanwhile`, async () => {
    const client = await rawClient(port);
    const request = `POST /api/chat HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n`;
    const started = performance.now();
    let sent = 0;
    const trickle = setInterval(() => {
      if (sent < request.length && !client.socket.destroyed) client.socket.write(request[sent++]!);
    }, 250);
    try {
      expect(await ordinaryChat()).to.equal(200);
      const response = await client.closed;
      const seconds = (performance.now() - started) / 1000;
      expect(statusOf(response)).to.equal(408);
      expect(seconds).to.be.within(HEADERS_TIMEOUT_MS / 1000, HEADERS_TIMEOUT_MS / 1000 + 3);
    } finally {
      clearInterval(trickle);
    }
  });

  it(`answers 408 to a body that never finishes, ${REQUEST_TIMEOUT_MS / 1000} s after the request began`, async () => {
    const client = await rawClient(port);
    const started = performance.now();
    client.socket.write(
      'POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
        `Authorization: Bearer ${token}\r\nContent-Length: 1000\r\n\r\n{"messages": [`,
    );
    expect(await ordinaryChat()).to.equal(200);
    const response = await client.closed;
    const seconds = (performance.now() - started) / 1000;
    expect(statusOf(response)).to.equal(408);
    expect(seconds).to.be.within(REQUEST_TIMEOUT_MS / 1000, REQUEST_TIMEOUT_MS / 1000 + 3);
  });

  it('holds 2000 idle connections in bounded memory, closes them after the header timeout, and keeps serving', async () => {
    const before = rssMiB();
    // In batches: 2000 connects at once overflow the listen backlog (511), and the kernel's SYN
    // retries would then stretch the test by minutes on a busy machine.
    const clients: RawClient[] = [];
    for (let batch = 0; batch < 10; batch++) {
      clients.push(...(await Promise.all(Array.from({ length: 200 }, () => rawClient(port)))));
    }
    const grown = rssMiB() - before;
    expect(await ordinaryChat()).to.equal(200);
    // Measured about 20 MiB (kernel socket buffers are not in RSS); the bound leaves room for noise.
    expect(grown, `RSS grew ${grown.toFixed(1)} MiB`).to.be.below(100);
    const responses = await Promise.all(clients.map((c) => c.closed));
    expect(new Set(responses.map(statusOf))).to.deep.equal(new Set([408]));
  });

  it('answers 431 to a header block of 1 MB without reading it into memory', async () => {
    const client = await rawClient(port);
    const before = rssMiB();
    client.socket.write(
      `GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Padding: ${'a'.repeat(1 << 20)}\r\n\r\n`,
    );
    const response = await client.closed;
    expect(statusOf(response)).to.equal(431);
    expect(rssMiB() - before).to.be.below(50);
    expect(await ordinaryChat()).to.equal(200);
  });

  const postRaw = (body: Buffer | string) =>
    fetch(`${runtime.chatUrl}/api/chat`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body,
    });

  it('refuses invalid UTF-8 in a JSON string with a 400 that names the encoding', async () => {
    const body = Buffer.concat([
      Buffer.from('{"messages": [{"role": "user", "content": "'),
      Buffer.from([0xc3, 0x28, 0xff]),
      Buffer.from('"}]}'),
    ]);
    const response = await postRaw(body);
    expect(response.status).to.equal(400);
    const { error } = (await response.json()) as { error: { code: string; message: string } };
    expect(error.code).to.equal('invalid_encoding');
    expect(error.message).to.match(/not valid UTF-8/);
  });

  it('refuses deeply nested JSON with a 400 naming the field, without a crash', async () => {
    const depth = 200_000;
    const response = await postRaw(`{"messages": ${'['.repeat(depth)}${']'.repeat(depth)}}`);
    expect(response.status).to.equal(400);
    const { error } = (await response.json()) as { error: { param: string } };
    expect(error.param).to.match(/^messages/);
    expect(await ordinaryChat()).to.equal(200);
  });

  it('refuses a messages array of 100 000 entries: 413 over the body limit, else 400 naming the field', async () => {
    const wellFormed = JSON.stringify({
      messages: Array.from({ length: 100_000 }, () => ({ role: 'user', content: 'hi' })),
    });
    expect((await postRaw(wellFormed)).status).to.equal(413);
    const small = `{"messages": [${Array.from({ length: 100_000 }, () => '{}').join(',')}]}`;
    const response = await postRaw(small);
    expect(response.status).to.equal(400);
    const { error } = (await response.json()) as { error: { param: string } };
    expect(error.param).to.match(/^messages/);
  });

  it('keeps memory bounded with streams nobody reads, and serves others meanwhile', async () => {
    const streams = 16;
    const body = JSON.stringify({
      messages: [{ role: 'user', content: 'tell me everything' }],
      stream: true,
      max_tokens: 300,
    });
    /** Generations finished so far, whatever their finish reason. */
    const finished = async () =>
      metricSum(
        await (await fetch(`${runtime.healthUrl}/metrics`)).text(),
        'clawbot_generations_total',
      );
    const finishedBefore = await finished();
    const before = rssMiB();
    const readers = await Promise.all(
      Array.from({ length: streams }, () => rawClient(port, { read: false })),
    );
    for (const { socket } of readers) {
      socket.write(
        'POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
          `Authorization: Bearer ${token}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    }
    expect(await ordinaryChat()).to.equal(200);
    // Each stream runs to its end (or its token limit) into buffers nobody drains.
    await eventually(
      `${streams} unread streams to finish`,
      async () => (await finished()) >= finishedBefore + streams + 1,
      90_000,
      500,
    );
    const grown = rssMiB() - before;
    expect(grown, `RSS grew ${grown.toFixed(1)} MiB`).to.be.below(150);
    for (const { socket } of readers) socket.destroy();
  });
});

describe('the connection cap (MAX_CONNECTIONS)', function () {
  this.timeout(60_000);
  let model: TestModel;
  let runtime: TestRuntime;

  before(async () => {
    model = await writeTestModel();
    runtime = await startTestRuntime(model.dir, { env: { MAX_CONNECTIONS: '20' } });
  });
  after(async () => {
    await runtime?.stop();
    await model?.remove();
  });

  it('closes connections beyond the cap on arrival, counts them, and serves again once others close', async () => {
    const port = runtime.server.chatPort;
    const held = await Promise.all(Array.from({ length: 20 }, () => rawClient(port)));
    const refused = await Promise.all(Array.from({ length: 5 }, () => rawClient(port)));
    // Closed by the server without a byte of answer.
    expect(await Promise.all(refused.map((c) => c.closed))).to.deep.equal(Array(5).fill(''));
    for (const { socket } of held) socket.destroy();
    await eventually('a chat after the held connections closed', async () => {
      const token = await getToken(runtime.chatUrl);
      return (await postChat(runtime, token, { messages: [{ role: 'user', content: 'hi' }] })).ok;
    });
    const metrics = await (await fetch(`${runtime.healthUrl}/metrics`)).text();
    // The five, and any first attempt of the probe made before the server saw the others close.
    const counted = metricSum(metrics, 'clawbot_http_connections_refused_total');
    expect(counted).to.be.at.least(5);
    expect(
      runtime.logs.filter((l) => l.msg === 'connections refused: MAX_CONNECTIONS are open'),
    ).to.have.length(1);
  });
});
