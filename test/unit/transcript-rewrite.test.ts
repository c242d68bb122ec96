/**
 * CONTRACT, "Edit and delete" → "Transcript": an edit or delete rewrites the room's transcript
 * from that line to its end; a line is the entry without seq, quote, mentions, mention_room,
 * reactions; a deleted message's line is its tombstone. Real files and a real SQLite source.
 */
import fs from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { transcriptLine } from '../../src/store/transcript.ts';
import type { TranscriptEntry } from '../../src/store/transcript.ts';
import { tempDir } from '../helpers/chat-server.ts';
import {
  EDITED_AT,
  openTranscripts,
  readTranscriptFile,
  transcriptProblem,
  TS,
} from '../helpers/transcript-source.ts';

const opened: Array<ReturnType<typeof openTranscripts>> = [];
afterEach(() => {
  vi.useRealTimers();
  for (const { sync, store, source } of opened.splice(0)) {
    sync.close();
    store.close();
    source.close();
  }
});

function setup(options: Parameters<typeof openTranscripts>[1] = {}) {
  const opened1 = openTranscripts(tempDir(), options);
  opened.push(opened1);
  return opened1;
}

/** Stores `count` messages in room 1 and appends them, as the history service does. */
function fill(t: ReturnType<typeof setup>, count: number, serverId = 1) {
  const texts = Array.from({ length: count }, (_, i) => ({ serverId, text: `message ${i + 1}` }));
  t.sync.append(t.source.insert(texts));
}

const ok = (t: ReturnType<typeof setup>, serverId = 1) =>
  expect(transcriptProblem(t.store, t.source, serverId)).toBeUndefined();

describe('transcript lines', () => {
  it('keep a plain message byte for byte as before edits existed', () => {
    const m = { id: 7, server_id: 2, username: 'bob', text: 'hi "there"\u2028', ts: TS };
    const before = JSON.stringify(m).replace('\u2028', '\\u2028') + '\n';
    expect(transcriptLine(m)).toBe(before);
  });

  it('hold exactly the transcript fields, in order, whatever else the object carries', () => {
    const rest = {
      id: 9,
      server_id: 1,
      username: 'alice',
      text: 'edited',
      ts: TS,
      edited_at: EDITED_AT,
      reply_to: 4,
    };
    const fat = {
      reactions: [{ emoji: '👍', count: 1, users: ['bob'] }],
      seq: 12,
      quote: { username: 'bob', text: 'q' },
      mentions: ['bob'],
      mention_room: true,
      ...rest,
    } as TranscriptEntry;
    expect(transcriptLine(fat)).toBe(
      `{"id":9,"server_id":1,"username":"alice","text":"edited","ts":"${TS}",` +
        `"edited_at":"${EDITED_AT}","reply_to":4}\n`,
    );
  });

  it('of a deleted message is its tombstone, without text', () => {
    const tombstone = { id: 3, server_id: 1, username: 'alice', ts: TS, deleted: true as const };
    const withText = { ...tombstone, text: 'secret', seq: 8 } as TranscriptEntry;
    const line = `{"id":3,"server_id":1,"username":"alice","ts":"${TS}","deleted":true}\n`;
    expect(transcriptLine(tombstone)).toBe(line);
    expect(transcriptLine(withText)).toBe(line);
  });
});

