// Reading Prometheus' text format in tests: the series of one metric and the sum of their values,
// from whichever /metrics a test scrapes (the operator's or a runtime's health port).

export interface Series {
  labels: Record<string, string>;
  value: number;
}

export function seriesOf(text: string, name: string): Series[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith(name + '{') || line.startsWith(name + ' '))
    .map((line) => {
      const labels = Object.fromEntries(
        [...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]),
      );
      return { labels, value: Number(line.slice(line.lastIndexOf(' ') + 1)) };
    });
}

/** The sum over the metric's series whose labels include `labels`; 0 when there are none. */
export function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  return seriesOf(text, name)
    .filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}
