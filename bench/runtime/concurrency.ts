// Aggregate throughput through the real HTTP server: waves of N concurrent streamed chats, each
// its own conversation, all sent at once; a wave ends when its last stream does. Levels take turns
// round by round (rotated), as the single-stream contestants do.
import { progress } from '../progress.ts';
import { streamChat } from './chat-stream.ts';
import { streamMessages } from './prompts.ts';
import { rotated } from './stats.ts';

export interface Wave {
  streams: number;
  round: number;
  wallMs: number;
  /** Completion tokens of all streams (usage.completion_tokens). */
  tokens: number;
  promptTokens: number[];
  /** Per stream: request sent → first delta event. */
  firstTokenMs: number[];
  /** Gaps between consecutive delta events of a stream, all streams pooled. */
  interTokenMs: number[];
  deltas: number;
}

export async function runWaves(
  server: { url: string; token: string },
  levels: number[],
  rounds: number,
  maxTokens: number,
): Promise<Wave[]> {
  const waves: Wave[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const streams of rotated(levels, round)) {
      const started = performance.now();
      const chats = await Promise.all(
        Array.from({ length: streams }, (_, i) =>
          streamChat(
            server.url,
            server.token,
            streamMessages(`${round + 1}-${streams}-${i}`, i),
            maxTokens,
          ),
        ),
      );
      const wallMs = performance.now() - started;
      const wave: Wave = {
        streams,
        round,
        wallMs,
        tokens: chats.reduce((sum, c) => sum + c.completionTokens, 0),
        promptTokens: chats.map((c) => c.promptTokens),
        firstTokenMs: chats.map((c) => c.deltaMs[0] ?? Number.NaN),
        interTokenMs: chats.flatMap((c) => c.deltaMs.slice(1).map((t, i) => t - c.deltaMs[i]!)),
        deltas: chats.reduce((sum, c) => sum + c.deltaMs.length, 0),
      };
      waves.push(wave);
      progress(
        `concurrency, round ${round + 1}/${rounds}, ${streams} streams: ${wave.tokens} tokens in ` +
          `${(wallMs / 1000).toFixed(1)} s = ${((wave.tokens * 1000) / wallMs).toFixed(1)} tokens/s`,
      );
    }
  }
  return waves;
}
