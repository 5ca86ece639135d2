// `npm run bench:auth`: what authentication costs. Measures POST /api/auth and authenticated
// requests (token, and raw API key as OpenAI SDKs send it) against a bare express hello-world,
// all served by one child process while this process generates the load, so the figures are
// ratios measured in the same run on the same machine.
//
// Settings (environment): BENCH_SECONDS per scenario (default 5), BENCH_CONNECTIONS (16),
// BENCH_APIKEYS: verifier files loaded, to show lookups do not depend on their number (100).

import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import express from 'express';
import { Registry } from 'prom-client';
import { generateApiKey, hashApiKey } from '../common/api-key.ts';
import { createLogger } from '../common/log.ts';
import {
  APIKEY_PEPPER_FILE,
  generatePepper,
  generateSigningKey,
  parsePepper,
  serializeApiKeyVerifier,
  serializeSigningKeys,
  SIGNING_KEYS_FILE,
  verifierFileName,
} from '../common/runtime-secrets.ts';
import { createAuth, principalOf } from '../runtime/auth/index.ts';
import { writeLikeKubelet } from '../runtime/auth/kubelet-volume.ts';
import { startServer } from '../runtime/auth/test-server.ts';
import { percentile, runLoad, type LoadSpec } from './http-load.ts';

interface Served {
  helloUrl: string;
  authUrl: string;
  key: string;
}

/** Child process: the servers under test. Prints one JSON line with their addresses. */
async function serve(apiKeys: number): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'clawbot-bench-'));
  const pepperText = generatePepper();
  const pepper = parsePepper(pepperText);
  await writeLikeKubelet(join(root, 'signing'), {
    [SIGNING_KEYS_FILE]: serializeSigningKeys({
      keys: [generateSigningKey(new Date(Date.now() - 60_000))],
    }),
    [APIKEY_PEPPER_FILE]: pepperText,
  });
  let benchKey = '';
  const files: Record<string, string> = {};
  for (let i = 0; i < apiKeys; i++) {
    const { key, keyId } = generateApiKey();
    if (i === 0) benchKey = key;
    const name = `client-${i}`;
    files[verifierFileName(name)] = serializeApiKeyVerifier({
      apiKey: name,
      scopes: ['chat', 'models'],
      requestsPerMinute: 10_000_000, // the benchmark measures authentication, not the limiter's 429s
      keys: [
        {
          keyId,
          hash: hashApiKey(pepper, key),
          state: 'Active',
          notBefore: new Date(Date.now() - 60_000).toISOString(),
          notAfter: new Date(Date.now() + 86_400_000).toISOString(),
        },
      ],
    });
  }
  await writeLikeKubelet(join(root, 'apikeys'), files);

  const hello = express();
  hello.get('/hello', (_req, res) => {
    res.send('hello');
  });

  // The audit line of every request is written to stderr as in production (the parent discards it).
  const auth = await createAuth({
    env: {
      SIGNING_KEYS_DIR: join(root, 'signing'),
      API_KEYS_DIR: join(root, 'apikeys'),
      CHATBOT_NAMESPACE: 'bench',
      CHATBOT_NAME: 'bot',
    },
    logger: createLogger('auth'),
    registry: new Registry(),
  });
  const app = express();
  app.use(auth.router);
  app.get('/v1/models', auth.require('models', { acceptApiKey: true }), (_req, res) => {
    res.json({ object: 'list', owner: principalOf(res).apiKey });
  });

  const servers = [await startServer(hello), await startServer(app)];
  const served: Served = { helloUrl: servers[0]!.url, authUrl: servers[1]!.url, key: benchKey };
  console.log(JSON.stringify(served));
  process.on('SIGTERM', async () => {
    auth.close();
    await Promise.all(servers.map((s) => s.close()));
    await rm(root, { recursive: true, force: true });
    process.exit(0);
  });
}