describe('TranscriptStore.rewriteFrom', () => {
  it('rewrites from a line in the middle to the end, leaving the lines before byte for byte', () => {
    const t = setup();
    fill(t, 10);
    const before = readTranscriptFile(t.store, 1);
    t.source.edit(5, 'five, edited and longer than before');
    t.source.delete(7);
    const result = t.store.rewriteFrom(1, 5, t.source.readFrom(1, 5, 100));
    expect(result).toEqual({ lines: 6, lastId: 10 });
    ok(t);
    const after = readTranscriptFile(t.store, 1);
    const head = before.split('\n').slice(0, 4).join('\n');
    expect(after.startsWith(head + '\n')).toBe(true);
    expect(after).toContain(
      `{"id":7,"server_id":1,"username":"alice","ts":"${TS}","deleted":true}`,
    );
    expect(fs.existsSync(`${t.store.fileFor(1)}.rewrite`)).toBe(false);
  });

  it('rewrites the last line, shorter', () => {
    const t = setup();
    fill(t, 3);
    t.source.edit(3, 'x');
    t.store.rewriteFrom(1, 3, t.source.readFrom(1, 3, 100));
    ok(t);
  });

  it('appends when the id is past the end, and replaces a torn last line', () => {
    const t = setup();
    fill(t, 3);
    t.source.insert([
      { serverId: 1, text: 'four' },
      { serverId: 1, text: 'five' },
    ]);
    fs.appendFileSync(t.store.fileFor(1), '{"id":4,"server_id":1,"us'); // torn by a crash
    expect(t.store.rewriteFrom(1, 4, t.source.readFrom(1, 4, 100))).toEqual({
      lines: 2,
      lastId: 5,
    });
    ok(t);
  });

  it('rewrites a room from its first line, and a room with no file yet', () => {
    const t = setup();
    fill(t, 4);
    t.source.edit(1, 'first, edited');
    t.store.rewriteFrom(1, 1, t.source.readFrom(1, 1, 100));
    ok(t);
    t.source.insert([{ serverId: 2, text: 'elsewhere', replyTo: 1 }]);
    t.store.rewriteFrom(2, 1, t.source.readFrom(2, 1, 100));
    ok(t, 2);
  });

  it('finds the line across chunk boundaries, with lines longer than a chunk', () => {
    const t = setup();
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const sizes = Array.from({ length: 60 }, () =>
      random() < 0.2 ? 60_000 + Math.floor(random() * 20_000) : 1 + Math.floor(random() * 3000),
    );
    t.sync.append(t.source.insert(sizes.map((n) => ({ serverId: 1, text: 'é'.repeat(n) }))));
    for (const id of [60, 1, 33, 17, 59, 2, 45]) {
      t.source.edit(id, `edited ${id}`);
      t.store.rewriteFrom(1, id, t.source.readFrom(1, id, 1000));
      ok(t);
    }
  });

  it('refuses entries out of order or of another room, and leaves the transcript as it was', () => {
    const t = setup();
    fill(t, 3);
    const before = readTranscriptFile(t.store, 1);
    const [one, two] = t.source.readFrom(1, 1, 2) as [TranscriptEntry, TranscriptEntry];
    expect(() => t.store.rewriteFrom(1, 1, [two, one])).toThrow(/follows/);
    expect(() => t.store.rewriteFrom(1, 2, [one])).toThrow(/follows/);
    expect(() => t.store.rewriteFrom(2, 1, [one])).toThrow(/room 1/);
    expect(readTranscriptFile(t.store, 1)).toBe(before);
  });
});

describe('TranscriptSync.rewrite', () => {
  it('merges rewrites of a room within the delay into one, from the smallest id', async () => {
    vi.useFakeTimers();
    const t = setup({ rewriteDelayMs: 1000 });
    fill(t, 10);
    const rewrites = vi.spyOn(t.store, 'rewriteStepwise');
    for (const id of [8, 4, 6]) {
      t.source.edit(id, `edited ${id}`);
      t.sync.rewrite(1, id);
    }
    expect(transcriptProblem(t.store, t.source, 1)).toMatch(/line 4 is/);
    vi.advanceTimersByTime(999);
    expect(rewrites).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    await t.sync.settled();
    expect(rewrites).toHaveBeenCalledTimes(1);
    expect(rewrites.mock.calls[0]![1]).toBe(4);
    ok(t);
    expect(t.sync.pendingRewrites()).toEqual([]);
  });

  it('keeps appends in order, each id once, while a rewrite is pending and after it', async () => {
    vi.useFakeTimers();
    const t = setup({ rewriteDelayMs: 1000 });
    fill(t, 5);
    t.source.edit(2, 'two, edited');
    t.sync.rewrite(1, 2);
    // new messages appear at once, before the pending rewrite is done
    fill(t, 2);
    expect(readTranscriptFile(t.store, 1)).toContain('"id":7');
    t.source.delete(7);
    t.sync.rewrite(1, 7);
    const late = t.source.insert([{ serverId: 1, text: 'committed before the rewrite' }]);
    vi.advanceTimersByTime(1000);
    await t.sync.settled();
    ok(t);
    // appended after the rewrite read it from storage: already there, not written twice
    t.sync.append(late);
    fill(t, 1);
    ok(t);
  });

  it('keeps other rooms apart', async () => {
    vi.useFakeTimers();
    const t = setup({ rewriteDelayMs: 50 });
    fill(t, 3, 1);
    fill(t, 3, 2);
    t.source.edit(2, 'room one, edited');
    t.source.edit(5, 'room two, edited');
    t.sync.rewrite(1, 2);
    t.sync.rewrite(2, 5);
    vi.advanceTimersByTime(50);
    await t.sync.settled();
    ok(t, 1);
    ok(t, 2);
  });

  it('does a pending rewrite at close', () => {
    const t = setup({ rewriteDelayMs: 60_000 });
    fill(t, 3);
    t.source.edit(1, 'edited just before the stop');
    t.sync.rewrite(1, 1);
    t.sync.close();
    ok(t);
  });

  it('leaves a marker that the next start redoes, when the process dies before the rewrite', () => {
    const dir = tempDir();
    const first = openTranscripts(dir, { rewriteDelayMs: 60_000 });
    first.sync.append(
      first.source.insert([
        { serverId: 1, text: 'a' },
        { serverId: 1, text: 'b' },
      ]),
    );
    first.sync.rewrite(1, 1); // before the commit, as the sync asks
    first.source.edit(1, 'a, edited');
    // killed here: nothing closed, nothing flushed
    first.store.close();
    first.source.close();
    const second = openTranscripts(dir);
    opened.push(second);
    expect(second.sync.recover([1])).toEqual(new Map([[1, 2]]));
    ok(second);
    expect(fs.existsSync(`${second.store.fileFor(1)}.rewrite`)).toBe(false);
  });

  it('falls behind when the transcript cannot be written, and rewrites once it can', () => {
    vi.useFakeTimers();
    const errors: string[] = [];
    const log = { error: (_: object, m: string) => errors.push(m), warn() {}, debug() {} };
    const t = setup({ rewriteDelayMs: 10, retryMs: 1000, log });
    fill(t, 3);
    const file = t.store.fileFor(1);
    fs.renameSync(file, `${file}.saved`);
    fs.mkdirSync(file); // the transcript's path is taken: opening it fails
    t.source.edit(2, 'edited while the disk is broken');
    t.sync.rewrite(1, 2);
    vi.advanceTimersByTime(10);
    expect(t.sync.behindRooms()).toEqual([1]);
    expect(errors).toHaveLength(1);
    fill(t, 2); // the room is behind: not appended
    vi.advanceTimersByTime(1000);
    expect(t.sync.behindRooms()).toEqual([1]);
    fs.rmdirSync(file);
    fs.renameSync(`${file}.saved`, file);
    vi.advanceTimersByTime(1000);
    expect(t.sync.behindRooms()).toEqual([]);
    ok(t);
    expect(t.sync.pendingRewrites()).toEqual([]);
  });
});

