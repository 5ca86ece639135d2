// The `serve` command as a process, as the container runs it: the deployment guide's curl flow,
// SIGTERM, and the start-up failures a user has to be able to fix from the message alone.
import { expect } from 'chai';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { eventually } from '../../tools/eventually.ts';
import { TEST_API_KEY, type TestModel, writeTestModel } from '../../test/support/runtime-server.ts';

const run = promisify(execFile);
const cli = new URL('../cli.ts', import.meta.url).pathname;

interface ServeProcess {
  child: ChildProcess;
  /** Everything written to stderr so far (the JSON log lines). */
  stderr(): string;
  exited: Promise<number | null>;
}

function serve(env: Record<string, string>): ServeProcess {
  const child = spawn(process.execPath, [cli, 'serve'], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, stderr: () => stderr, exited };
}

/** The log line with this message, once the process has written it. */
async function logLine(proc: ServeProcess, msg: string): Promise<Record<string, unknown>> {
  let found: Record<string, unknown> | undefined;
  await eventually(`the server logs "${msg}"`, () => {
    found = proc
      .stderr()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((line) => line.msg === msg);
    return found !== undefined || proc.child.exitCode !== null;
  });
  if (!found) throw new Error(`the server exited without logging "${msg}":\n${proc.stderr()}`);
  return found;
}

async function takePort(): Promise<{ port: number; blocker: Server }> {
  const blocker = createServer();
  blocker.listen(0);
  await once(blocker, 'listening');
  return { port: (blocker.address() as AddressInfo).port, blocker };
}

describe('npm run runtime -- serve', function () {
  let model: TestModel;
  before(async () => {
    model = await writeTestModel();
  });
  after(() => model?.remove());

  it("serves the deployment guide's curl flow, then stops on SIGTERM with exit code 0", async () => {
    const proc = serve({
      MODEL_PATH: model.dir,
      API_KEY: TEST_API_KEY,
      PORT: '0',
      HEALTH_PORT: '0',
      MAX_TOKENS: '16',
      CONVERSATION_LOG: 'false',
    });
    try {
      const { port, healthPort } = await logLine(proc, 'listening');
      await logLine(proc, 'ready');
      const { stdout: readyz } = await run('curl', ['-s', `http://localhost:${healthPort}/readyz`]);
      expect(JSON.parse(readyz)).to.include({ ready: true });

      // The guide's two commands, word for word but for the port and the key.
      const { stdout: auth } = await run('bash', [
        '-c',
        `curl -s -X POST http://localhost:${port}/api/auth -H "Content-Type: application/json" -d '{"api_key": "${TEST_API_KEY}"}'`,
      ]);
      const { token, expires_in } = JSON.parse(auth) as { token: string; expires_in: number };
      expect(expires_in).to.equal(86400);
      const { stdout: chat } = await run('bash', [
        '-c',
        `curl -s -X POST http://localhost:${port}/api/chat -H "Authorization: Bearer ${token}" -H "Content-Type: application/json" -d '{"messages": [{"role": "user", "content": "Hello!"}]}'`,
      ]);
      const answer = JSON.parse(chat) as {
        message: { role: string; content: string };
        usage: { prompt_tokens: number; completion_tokens: number };
        finish_reason: string;
      };
      expect(answer.message.role).to.equal('assistant');
      expect(answer.message.content).to.be.a('string');
      expect(answer.usage.completion_tokens).to.be.within(1, 16);
      expect(['stop', 'length']).to.include(answer.finish_reason);

      proc.child.kill('SIGTERM');
      expect(await proc.exited).to.equal(0);
      expect(proc.stderr()).to.include('"msg":"stopped"');
    } finally {
      proc.child.kill('SIGKILL');
    }
  });

  for (const variable of ['PORT', 'HEALTH_PORT'] as const) {
    it(`exits with 1 and says how to fix it when ${variable} is taken`, async () => {
      const { port, blocker } = await takePort();
      try {
        const proc = serve({
          MODEL_PATH: model.dir,
          API_KEY: TEST_API_KEY,
          PORT: '0',
          HEALTH_PORT: '0',
          [variable]: String(port),
        });
        expect(await proc.exited).to.equal(1);
        expect(proc.stderr()).to.include(
          `port ${port} is already in use (EADDRINUSE) by another process; stop it ` +
            `(\`ss -ltnp 'sport = :${port}'\` shows which) or set ${variable} to a free port`,
        );
      } finally {
        blocker.close();
      }
    });
  }

  it('exits with 2 and names every invalid variable', async () => {
    const proc = serve({ MAX_TOKENS: 'many', EXECUTION_PROVIDER: 'tpu', TOKEN_TTL: 'forever' });
    expect(await proc.exited).to.equal(2);
    const text = proc.stderr();
    expect(text).to.include('MODEL_PATH is not set');
    expect(text).to.include('MAX_TOKENS=\\"many\\": must be a whole number from 1 to 1048576');
    expect(text).to.include('EXECUTION_PROVIDER=\\"tpu\\": must be one of auto, cuda, cpu');
    expect(text).to.include('TOKEN_TTL');
  });

  it('exits with 1 when the model cannot be loaded', async () => {
    const proc = serve({
      MODEL_PATH: `${model.dir}-missing`,
      API_KEY: TEST_API_KEY,
      PORT: '0',
      HEALTH_PORT: '0',
      CONVERSATION_LOG: 'false',
    });
    expect(await proc.exited).to.equal(1);
    expect(proc.stderr()).to.include(`cannot load the model from ${model.dir}-missing`);
  });
});
