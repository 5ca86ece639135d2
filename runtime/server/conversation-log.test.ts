import { expect } from 'chai';
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../common/log.ts';
import { ConversationLog, type ConversationRecord } from './conversation-log.ts';
import { filesToDelete, logFileName, writerName } from './log-retention.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('filesToDelete', () => {
  const now = new Date('2026-03-10T12:00:00Z');
  const file = (day: string, bytes = 100, writer = 'pod-a') => ({
    name: `conversations-${day}.${writer}.jsonl`,
    bytes,
  });

  it('deletes files whose last possible line is older than the retention', () => {
    const files = [file('2026-03-07'), file('2026-03-08'), file('2026-03-09'), file('2026-03-10')];
    // 48h before now is 2026-03-08T12:00: the 7th ended before it, the 8th did not.
    expect(filesToDelete(files, now, { retentionMs: 2 * DAY, maxBytes: 1e9 })).to.deep.equal([
      files[0]!.name,
    ]);
  });

  it('deletes the oldest files until the rest fit the size budget', () => {
    const files = [
      file('2026-03-10', 300),
      file('2026-03-08', 300, 'pod-b'),
      file('2026-03-08', 300, 'pod-a'),
      file('2026-03-09', 300),
    ];
    expect(filesToDelete(files, now, { retentionMs: 30 * DAY, maxBytes: 650 })).to.deep.equal([
      'conversations-2026-03-08.pod-a.jsonl',
      'conversations-2026-03-08.pod-b.jsonl',
    ]);
  });

  it('leaves files that are not conversation logs alone', () => {
    const files = [
      { name: 'notes.txt', bytes: 1e6 },
      { name: 'conversations-2020-01-01.jsonl', bytes: 1e6 },
    ];
    expect(filesToDelete(files, now, { retentionMs: HOUR, maxBytes: 1 })).to.deep.equal([]);
  });

  it('names files by UTC day and writer', () => {
    expect(logFileName(new Date('2026-03-10T23:59:59Z'), 'support-bot-7d9f-x2')).to.equal(
      'conversations-2026-03-10.support-bot-7d9f-x2.jsonl',
    );
    expect(writerName('my host/1')).to.equal('my_host_1');
  });
});

describe('ConversationLog', () => {
  let dir: string;
  const warnings: string[] = [];
  let linesLost = 0;
  const writeFailures = { inc: () => linesLost++ };
  const logger = createLogger('test', {
    level: 'debug',
    write: (line) => {
      const record = JSON.parse(line) as { level: string; msg: string };
      if (record.level === 'warn') warnings.push(record.msg);
    },
  });
  const record = (answer: string): ConversationRecord => ({
    time: '2026-03-10T08:00:00.000Z',
    key_id: 'k1',
    model: 'tiny',
    route: '/api/chat',
    messages: [{ role: 'user', content: 'hi' }],
    answer,
    usage: { prompt_tokens: 3, completion_tokens: 2 },
    finish_reason: 'stop',
  });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'conversations-'));
    warnings.length = 0;
    linesLost = 0;
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('appends one line per exchange, in order, to the day file, creating the folder', async () => {
    const logDir = join(dir, 'nested', 'conversations');
    const now = new Date('2026-03-10T08:00:00Z');
    const log = new ConversationLog({
      dir: logDir,
      retentionMs: DAY,
      maxBytes: 1e6,
      logger,
      writeFailures,
      writer: 'w',
      now: () => now,
    });
    for (const answer of ['one', 'two', 'three']) log.append(record(answer));
    await log.close();
    const text = await readFile(join(logDir, 'conversations-2026-03-10.w.jsonl'), 'utf8');
    const lines = text
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as ConversationRecord);
    expect(lines.map((line) => line.answer)).to.deep.equal(['one', 'two', 'three']);
    expect(lines[0]).to.deep.equal(record('one'));
  });

  it('enforces retention when it starts', async () => {
    const now = new Date('2026-03-10T08:00:00Z');
    const old = 'conversations-2026-02-01.w.jsonl';
    const recent = 'conversations-2026-03-09.w.jsonl';
    await writeFile(join(dir, old), 'x\n');
    await writeFile(join(dir, recent), 'x\n');
    await writeFile(join(dir, 'keep.txt'), 'x\n');
    // Modification times do not matter: the day in the name does.
    await utimes(join(dir, old), now, now);
    const log = new ConversationLog({
      dir,
      retentionMs: 7 * DAY,
      maxBytes: 1e6,
      logger,
      writeFailures,
      writer: 'w',
      now: () => now,
    });
    await log.start();
    await log.close();
    expect((await readdir(dir)).sort()).to.deep.equal([
      'conversations-2026-03-09.w.jsonl',
      'keep.txt',
    ]);
  });

  it('never throws when the disk fails, warns once per outage and counts every line lost', async () => {
    const blocker = join(dir, 'a-file');
    await writeFile(blocker, '');
    // A folder inside a regular file cannot be created: every append fails (ENOTDIR).
    const log = new ConversationLog({
      dir: join(blocker, 'logs'),
      retentionMs: DAY,
      maxBytes: 1e6,
      logger,
      writeFailures,
    });
    log.append(record('lost'));
    log.append(record('lost too'));
    await log.start();
    await log.close();
    expect(
      warnings.filter((w) => w.startsWith('cannot write the conversation log')),
    ).to.have.length(1);
    expect(warnings.filter((w) => w.startsWith('cannot enforce'))).to.have.length(1);
    expect(linesLost).to.equal(2);
  });
});
