// Progress lines on stderr, stamped with the time since the benchmark started, so a long run shows
// what it is doing while stdout keeps only the results.

const startedAt = performance.now();

export function progress(message: string): void {
  const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
  process.stderr.write(`[${seconds.padStart(6)} s] ${message}\n`);
}
