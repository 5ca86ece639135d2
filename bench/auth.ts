// `npm run bench:auth`: what authentication costs. Measures POST /api/auth and authenticated
// requests (token, and raw API key as OpenAI SDKs send it) against a bare express hello-world,
// all served by one child process while this process generates the load, so the figures are
// ratios measured in the same run on the same machine.
//
// Settings (environment): BENCH_SECONDS per scenario (default 5), BENCH_ROUNDS it is split
// into (5), BENCH_CONNECTIONS (16), BENCH_APIKEYS: verifier files loaded (100).

import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
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
import { writeLikeKubelet } from '../tools/local-pod/kubelet-volume.ts';
import { startServer } from '../test/support/auth-server.ts';
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
    res.json({ object: 'list', owner: principalOf(res).apiKeyName });
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

type Scenario = {
  name: string;
  spec: Omit<LoadSpec, 'connections' | 'durationMs' | 'maxRequests'>;
};

interface Row {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  /** Medians over the rounds of this scenario's figure divided by the baseline's in that round. */
  rpsRatio: number;
  p99Ratio: number;
  requests: number;
  errors: number;
}

const settings = {
  connections: Number(process.env.BENCH_CONNECTIONS ?? 16),
  seconds: Number(process.env.BENCH_SECONDS ?? 5),
  rounds: Number(process.env.BENCH_ROUNDS ?? 5),
};

// Scenarios take turns, one slice each per round, so load from other processes on a shared
// machine falls on all of them alike; each ratio compares figures of the same round.
async function measure(scenarios: Scenario[]): Promise<Row[]> {
  const slice = (settings.seconds * 1000) / settings.rounds;
  const load = (s: Scenario, durationMs: number) =>
    runLoad({ ...s.spec, connections: settings.connections, durationMs, maxRequests: 2_000_000 });
  for (const s of scenarios) await load(s, 1000); // warm-up: JIT, connection set-up

  const rounds: { rps: number; p99: number; result: Awaited<ReturnType<typeof runLoad>> }[][] = [];
  for (let round = 0; round < settings.rounds; round++) {
    const results = [];
    for (const s of scenarios) {
      const result = await load(s, slice);
      results.push({
        rps: result.requests / result.seconds,
        p99: percentile(result.latenciesMs, 0.99),
        result,
      });
    }
    rounds.push(results);
  }

  return scenarios.map((s, i) => {
    const mine = rounds.map((r) => r[i]!);
    const latencies = Float64Array.from(mine.flatMap((m) => [...m.result.latenciesMs])).sort();
    const requests = mine.reduce((n, m) => n + m.result.requests, 0);
    const seconds = mine.reduce((n, m) => n + m.result.seconds, 0);
    return {
      name: s.name,
      rps: requests / seconds,
      p50: percentile(latencies, 0.5),
      p99: percentile(latencies, 0.99),
      rpsRatio: median(rounds.map((r) => r[i]!.rps / r[0]!.rps)),
      p99Ratio: median(rounds.map((r) => r[i]!.p99 / r[0]!.p99)),
      requests,
      errors: mine.reduce((n, m) => n + m.result.errors, 0),
    };
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function main(): Promise<void> {
  const apiKeys = Number(process.env.BENCH_APIKEYS ?? 100);
  const { served, stop } = await startServers(apiKeys);
  const loadBefore = loadavg()[0]!;
  try {
    const tokenReply = await fetch(`${served.authUrl}/api/auth`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ api_key: served.key }),
    });
    const { token } = (await tokenReply.json()) as { token: string };
    const models = (authorization: string): Scenario['spec'] => ({
      url: served.authUrl,
      method: 'GET',
      path: '/v1/models',
      headers: { Authorization: authorization },
      expectStatus: 200,
    });

    const rows = await measure([
      {
        name: 'express hello-world (baseline)',
        spec: { url: served.helloUrl, method: 'GET', path: '/hello', expectStatus: 200 },
      },
      {
        name: 'POST /api/auth (key -> token)',
        spec: {
          url: served.authUrl,
          method: 'POST',
          path: '/api/auth',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ api_key: served.key }),
          expectStatus: 200,
        },
      },
      { name: 'GET /v1/models, Bearer token', spec: models(`Bearer ${token}`) },
      { name: 'GET /v1/models, Bearer API key', spec: models(`Bearer ${served.key}`) },
    ]);
    report(rows, apiKeys, [loadBefore, loadavg()[0]!]);
    if (rows.some((r) => r.errors > 0)) process.exitCode = 1;
  } finally {
    await stop();
  }
}

function report(rows: Row[], apiKeys: number, load: number[]): void {
  const cpu = cpus();
  console.log(
    `auth benchmark: node ${process.version}, ${cpu.length} x ${cpu[0]?.model ?? 'unknown CPU'}, ` +
      `${settings.connections} keep-alive connections, ${settings.seconds} s per scenario in ` +
      `${settings.rounds} interleaved rounds, ${apiKeys} verifier files loaded, ` +
      `1-min load average ${load.map((l) => l.toFixed(1)).join(' -> ')}\n`,
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
    r.rpsRatio.toFixed(2),
    r.p99Ratio.toFixed(2),
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
    '\nratios: median over rounds of the scenario against the hello-world baseline of the same ' +
      'round (req/s: higher is better; p99: lower is better)',
  );
}

if (process.argv[2] === 'serve') await serve(Number(process.argv[3]));
else await main();
