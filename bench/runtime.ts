// `npm run bench:runtime [-- --out <file.json>]`: the ClawBot runtime on the real default model
// (SmolLM2-135M-Instruct, Q4_1) on this machine, against peers measured in the same run:
//
// 1. Single stream, interleaved rounds: the ClawBot engine (in a process of its own), the same
//    engine behind the HTTP server (`serve`, SSE), node-llama-cpp on the same GGUF, and
//    transformers.js on the same ONNX folder. Greedy, same prompts, same token budget.
// 2. Aggregate tokens/s through the HTTP server at 1, 4, 16 and 50 concurrent streams, with time
//    to first token and inter-token latency as the clients see them.
// 3. Peak RSS of every process, the server's after all of the above.
//
// Settings (environment): BENCH_ROUNDS single-stream rounds (5), BENCH_WAVE_ROUNDS rounds of the
// concurrency waves (3), BENCH_TOKENS generated per request (128), BENCH_THREADS llama.cpp's
// threads (2: this machine's cores; the onnxruntime contestants use onnxruntime's default).
// The model and the peers are fetched and installed on first use.
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Template } from '@huggingface/jinja';
import type { ChatMessage } from '../runtime/engine/types.ts';
import { readModelFolder } from '../runtime/engine/model-folder.ts';
import { cacheRoot } from '../tools/cluster/paths.ts';
import { ensureSmolLM2 } from '../tools/models/smollm2.ts';
import { progress } from './progress.ts';
import { streamChat } from './runtime/chat-stream.ts';
import { runWaves } from './runtime/concurrency.ts';
import { startGenerator, type GeneratorChild } from './runtime/generator-child.ts';
import type { GeneratorConfig, GeneratorKind } from './runtime/generator-protocol.ts';
import { ensurePeers } from './runtime/peers.ts';
import {
  concurrencyRows,
  concurrencyTable,
  singleStreamRows,
  singleStreamTable,
  table,
} from './runtime/report.ts';
import { startRuntimeServer } from './runtime/runtime-server.ts';
import { runSingleStream, type Contestant } from './runtime/single-stream.ts';

const USAGE = `usage: npm run bench:runtime [-- --out <file.json>]

Benchmarks the ClawBot runtime on SmolLM2-135M-Instruct (Q4_1) against node-llama-cpp and
transformers.js, then through the HTTP server at 1, 4, 16 and 50 concurrent streams. Prints tables
on stdout, progress on stderr, and writes every figure as JSON to --out (default:
<cache>/bench/runtime-<time>.json). Environment: BENCH_ROUNDS (5), BENCH_WAVE_ROUNDS (3),
BENCH_TOKENS (128), BENCH_THREADS (2).`;

