/**
 * CONTRACT, "Transcript": at start a complete `.rewrite` is applied again, a torn one is dropped
 * and the change redone from SQLite. The redo files here are made the way a rewrite makes them,
 * then the process "dies" at each step of it (the file left whole, torn at several lengths, the
 * transcript half overwritten or not yet truncated).
 */
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { transcriptLine } from '../../src/store/transcript.ts';
import { HEADER_BYTES, writeRedo } from '../../src/store/transcript-redo.ts';
import type { Redo } from '../../src/store/transcript-redo.ts';
import { offsetOfId } from '../../src/store/transcript-scan.ts';
import { tempDir } from '../helpers/chat-server.ts';
import { openTranscripts, transcriptProblem } from '../helpers/transcript-source.ts';

type Opened = ReturnType<typeof openTranscripts>;
const opened: Opened[] = [];
afterEach(() => {
  for (const { sync, store, source } of opened.splice(0)) {
    sync.close();
    store.close();
    source.close();
  }
});

/** Room 1 with 20 messages in storage and transcript, then messages 12 and 15 edited, 13 deleted. */
function edited(): Opened & { dir: string } {
  const dir = tempDir();
  const t = openTranscripts(dir);
  opened.push(t);
  t.sync.append(
    t.source.insert(Array.from({ length: 20 }, (_, i) => ({ serverId: 1, text: `m${i + 1}` }))),
  );
  t.source.edit(12, 'twelve, edited to something longer');
  t.source.delete(13);
  t.source.edit(15, 'f');
  return { ...t, dir };
}

/** Writes the redo file of a rewrite from `fromId`, as `rewriteFrom` does, and stops there. */
function leaveRedo(t: Opened, fromId: number): { redo: Redo; redoFile: string; body: Buffer } {
  const file = t.store.fileFor(1);
  const fd = fs.openSync(file, 'r');
  const offset = offsetOfId(fd, fs.fstatSync(fd).size, fromId, file);
  fs.closeSync(fd);
  const lines = t.source.readFrom(1, fromId, 1000).map(transcriptLine);
  const redoFile = `${file}.rewrite`;
  const redo = writeRedo(redoFile, fromId, offset, lines);
  return { redo, redoFile, body: Buffer.from(lines.join('')) };
}

/** A new process on the same directory: recovery at start, as the history service runs it. */
function restart(t: Opened & { dir: string }): Opened {
  t.store.close();
  const next = openTranscripts(t.dir);
  opened.push(next);
  next.sync.recover(next.source.rooms());
  return next;
}

const whole = (t: Opened) => {
  expect(transcriptProblem(t.store, t.source, 1)).toBeUndefined();
  expect(fs.existsSync(`${t.store.fileFor(1)}.rewrite`)).toBe(false);
};

describe('a complete redo file left by a crash', () => {
  it('is applied when the transcript was not touched yet', () => {
    const t = edited();
    const { redo } = leaveRedo(t, 12);
    expect(t.store.recoverRewrites()).toEqual([{ serverId: 1, applied: true }]);
    expect(redo.from_id).toBe(12);
    whole(t);
  });

  it('is applied over a transcript half overwritten, or overwritten and not truncated', () => {
    for (const written of [0.5, 1]) {
      const t = edited();
      const { redo, body } = leaveRedo(t, 12);
      const fd = fs.openSync(t.store.fileFor(1), 'r+');
      fs.writeSync(fd, body, 0, Math.floor(body.length * written), redo.offset);
      fs.closeSync(fd);
      whole(restart(t));
    }
  });

  it('is applied again, the same, when it was applied and not removed', () => {
    const t = edited();
    const { redoFile } = leaveRedo(t, 12);
    const saved = fs.readFileSync(redoFile);
    t.store.recoverRewrites();
    fs.writeFileSync(redoFile, saved);
    whole(restart(t));
  });

  it('is applied, then a rewrite asked for after it was made is redone from storage', () => {
    const t = edited();
    leaveRedo(t, 15);
    t.store.markRewrite(1, 12); // asked for while the complete redo waited (a write had failed)
    expect(t.store.recoverRewrites()).toEqual([{ serverId: 1, applied: true, redoFrom: 12 }]);
    whole(restart(t));
  });

  it('rebuilds the room when the transcript lost what came before the offset', () => {
    const t = edited();
    leaveRedo(t, 12);
    fs.rmSync(t.store.fileFor(1));
    expect(t.store.recoverRewrite(1)).toEqual({ serverId: 1, applied: false, redoFrom: 0 });
    whole(restart(t));
  });
});

