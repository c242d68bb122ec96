import fs from 'node:fs';
import path from 'node:path';
import type { Message } from '../domain/message.ts';

const CHUNK = 64 * 1024;

/**
 * The per-room JSONL transcripts, `server_{id}_history.jsonl`: one message per line, in id order,
 * each message once. They are written after the SQLite commit, so SQLite is the source of truth:
 * at start, `recover` drops a torn last line and appends what the database has past the
 * transcript's last id (see README, "Crash recovery").
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
  appendRoom(serverId: number, messages: readonly Message[]): void {
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
    readAfter: (afterId: number) => Message[],
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

const LINE_BREAKS = /[\u0085\u2028\u2029]/g;

/**
 * One transcript line: the message as REST shows it, and a newline. U+2028, U+2029 and U+0085 are
 * legal raw in JSON but are line breaks to many line-splitting tools: they are escaped, so that
 * every tool sees one line per message (parsed, the line is the same message).
 */
export function transcriptLine(m: Message): string {
  const json = JSON.stringify({
    id: m.id,
    server_id: m.server_id,
    username: m.username,
    text: m.text,
    ts: m.ts,
  });
  return (
    json.replace(LINE_BREAKS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) + '\n'
  );
}

/** Messages grouped by room, each room's in the order given. */
export function byRoom(messages: readonly Message[]): Map<number, Message[]> {
  const rooms = new Map<number, Message[]>();
  for (const m of messages) {
    let list = rooms.get(m.server_id);
    if (!list) rooms.set(m.server_id, (list = []));
    list.push(m);
  }
  return rooms;
}

/** Position of the last '\n' strictly before `end`, or -1. */
function findLastNewline(fd: number, end: number): number {
  const buffer = Buffer.alloc(CHUNK);
  let position = end;
  while (position > 0) {
    const start = Math.max(0, position - CHUNK);
    const length = position - start;
    fs.readSync(fd, buffer, 0, length, start);
    const index = buffer.subarray(0, length).lastIndexOf(0x0a);
    if (index !== -1) return start + index;
    position = start;
  }
  return -1;
}