describe('TranscriptSync, rewrites of big rooms step by step', () => {
  /** Messages enough for a rewrite of many steps (a step writes 1000 lines, copies 256 KiB). */
  const BIG = 6000;

  /**
   * One turn of traffic while a rewrite runs: a new message, or an edit or delete of an earlier
   * or later message than the rewrite's (asked for before its commit, as the service does).
   */
  function traffic(t: ReturnType<typeof setup>, turn: number) {
    if (turn % 3 === 0) fill(t, 1 + (turn % 4));
    else {
      const ids = t.source.ids(1);
      const id = ids[(turn * 7919) % ids.length]!;
      t.sync.rewrite(1, id);
      if (turn % 5 === 0) t.source.delete(id);
      else t.source.edit(id, `edited on turn ${turn}`);
    }
  }

  it('lets the event loop run between steps, and keeps messages, edits and deletes made meanwhile', async () => {
    const t = setup({ rewriteDelayMs: 0 });
    fill(t, BIG);
    t.sync.rewrite(1, 1);
    t.source.edit(1, 'the first message, edited');
    // The rewrite has started once the timer of 0 ms ran; from then every turn brings traffic.
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(t.sync.runningRewrites()).toEqual([1]);
    let turns = 0;
    for (; turns < 1000 && t.sync.runningRewrites().length > 0; turns++) {
      await new Promise((resolve) => setImmediate(resolve));
      traffic(t, turns);
    }
    // a rewrite of BIG lines written, hashed and copied in one turn would leave no turn between
    expect(turns).toBeGreaterThan(10);
    await t.sync.settled();
    ok(t);
    expect(fs.existsSync(`${t.store.fileFor(1)}.rewrite`)).toBe(false);
  });

  it('finishes at close a rewrite stopped in any of its steps, with the transcript whole', async () => {
    for (const stopAfter of [1, 3, 8, 20, 40]) {
      const t = setup({ rewriteDelayMs: 0 });
      fill(t, BIG);
      t.sync.rewrite(1, 2);
      t.source.delete(2);
      await new Promise((resolve) => setTimeout(resolve, 0));
      for (let turn = 0; turn < stopAfter; turn++) {
        await new Promise((resolve) => setImmediate(resolve));
        traffic(t, turn);
      }
      t.sync.close();
      ok(t);
      expect(fs.existsSync(`${t.store.fileFor(1)}.rewrite`)).toBe(false);
      // the stopped rewrite's steps, resumed after the close, write nothing more
      await new Promise((resolve) => setTimeout(resolve, 20));
      ok(t);
    }
  });
});