describe('a torn redo file', () => {
  it('is dropped and the rewrite redone from storage, from the id its header names', () => {
    const t = edited();
    const { redoFile } = leaveRedo(t, 12);
    const full = fs.statSync(redoFile).size;
    const transcript = fs.readFileSync(t.store.fileFor(1));
    for (const length of [full - 1, HEADER_BYTES + 10, HEADER_BYTES]) {
      const copy = edited();
      leaveRedo(copy, 12);
      fs.truncateSync(`${copy.store.fileFor(1)}.rewrite`, length);
      expect(fs.readFileSync(copy.store.fileFor(1))).toEqual(transcript);
      expect(copy.store.recoverRewrites()).toEqual([{ serverId: 1, applied: false, redoFrom: 12 }]);
      // the torn bytes are gone; a marker stays until the rewrite is redone
      expect(fs.statSync(`${copy.store.fileFor(1)}.rewrite`).size).toBe(HEADER_BYTES);
      whole(restart(copy));
    }
  });

  it('rebuilds the whole room when even the header is torn or the file is empty', () => {
    for (const length of [HEADER_BYTES - 1, 40, 0]) {
      const t = edited();
      leaveRedo(t, 12);
      fs.truncateSync(`${t.store.fileFor(1)}.rewrite`, length);
      expect(t.store.recoverRewrite(1)).toEqual({ serverId: 1, applied: false, redoFrom: 0 });
      whole(restart(t));
    }
  });

  it('with bytes that do not match the header is torn', () => {
    const t = edited();
    const { redoFile } = leaveRedo(t, 12);
    const fd = fs.openSync(redoFile, 'r+');
    fs.writeSync(fd, 'X', HEADER_BYTES + 3);
    fs.closeSync(fd);
    expect(t.store.recoverRewrite(1)).toEqual({ serverId: 1, applied: false, redoFrom: 12 });
    whole(restart(t));
  });
});

describe('recovery at start', () => {
  it('leaves a room whose transcript cannot be written behind, redo file kept, and retries', () => {
    const t = edited();
    const { redoFile } = leaveRedo(t, 12);
    const file = t.store.fileFor(1);
    t.store.close();
    fs.renameSync(file, `${file}.saved`);
    fs.mkdirSync(file);
    const next = openTranscripts(t.dir, { retryMs: 60_000 });
    opened.push(next);
    expect(next.store.recoverRewrites()).toMatchObject([{ serverId: 1, error: expect.anything() }]);
    next.sync.recover([1]);
    expect(next.sync.behindRooms()).toEqual([1]);
    expect(fs.existsSync(redoFile)).toBe(true);
    fs.rmdirSync(file);
    fs.renameSync(`${file}.saved`, file);
    next.sync.close();
    whole(restart({ ...next, dir: t.dir }));
  });

  it('finds redo files of every room, and reports nothing when there are none', () => {
    const t = edited();
    expect(t.store.recoverRewrites()).toEqual([]);
    t.store.markRewrite(3, 40);
    t.store.markRewrite(1, 5);
    t.store.markRewrite(1, 9);
    expect(t.store.roomsWithRewrite()).toEqual([1, 3]);
    expect(t.store.recoverRewrites()).toEqual([
      { serverId: 1, applied: false, redoFrom: 5 },
      { serverId: 3, applied: false, redoFrom: 40 },
    ]);
  });
});
