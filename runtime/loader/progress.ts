// Progress lines for long work (downloads, imports): rewritten in place on a terminal, one line
// every few seconds in logs (an init container's output), so neither floods.

export type ProgressSink = (line: string) => void;

export function progressPrinter(stream: NodeJS.WriteStream = process.stderr): ProgressSink {
  let last = 0;
  return (line) => {
    if (stream.isTTY) {
      stream.write(`\r\x1b[K${line}`);
      return;
    }
    const now = Date.now();
    // Lines ending in a newline mark the end of a stage: always shown.
    const final = line.endsWith('\n');
    if (final || now - last >= 5000) {
      last = now;
      stream.write(final ? line : line + '\n');
    }
  };
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}