const settings = {
  rounds: Number(process.env.BENCH_ROUNDS ?? 5),
  waveRounds: Number(process.env.BENCH_WAVE_ROUNDS ?? 3),
  maxTokens: Number(process.env.BENCH_TOKENS ?? 128),
  llamaThreads: Number(process.env.BENCH_THREADS ?? 2),
  streamLevels: [1, 4, 16, 50],
};
/** MAX_CONCURRENCY of the server (and the engine's batch slots): every stream of the largest wave decodes at once. */
const maxConcurrency = Math.max(...settings.streamLevels);
const reference = 'clawbot engine';
const MiB = 1024 * 1024;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { out: { type: 'string' }, help: { type: 'boolean', default: false } },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const startedAt = new Date();
  const out = resolve(
    values.out ??
      join(cacheRoot(), 'bench', `runtime-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`),
  );
  const machine = {
    cpus: cpus().length,
    cpu: cpus()[0]?.model,
    memoryGiB: Math.round(totalmem() / 1024 ** 3),
    node: process.version,
    loadAverageAtStart: loadavg(),
  };
  progress(`machine: ${machine.cpus} × ${machine.cpu}, load average ${fmtLoad(loadavg())}`);

  progress('model: SmolLM2-135M-Instruct Q4_1 (fetched and imported once, then cached)');
  const model = await ensureSmolLM2();
  const peers = await ensurePeers(progress);
  const logDir = join(cacheRoot(), 'bench', 'logs');
  await mkdir(logDir, { recursive: true });

  const config: GeneratorConfig = {
    gguf: model.gguf,
    onnxDir: model.onnxDir,
    maxConcurrency: maxConcurrency,
    threads: settings.llamaThreads,
  };
  const children: GeneratorChild[] = [];
  const names: Record<GeneratorKind, string> = {
    'clawbot-engine': reference,
    'node-llama-cpp': `node-llama-cpp ${peers['node-llama-cpp']}`,
    'transformers.js': `transformers.js ${peers['@huggingface/transformers']}`,
  };
  for (const kind of Object.keys(names) as GeneratorKind[]) {
    progress(`loading ${names[kind]} (its own process; log in ${logDir})`);
    children.push(await startGenerator(kind, config, join(logDir, `${kind}.log`)));
  }
  const contestantSettings = Object.fromEntries(
    children.map((c) => [names[c.kind], { ...c.settings, loadMs: c.loadMs }]),
  );
  progress(`starting the ClawBot runtime server (MAX_CONCURRENCY=${maxConcurrency})`);
  const server = await startRuntimeServer(
    model.onnxDir,
    maxConcurrency,
    join(logDir, 'runtime-server.log'),
  );

  try {
    const render = chatRenderer(await readModelFolder(model.onnxDir));
    const contestants: Contestant[] = [
      ...children.map((c) => ({ name: names[c.kind], generate: c.generate })),
      {
        name: 'clawbot http server',
        generate: async (prompt, maxTokens) => {
          const chat = await streamChat(server.url, server.token, prompt.messages, maxTokens);
          return {
            promptTokens: chat.promptTokens,
            tokens: chat.completionTokens,
            text: chat.text,
            firstTokenMs: chat.deltaMs[0] ?? Number.NaN,
            lastTokenMs: chat.doneMs,
          };
        },
      },
    ];
    const runs = await runSingleStream(contestants, render, settings.rounds, settings.maxTokens);
    const memory: Record<string, number | undefined> = {};
    for (const child of children) {
      memory[names[child.kind]] = await child.peakResidentBytes();
      await child.close();
    }
    children.length = 0;

    const waves = await runWaves(
      server,
      settings.streamLevels,
      settings.waveRounds,
      settings.maxTokens,
    );
    memory['clawbot http server'] = await server.peakResidentBytes();

    const singleRows = singleStreamRows(runs, reference);
    const waveRows = concurrencyRows(waves);
    const at50 = waveRows.find((r) => r.streams === 50);
    const loadAverageAtEnd = loadavg();
    const command = `npm run bench:runtime${values.out ? ` -- --out ${values.out}` : ''}`;

    console.log(
      `\n${command}   (${startedAt.toISOString()}, ${machine.cpus} × ${machine.cpu}, ${machine.memoryGiB} GiB, ` +
        `node ${machine.node}; load average ${fmtLoad(machine.loadAverageAtStart)} at start, ${fmtLoad(loadAverageAtEnd)} at end)`,
    );
    console.log(
      `\nSingle stream: greedy, at most ${settings.maxTokens} tokens, ${settings.rounds} interleaved rounds; ` +
        'median [lowest–highest round]. Ratios are taken within each round; for tokens/s above 1 means ' +
        `the ${reference} is faster, for first token below 1 means it is faster.\n`,
    );
    console.log(singleStreamTable(singleRows, reference));
    console.log(
      `\nThrough the HTTP server (MAX_CONCURRENCY=${maxConcurrency}, MAX_QUEUE=${server.env.MAX_QUEUE}), ` +
        `waves of N streamed chats sent at once, ${settings.maxTokens} tokens at most each, ${settings.waveRounds} rounds; ` +
        'latencies pooled over rounds, inter-token = gaps between SSE delta events.\n',
    );
    console.log(concurrencyTable(waveRows));
    if (at50) {
      const meets = at50.interTokenMs.p99 < 500;
      console.log(
        `\np99 inter-token latency at 50 streams: ${at50.interTokenMs.p99.toFixed(0)} ms — this machine ` +
          `${meets ? 'meets' : 'does not meet'} the guide's 2-CPU profile target (50 users, P99 < 500 ms).`,
      );
    }
    console.log('\nPeak RSS (VmHWM):\n');
    console.log(
      table(
        ['process', 'peak RSS MiB'],
        Object.entries(memory).map(([name, bytes]) => [
          name,
          bytes === undefined ? 'n/a' : (bytes / MiB).toFixed(0),
        ]),
      ),
    );

    const report = {
      command,
      startedAt: startedAt.toISOString(),
      machine: { ...machine, loadAverageAtEnd },
      settings: { ...settings, maxConcurrency, server: server.env },
      model: { ...model, name: 'SmolLM2-135M-Instruct Q4_1' },
      peers,
      contestantSettings,
      singleStream: singleRows,
      concurrency: waveRows,
      peakResidentBytes: memory,
      runs,
      waves,
    };
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, JSON.stringify(report, null, 2) + '\n');
    console.log(`\nAll figures as JSON: ${out}`);
    return 0;
  } finally {
    for (const child of children) await child.close();
    await server.stop();
  }
}

/** The conversation as the model's chat template renders it, for the peer that takes text. */
function chatRenderer(folder: Awaited<ReturnType<typeof readModelFolder>>) {
  const template = new Template(folder.chatTemplate);
  return (messages: ChatMessage[]) =>
    template.render({
      messages,
      bos_token: folder.bosToken ?? '',
      eos_token: folder.eosToken ?? '',
      add_generation_prompt: true,
    });
}

const fmtLoad = (load: number[]) => load.map((l) => l.toFixed(2)).join(' ');

process.exitCode = await main();
