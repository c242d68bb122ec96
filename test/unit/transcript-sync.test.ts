import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HistoryService } from '../../src/history/history-service.ts';
import { tempDir } from '../helpers/chat-server.ts';
import { asTranscript } from '../helpers/history.ts';
import type { Message } from '../../src/domain/message.ts';

const RETRY_MS = 1000;
const ts = '2026-11-24T00:00:00.000Z';
const draft = (text: string) => ({ draft: { serverId: 1, username: 'alice', text }, ts });

function recordingLog() {
  const lines: Array<{ level: string; message: string }> = [];
  const record = (level: string) => (_details: object, message: string) =>
    lines.push({ level, message });
  return { lines, log: { error: record('error'), warn: record('warn'), debug: record('debug') } };
}

const open: HistoryService[] = [];
afterEach(() => {
  vi.useRealTimers();
  for (const history of open.splice(0)) history.close();
});

function service(dir: string, log = recordingLog().log) {
  const history = new HistoryService(dir, { log, transcriptRetryMs: RETRY_MS });
  open.push(history);
  return history;
}

const fileOf = (dir: string) => path.join(dir, 'message_history', 'server_1_history.jsonl');

function transcriptIds(dir: string): number[] {
  return fs
    .readFileSync(fileOf(dir), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { id: number }).id);
}

describe('a transcript write that fails after the commit', () => {
  it('stores the messages, appends none of the room until repaired, then repairs in id order, once', () => {
    vi.useFakeTimers();
    const dir = tempDir();
    const { lines, log } = recordingLog();
    const history = service(dir, log);
    fs.mkdirSync(fileOf(dir)); // the transcript's path is taken: opening it fails

    const first = history.appendDrafts([draft('one'), draft('two')], ts);
    expect(first.map((r) => ('id' in r ? r.id : undefined))).toEqual([1, 2]);
    expect(history.transcriptsBehind()).toEqual([1]);
    fs.rmdirSync(fileOf(dir));
    // writing works again, but the room is behind: appending 3 now would leave out 1 and 2
    history.appendDrafts([draft('three')], ts);
    expect(fs.existsSync(fileOf(dir))).toBe(false);
    history.appendDrafts([draft('four')], ts);

    vi.advanceTimersByTime(RETRY_MS);
    expect(transcriptIds(dir)).toEqual([1, 2, 3, 4]);
    expect(history.transcriptsBehind()).toEqual([]);
    history.appendDrafts([draft('five')], ts);
    expect(transcriptIds(dir)).toEqual([1, 2, 3, 4, 5]);
    expect(lines.filter((l) => l.level !== 'debug').map((l) => l.level)).toEqual(['error', 'warn']);
  });

  it('keeps trying while writing fails and logs the episode once', () => {
    vi.useFakeTimers();
    const dir = tempDir();
    const { lines, log } = recordingLog();
    const history = service(dir, log);
    fs.symlinkSync('/dev/full', fileOf(dir));
    for (let i = 0; i < 5; i++) {
      history.appendDrafts([draft(`m${i}`)], ts);
      vi.advanceTimersByTime(RETRY_MS);
    }
    expect(history.transcriptsBehind()).toEqual([1]);
    expect(lines.filter((l) => l.level === 'error')).toHaveLength(1);
    fs.rmSync(fileOf(dir));
    vi.advanceTimersByTime(RETRY_MS);
    expect(transcriptIds(dir)).toEqual([1, 2, 3, 4, 5]);
    expect(lines.filter((l) => l.level === 'warn')).toHaveLength(1);
  });

  it('starts with a transcript it cannot write and repairs it once it can', () => {
    vi.useFakeTimers();
    const dir = tempDir();
    service(dir).appendDrafts([draft('a'), draft('b')], ts);
    open.pop()!.close();
    fs.rmSync(fileOf(dir));
    fs.mkdirSync(fileOf(dir));

    const history = service(dir);
    expect(history.recoverTranscripts()).toEqual(new Map());
    expect(history.transcriptsBehind()).toEqual([1]);
    fs.rmdirSync(fileOf(dir));
    vi.advanceTimersByTime(RETRY_MS);
    expect(transcriptIds(dir)).toEqual([1, 2]);
  });
});

describe('transcript lines', () => {
  it('escape U+2028, U+2029 and U+0085, so that line-splitting tools see one line per message', () => {
    const dir = tempDir();
    const history = service(dir);
    const texts = ['a\u2028b', 'c\u2029d', 'e\u0085f', 'plain', '\u2028\u0085\u2029'];
    history.appendDrafts(texts.map(draft), ts);
    const raw = fs.readFileSync(fileOf(dir), 'utf8');
    expect(raw).not.toMatch(/[\u2028\u2029\u0085]/);
    expect(raw).toContain('a\\u2028b');
    expect(raw).toContain('e\\u0085f');
    // what a line splitter that knows every Unicode line break sees
    const lines = raw.split(/\r\n|[\n\v\f\r\u0085\u2028\u2029]/).filter(Boolean);
    expect(lines.map((line) => JSON.parse(line) as unknown)).toEqual(
      asTranscript(history.messages({ serverId: 1, limit: 100 }) as Message[]),
    );
  });
});
