// Test support: the real runtime server (real auth, real engine, the tiny random-weight model)
// on free loopback ports, and a reader for server-sent events.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTinyModel } from '../../runtime/model/tiny/tiny-model.ts';
import { readServerConfig } from '../../runtime/server/config.ts';
import { type RuntimeServer, startRuntimeServer } from '../../runtime/server/server.ts';

export const TEST_API_KEY = 'test-api-key-0123456789';

export interface TestModel {
  dir: string;
  remove(): Promise<void>;
}

/**
 * A tiny model with a context long enough for answers that outlast a test's checks (greedy
 * decoding of the tiny model does not reach an end-of-sequence token for thousands of tokens).
 */
export async function writeTestModel(): Promise<TestModel> {
  const root = await mkdtemp(join(tmpdir(), 'runtime-server-model-'));
  const dir = join(root, 'tiny');
  await writeTinyModel(dir, { contextLength: 8192 });
  return { dir, remove: () => rm(root, { recursive: true, force: true }) };
}

export interface TestRuntime {
  server: RuntimeServer;
  chatUrl: string;
  healthUrl: string;
  /** Every log line so far, parsed. */
  logs: Record<string, unknown>[];
  conversationDir: string;
  stop(): Promise<void>;
}

/** Starts the server (without loading the model unless `load`) with test defaults under `env`. */
export async function startTestRuntime(
  modelDir: string,
  options: { env?: Record<string, string>; load?: boolean; drainTimeoutMs?: number } = {},
): Promise<TestRuntime> {
  const scratch = await mkdtemp(join(tmpdir(), 'runtime-server-data-'));
  const conversationDir = join(scratch, 'conversations');
  const env = {
    MODEL_PATH: modelDir,
    MODEL_ID: 'tiny-chat',
    API_KEY: TEST_API_KEY,
    PORT: '0',
    HEALTH_PORT: '0',
    MAX_TOKENS: '8000',
    CONVERSATION_LOG_DIR: conversationDir,
    LOG_LEVEL: 'debug',
    ...options.env,
  };
  const logs: Record<string, unknown>[] = [];
  const server = await startRuntimeServer({
    config: readServerConfig(env),
    env,
    log: { write: (line) => logs.push(JSON.parse(line) as Record<string, unknown>) },
    drainTimeoutMs: options.drainTimeoutMs,
  });
  if (options.load !== false) await server.loadModel();
  return {
    server,
    chatUrl: `http://127.0.0.1:${server.chatPort}`,
    healthUrl: `http://127.0.0.1:${server.healthPort}`,
    logs,
    conversationDir,
    stop: async () => {
      await server.stop();
      await rm(scratch, { recursive: true, force: true });
    },
  };
}

/** A token from POST /api/auth, as the deployment guide gets one. */
export async function getToken(chatUrl: string, apiKey = TEST_API_KEY): Promise<string> {
  const response = await fetch(`${chatUrl}/api/auth`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ api_key: apiKey }),
  });
  if (!response.ok) throw new Error(`POST /api/auth answered ${response.status}`);
  return ((await response.json()) as { token: string }).token;
}

/** POST /api/chat with a token, as the deployment guide does it. */
export function postChat(runtime: TestRuntime, token: string, body: unknown): Promise<Response> {
  return fetch(`${runtime.chatUrl}/api/chat`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
}

export interface ServerSentEvent {
  event: string | undefined;
  data: string;
}

/** The events of a text/event-stream body, as they arrive. Comment lines are skipped. */
export async function* readEvents(
  body: ReadableStream<Uint8Array>,
): AsyncGenerator<ServerSentEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const bytes of body) {
    buffer += decoder.decode(bytes, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event: string | undefined;
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice('event: '.length);
        else if (line.startsWith('data: ')) data.push(line.slice('data: '.length));
      }
      if (data.length > 0) yield { event, data: data.join('\n') };
    }
  }
}
