import fs from 'node:fs';
import path from 'node:path';
import { transcriptLine } from './transcript-line.ts';
import type { TranscriptEntry } from './transcript-line.ts';
import { runStepwise, runSteps, StepsCancelled } from './file-steps.ts';
import type { FileSteps } from './file-steps.ts';
import {
  applyRedo,
  applySteps,
  finishRedo,
  markRedo,
  readRedo,
  RedoWriter,
  redoFileOf,
  replaceWithMarker,
  syncDirectorySteps,
  TranscriptTooShort,
} from './transcript-redo.ts';
import type { Redo } from './transcript-redo.ts';
import { findLastNewline, seekId } from './transcript-scan.ts';

export { transcriptLine } from './transcript-line.ts';
export type { TranscriptEntry } from './transcript-line.ts';

/** What `recoverRewrites` found for a room with a redo file. */
export interface RecoveredRewrite {
  serverId: number;
  /** A complete redo file was applied (again). */
  applied: boolean;
  /**
   * The rewrite must be redone from storage from this id on (0: the whole room): its redo file
   * was torn, or a rewrite was asked for and not written yet. Its marker stays until then.
   */
  redoFrom?: number;
}

/** What a rewrite tells the one who runs it, and asks of it. */
export interface RewriteHooks {
  /** Called in the turn the last entry was read (see `rewriteStepwise`). */
  onCaughtUp?(): void;
  /** The smallest id of rewrites of the room asked for since this one began, if any. */
  askedSince?(): number | undefined;
}

/** Entries written to the redo file between two steps of a rewrite. */
const ENTRIES_PER_STEP = 1000;

const REDO_NAME = /^server_(\d+)_history\.jsonl\.rewrite$/;

/**
 * The per-room JSONL transcripts, `server_{id}_history.jsonl`: one entry per line (a message, or
 * the tombstone of a deleted one), in id order, each id once. They are written after the SQLite
 * commit, so SQLite is the source of truth: at start, `recoverRewrites` finishes or reports
 * rewrites a crash interrupted, and `recover` drops a torn last line and appends what the
 * database has past the transcript's last id (see README, "Durability and crash recovery").
 */
export class TranscriptStore {
  private readonly fds = new Map<number, number>();

