// Structured JSON logs: one object per line, so `kubectl logs` output can be filtered with jq and
// shipped to any log store without parsing free text.

export type Level = 'debug' | 'info' | 'warn' | 'error';

const severity: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger whose lines all carry `fields` as well. */
  with(fields: Record<string, unknown>): Logger;
}

export interface LoggerOptions {
  level?: Level;
  /** Where lines go; stderr by default, so stdout stays free for a command's real output. */
  write?: (line: string) => void;
  now?: () => Date;
}

export function parseLevel(value: string | undefined, fallback: Level = 'info'): Level {
  if (value === undefined || value === '') return fallback;
  if (value in severity) return value as Level;
  throw new Error(`unknown log level "${value}": use one of ${Object.keys(severity).join(', ')}`);
}

export function createLogger(
  component: string,
  options: LoggerOptions = {},
  base: Record<string, unknown> = {},
): Logger {
  const threshold = severity[options.level ?? parseLevel(process.env.LOG_LEVEL)];
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const now = options.now ?? (() => new Date());

  const emit = (level: Level, msg: string, fields?: Record<string, unknown>) => {
    if (severity[level] < threshold) return;
    const record = { time: now().toISOString(), level, component, msg, ...base, ...fields };
    write(JSON.stringify(record, errorReplacer));
  };

  return {
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
    with: (fields) => createLogger(component, options, { ...base, ...fields }),
  };
}

// Error objects serialise to {} by default; keep the message (and code) a reader needs.
function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return code === undefined ? value.message : { message: value.message, code };
  }
  if (typeof value === 'bigint') return value.toString();
  return value;
}