async function startServers(apiKeys: number) {
  const child = spawn(process.execPath, [import.meta.filename, 'serve', String(apiKeys)], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const line = await Promise.race([
    createInterface({ input: child.stdout })[Symbol.asyncIterator]().next(),
    exited.then((code) => {
      throw new Error(`the benchmark servers exited (code ${code}) before starting`);
    }),
  ]);
  return {
    served: JSON.parse(String(line.value)) as Served,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

interface Row {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  errors: number;
}

async function measure(
  name: string,
  spec: Omit<LoadSpec, 'connections' | 'durationMs' | 'maxRequests'>,
): Promise<Row> {
  const connections = Number(process.env.BENCH_CONNECTIONS ?? 16);
  const seconds = Number(process.env.BENCH_SECONDS ?? 5);
  const common = { connections, maxRequests: 2_000_000 };
  await runLoad({ ...spec, ...common, durationMs: 1000 }); // warm-up: JIT, connection set-up
  const result = await runLoad({ ...spec, ...common, durationMs: seconds * 1000 });
  return {
    name,
    rps: result.requests / result.seconds,
    p50: percentile(result.latenciesMs, 0.5),
    p99: percentile(result.latenciesMs, 0.99),
    requests: result.requests,
    errors: result.errors,
  };
}

async function main(): Promise<void> {
  const apiKeys = Number(process.env.BENCH_APIKEYS ?? 100);
  const { served, stop } = await startServers(apiKeys);
  try {
    const tokenReply = await fetch(`${served.authUrl}/api/auth`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ api_key: served.key }),
    });
    const { token } = (await tokenReply.json()) as { token: string };

    const rows = [
      await measure('express hello-world (baseline)', {
        url: served.helloUrl,
        method: 'GET',
        path: '/hello',
        expectStatus: 200,
      }),
      await measure('POST /api/auth (key -> token)', {
        url: served.authUrl,
        method: 'POST',
        path: '/api/auth',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ api_key: served.key }),
        expectStatus: 200,
      }),
      await measure('GET /v1/models, Bearer token', {
        url: served.authUrl,
        method: 'GET',
        path: '/v1/models',
        headers: { Authorization: `Bearer ${token}` },
        expectStatus: 200,
      }),
      await measure('GET /v1/models, Bearer API key', {
        url: served.authUrl,
        method: 'GET',
        path: '/v1/models',
        headers: { Authorization: `Bearer ${served.key}` },
        expectStatus: 200,
      }),
    ];
    report(rows, apiKeys);
    if (rows.some((r) => r.errors > 0)) process.exitCode = 1;
  } finally {
    await stop();
  }
}

function report(rows: Row[], apiKeys: number): void {
  const base = rows[0]!;
  const cpu = cpus();
  console.log(
    `auth benchmark: node ${process.version}, ${cpu.length} x ${cpu[0]?.model ?? 'unknown CPU'}, ` +
      `${process.env.BENCH_CONNECTIONS ?? 16} keep-alive connections, ` +
      `${process.env.BENCH_SECONDS ?? 5} s per scenario, ${apiKeys} verifier files loaded\n`,
  );
  const header = [
    'scenario',
    'req/s',
    'p50 ms',
    'p99 ms',
    'req/s ratio',
    'p99 ratio',
    'requests',
    'errors',
  ];
  const lines = rows.map((r) => [
    r.name,
    r.rps.toFixed(0),
    r.p50.toFixed(2),
    r.p99.toFixed(2),
    (r.rps / base.rps).toFixed(2),
    (r.p99 / base.p99).toFixed(2),
    String(r.requests),
    String(r.errors),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  for (const cells of [header, ...lines]) {
    console.log(
      cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '),
    );
  }
  console.log(
    '\nratios are against the hello-world baseline of the same run (req/s: higher is better; p99: lower)',
  );
}

if (process.argv[2] === 'serve') await serve(Number(process.argv[3]));
else await main();
