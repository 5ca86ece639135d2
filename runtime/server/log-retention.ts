// Which conversation log files to delete: those whose every line is older than the retention,
// then the oldest ones until all of them fit the size budget. Pure; the directory listing comes
// in as data.
//
// Files are daily and per writer, `conversations-<UTC day>.<writer>.jsonl`, because the replicas
// of a ChatBot share one volume: appends from several processes to one file could interleave.

const FILE_PATTERN = /^conversations-(\d{4}-\d{2}-\d{2})\.([A-Za-z0-9._-]+)\.jsonl$/;
const DAY_MS = 86_400_000;

export interface LogFile {
  name: string;
  bytes: number;
}

export interface RetentionPolicy {
  retentionMs: number;
  maxBytes: number;
}

export function logFileName(time: Date, writer: string): string {
  return `conversations-${time.toISOString().slice(0, 10)}.${writer}.jsonl`;
}

/** A host name as a file name part (pod names already are; anything else is made so). */
export function writerName(hostname: string): string {
  return hostname.replace(/[^A-Za-z0-9._-]/g, '_') || 'runtime';
}

/** The names to delete, oldest first. Files not named like conversation logs are left alone. */
export function filesToDelete(
  files: readonly LogFile[],
  now: Date,
  policy: RetentionPolicy,
): string[] {
  const logs = files
    .flatMap((file) => {
      const day = FILE_PATTERN.exec(file.name)?.[1];
      return day === undefined ? [] : [{ ...file, end: Date.parse(`${day}T00:00:00Z`) + DAY_MS }];
    })
    .sort((a, b) => a.end - b.end || a.name.localeCompare(b.name));

  const oldestKept = now.getTime() - policy.retentionMs;
  const doomed: string[] = [];
  let total = logs.reduce((sum, file) => sum + file.bytes, 0);
  for (const file of logs) {
    // A file's last line was written before its day ended.
    if (file.end <= oldestKept || total > policy.maxBytes) {
      doomed.push(file.name);
      total -= file.bytes;
    }
  }
  return doomed;
}
