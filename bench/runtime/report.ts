// The benchmark's tables: medians over rounds with their spread, and ratios taken within a round.
import { percentile } from '../http-load.ts';
import { decodeTokensPerSecond } from './generator.ts';
import type { Wave } from './concurrency.ts';
import type { SingleStreamRun } from './single-stream.ts';
import { formatSpread, spread, type Spread } from './stats.ts';

export interface SingleStreamRow {
  prompt: string;
  contestant: string;
  promptTokens: number[];
  tokens: number[];
  decodeTokensPerSecond: Spread;
  firstTokenMs: Spread;
  /** Reference ÷ this contestant, round by round. */
  decodeRatio: Spread;
  firstTokenRatio: Spread;
  /** Rounds whose generated text equals the reference's, of all rounds. */
  sameTextRounds: number;
  rounds: number;
}

export function singleStreamRows(runs: SingleStreamRun[], reference: string): SingleStreamRow[] {
  const rows: SingleStreamRow[] = [];
  const key = (r: SingleStreamRun) => `${r.prompt}\u0000${r.contestant}`;
  const groups = Map.groupBy(runs, key);
  for (const group of groups.values()) {
    const { prompt, contestant } = group[0]!;
    const refOf = (round: number) =>
      runs.find((r) => r.prompt === prompt && r.contestant === reference && r.round === round)!;
    rows.push({
      prompt,
      contestant,
      promptTokens: unique(group.map((r) => r.result.promptTokens)),
      tokens: unique(group.map((r) => r.result.tokens)),
      decodeTokensPerSecond: spread(group.map((r) => decodeTokensPerSecond(r.result))),
      firstTokenMs: spread(group.map((r) => r.result.firstTokenMs)),
      decodeRatio: spread(
        group.map(
          (r) => decodeTokensPerSecond(refOf(r.round).result) / decodeTokensPerSecond(r.result),
        ),
      ),
      firstTokenRatio: spread(
        group.map((r) => refOf(r.round).result.firstTokenMs / r.result.firstTokenMs),
      ),
      sameTextRounds: group.filter((r) => r.result.text === refOf(r.round).result.text).length,
      rounds: group.length,
    });
  }
  return rows;
}

export interface ConcurrencyRow {
  streams: number;
  aggregateTokensPerSecond: Spread;
  tokensPerWave: number[];
  firstTokenMs: { p50: number; p99: number };
  interTokenMs: { p50: number; p99: number; max: number; samples: number };
  deltasPerToken: number;
}

export function concurrencyRows(waves: Wave[]): ConcurrencyRow[] {
  const levels = [...new Set(waves.map((w) => w.streams))].sort((a, b) => a - b);
  return levels.map((streams) => {
    const mine = waves.filter((w) => w.streams === streams);
    const sorted = (values: number[]) => Float64Array.from(values).sort();
    const firsts = sorted(mine.flatMap((w) => w.firstTokenMs));
    const gaps = sorted(mine.flatMap((w) => w.interTokenMs));
    const tokens = mine.reduce((s, w) => s + w.tokens, 0);
    return {
      streams,
      aggregateTokensPerSecond: spread(mine.map((w) => (w.tokens * 1000) / w.wallMs)),
      tokensPerWave: mine.map((w) => w.tokens),
      firstTokenMs: { p50: percentile(firsts, 0.5), p99: percentile(firsts, 0.99) },
      interTokenMs: {
        p50: percentile(gaps, 0.5),
        p99: percentile(gaps, 0.99),
        max: gaps.at(-1) ?? Number.NaN,
        samples: gaps.length,
      },
      deltasPerToken: mine.reduce((s, w) => s + w.deltas, 0) / tokens,
    };
  });
}

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function singleStreamTable(rows: SingleStreamRow[], reference: string): string {
  return table(
    [
      'prompt',
      'contestant',
      'prompt tok',
      'generated tok',
      'decode tok/s',
      'first token ms',
      `${reference} ÷ this, tok/s`,
      `${reference} ÷ this, first token`,
      'same text',
    ],
    rows.map((r) => [
      r.prompt,
      r.contestant,
      r.promptTokens.join('/'),
      r.tokens.join('/'),
      formatSpread(r.decodeTokensPerSecond),
      formatSpread(r.firstTokenMs, 0),
      r.contestant === reference ? '—' : formatSpread(r.decodeRatio, 2),
      r.contestant === reference ? '—' : formatSpread(r.firstTokenRatio, 2),
      r.contestant === reference ? '—' : `${r.sameTextRounds}/${r.rounds}`,
    ]),
  );
}

export function concurrencyTable(rows: ConcurrencyRow[]): string {
  return table(
    [
      'streams',
      'aggregate tok/s',
      'per stream tok/s',
      'tokens per wave',
      'first token p50 / p99 ms',
      'inter-token p50 / p99 / max ms',
    ],
    rows.map((r) => [
      String(r.streams),
      formatSpread(r.aggregateTokensPerSecond),
      (r.aggregateTokensPerSecond.median / r.streams).toFixed(1),
      r.tokensPerWave.join('/'),
      `${r.firstTokenMs.p50.toFixed(0)} / ${r.firstTokenMs.p99.toFixed(0)}`,
      `${r.interTokenMs.p50.toFixed(0)} / ${r.interTokenMs.p99.toFixed(0)} / ${r.interTokenMs.max.toFixed(0)}`,
    ]),
  );
}

const unique = (values: number[]) => [...new Set(values)].sort((a, b) => a - b);