  constructor(readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true });
  }

  fileFor(serverId: number): string {
    return path.join(this.dir, `server_${serverId}_history.jsonl`);
  }

  /**
   * Appends messages of one room (in id order) in one write. When the write fails the file is
   * closed, so that the next write opens the path again (it may have been replaced meanwhile),
   * and the error is thrown: part of the lines may be written, the last one torn; `recover`
   * repairs that.
   */
  appendRoom(serverId: number, messages: readonly TranscriptEntry[]): void {
    try {
      const bytes = Buffer.from(messages.map(transcriptLine).join(''), 'utf8');
      const fd = this.fd(serverId);
      for (let done = 0; done < bytes.length;) {
        done += fs.writeSync(fd, bytes, done, bytes.length - done);
      }
    } catch (error) {
      this.forget(serverId);
      throw error;
    }
  }

  /**
   * The id of the last complete line of a room's transcript (0 when there is none). A last line
   * without its newline was torn by a crash mid-write: it is cut off here, and `recover` writes
   * it again from SQLite.
   */
  lastId(serverId: number): number {
    const file = this.fileFor(serverId);
    if (!fs.existsSync(file)) return 0;
    const fd = fs.openSync(file, 'r+');
    try {
      let size = fs.fstatSync(fd).size;
      const tail = findLastNewline(fd, size);
      if (tail !== size - 1) {
        size = tail + 1;
        fs.ftruncateSync(fd, size);
      }
      if (size === 0) return 0;
      const start = findLastNewline(fd, size - 1) + 1;
      const buffer = Buffer.alloc(size - 1 - start);
      fs.readSync(fd, buffer, 0, buffer.length, start);
      const line = buffer.toString('utf8');
      try {
        const parsed = JSON.parse(line) as { id?: unknown };
        if (typeof parsed.id === 'number') return parsed.id;
      } catch {
        // fall through: a complete line that is not a message means the file was edited by hand
      }
      throw new Error(`${file}: the last line is not a message: ${line.slice(0, 200)}`);
    } finally {
      fs.closeSync(fd);
    }
  }

  /**
   * Brings a room's transcript up to date with the store: appends, in id order, every stored
   * message past the transcript's last id, at most `maxPages` reads. Returns how many lines were
   * appended and whether the transcript is now up to date.
   */
  recover(
    serverId: number,
    readAfter: (afterId: number) => TranscriptEntry[],
    maxPages = Infinity,
  ): { appended: number; done: boolean } {
    let last = this.lastId(serverId);
    let appended = 0;
    for (let pages = 0; pages < maxPages; pages++) {
      const page = readAfter(last);
      if (page.length === 0) return { appended, done: true };
      this.appendRoom(serverId, page);
      appended += page.length;
      last = page[page.length - 1]!.id;
    }
    return { appended, done: false };
  }

  /**
   * Rewrites a room's transcript from the line of `fromId` (the first line with an id at or above
   * it) to its end with `entries`: the room's entries from `fromId` on, in id order, as storage
   * has them now. When every line is below `fromId`, this appends. Crash-safe through the redo
   * file (CONTRACT, "Transcript"): the new bytes, their offset and the new length are written and
   * fsynced there first, then over the transcript, which is truncated and fsynced; then the redo
   * file is removed. A torn last line is replaced too. Returns the lines written and the last id.
   * Throws when an entry is out of order or of another room, when the transcript holds a line
   * that is not an entry, or when writing fails (a complete redo file may then be left:
   * `recoverRewrite` applies it).
   */
  rewriteFrom(
    serverId: number,
    fromId: number,
    entries: Iterable<TranscriptEntry>,
  ): { lines: number; lastId: number } {
    try {
      return runSteps(this.rewriteSteps(serverId, fromId, entries, {}));
    } catch (error) {
      // The open descriptor may point at a replaced file; the next append opens the path again.
      this.forget(serverId);
      throw error;
    }
  }

  /**
   * `rewriteFrom` a step per turn of the event loop, for rewrites of big rooms while the server
   * runs. Meanwhile the room's new messages may be appended until `onCaughtUp` is called (in the
   * turn `entries` ran out): from then until this settles, appends would be cut off by the
   * truncation, and must wait. Rewrites asked for meanwhile (`markRewrite`) keep their marker.
   * Throws `StepsCancelled` once `cancelled()` is true: the redo file is left as it stands, a
   * marker or complete, for `recoverRewrite`.
   */
  async rewriteStepwise(
    serverId: number,
    fromId: number,
    entries: Iterable<TranscriptEntry>,
    hooks: RewriteHooks & { cancelled(): boolean },
  ): Promise<{ lines: number; lastId: number }> {
    try {
      const steps = this.rewriteSteps(serverId, fromId, entries, hooks);
      return await runStepwise(steps, () => hooks.cancelled());
    } catch (error) {
      if (!(error instanceof StepsCancelled)) this.forget(serverId);
      throw error;
    }
  }

  private *rewriteSteps(
    serverId: number,
    fromId: number,
    entries: Iterable<TranscriptEntry>,
    hooks: RewriteHooks,
  ): FileSteps<{ lines: number; lastId: number }> {
    const file = this.fileFor(serverId);
    const redoFile = redoFileOf(file);
    let offset: number;
    const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o666);
    try {
      // Complete lines end at the last newline; a torn line after it is replaced with the rest.
      const end = findLastNewline(fd, fs.fstatSync(fd).size) + 1;
      offset = yield* seekId(fd, end, fromId, file);
    } finally {
      fs.closeSync(fd);
    }
    let lines = 0;
    let lastId = fromId - 1;
    let redo: Redo;
    const writer = new RedoWriter(redoFile, fromId, offset);
    try {
      for (const entry of entries) {
        if (entry.server_id !== serverId || entry.id <= lastId) {
          throw new Error(
            `rewrite of room ${serverId} from ${fromId}: entry ${entry.id} of room ` +
              `${entry.server_id} follows ${lastId}`,
          );
        }
        lastId = entry.id;
        writer.write(transcriptLine(entry));
        if (++lines % ENTRIES_PER_STEP === 0) yield;
      }
      hooks.onCaughtUp?.();
      redo = writer.complete(hooks.askedSince?.());
      yield { fsync: writer.fd };
    } finally {
      writer.close();
    }
    // A new file's name is durable only once its directory is synced: the transcript is about to
    // be overwritten, and after a power loss the redo file must be there to finish the job.
    yield* syncDirectorySteps(path.dirname(redoFile));
    yield* applySteps(redoFile, redo, file);
    finishRedo(redoFile);
    return { lines, lastId: lines > 0 ? lastId : this.lastId(serverId) };
  }

  /**
   * Records on disk, before the rewrite is done, that the room's transcript must be rewritten
   * from `fromId`: a crash before `rewriteFrom` then leaves a marker that `recoverRewrites`
   * reports. Cheap (one small write, no fsync).
   */
  markRewrite(serverId: number, fromId: number): void {
    markRedo(redoFileOf(this.fileFor(serverId)), fromId);
  }

  /**
   * Finishes what a crash (or a failed write) left of a room's rewrite: a complete redo file is
   * applied again; a torn one is cut back to a marker and reported, to be redone from storage
   * (`redoFrom`). Undefined when the room has no redo file. Throws when the transcript cannot be
   * written (the redo file stays, for the next try).
   */
  recoverRewrite(serverId: number): RecoveredRewrite | undefined {
    const file = this.fileFor(serverId);
    const redoFile = redoFileOf(file);
    const state = readRedo(redoFile);
    if (state === undefined) return undefined;
    if (state.kind === 'torn') {
      replaceWithMarker(redoFile, state.fromId);
      return { serverId, applied: false, redoFrom: state.fromId };
    }
    try {
      applyRedo(redoFile, state.redo, file);
    } catch (error) {
      if (!(error instanceof TranscriptTooShort)) throw error;
      // The transcript lost what came before the offset (removed by hand?): rebuild the room.
      replaceWithMarker(redoFile, 0);
      return { serverId, applied: false, redoFrom: 0 };
    }
    this.forget(serverId);
    finishRedo(redoFile);
    const { pending } = state.redo;
    return pending === undefined
      ? { serverId, applied: true }
      : { serverId, applied: true, redoFrom: pending };
  }

  /**
   * `recoverRewrite` for every room with a redo file. A room whose transcript cannot be written
   * is reported with `error` (its redo file stays).
   */
  recoverRewrites(): Array<RecoveredRewrite | { serverId: number; error: unknown }> {
    const results: Array<RecoveredRewrite | { serverId: number; error: unknown }> = [];
    for (const serverId of this.roomsWithRewrite()) {
      try {
        const result = this.recoverRewrite(serverId);
        if (result) results.push(result);
      } catch (error) {
        results.push({ serverId, error });
      }
    }
    return results;
  }

  /** Rooms that have a redo file, in id order. */
  roomsWithRewrite(): number[] {
    const rooms: number[] = [];
    for (const name of fs.readdirSync(this.dir)) {
      const match = REDO_NAME.exec(name);
      if (match) rooms.push(Number(match[1]));
    }
    return rooms.sort((a, b) => a - b);
  }

  close(): void {
    for (const fd of this.fds.values()) fs.closeSync(fd);
    this.fds.clear();
  }

  private forget(serverId: number): void {
    const fd = this.fds.get(serverId);
    if (fd === undefined) return;
    this.fds.delete(serverId);
    try {
      fs.closeSync(fd);
    } catch {
      // the descriptor is dropped either way; a failing close says nothing new
    }
  }

  private fd(serverId: number): number {
    let fd = this.fds.get(serverId);
    if (fd === undefined) {
      fd = fs.openSync(this.fileFor(serverId), 'a');
      this.fds.set(serverId, fd);
    }
    return fd;
  }
}

/** Entries grouped by room, each room's in the order given. */
export function byRoom<T extends TranscriptEntry>(messages: readonly T[]): Map<number, T[]> {
  const rooms = new Map<number, T[]>();
  for (const m of messages) {
    let list = rooms.get(m.server_id);
    if (!list) rooms.set(m.server_id, (list = []));
    list.push(m);
  }
  return rooms;
}
