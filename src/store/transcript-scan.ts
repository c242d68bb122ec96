import fs from 'node:fs';
import { runSteps } from './file-steps.ts';
import type { FileSteps } from './file-steps.ts';
import { idOfLine } from './transcript-line.ts';

/** How much of a file is read at a time when it is searched from its end. */
export const CHUNK = 64 * 1024;

/** Position of the last '\n' strictly before `end`, or -1. */
export function findLastNewline(fd: number, end: number): number {
  const buffer = Buffer.alloc(CHUNK);
  let position = end;
  while (position > 0) {
    const start = Math.max(0, position - CHUNK);
    const length = position - start;
    readFully(fd, buffer, length, start);
    const index = buffer.subarray(0, length).lastIndexOf(0x0a);
    if (index !== -1) return start + index;
    position = start;
  }
  return -1;
}

/**
 * The byte offset of the first line whose id is `fromId` or more, among the complete lines that
 * end at `end` (just after a newline, or 0); `end` when every line's id is below `fromId`. The
 * file is read backwards from `end`, a chunk at a time, and only as far as needed: recent
 * messages are the ones edited most. Throws on a line that is not an entry (a file edited by
 * hand): where it belongs cannot be told.
 */
export function offsetOfId(fd: number, end: number, fromId: number, file: string): number {
  return runSteps(seekId(fd, end, fromId, file));
}

/** Lines read between two steps of `seekId`. */
const LINES_PER_STEP = 2000;

/** `offsetOfId` in steps. */
export function* seekId(fd: number, end: number, fromId: number, file: string): FileSteps<number> {
  let offset = end;
  let read = 0;
  for (const { start, line } of linesBackward(fd, end)) {
    const id = idOfLine(line);
    if (id === undefined) {
      throw new Error(`${file}: a line at byte ${start} is not a message: ${preview(line)}`);
    }
    if (id < fromId) break;
    offset = start;
    if (++read % LINES_PER_STEP === 0) yield;
  }
  return offset;
}

/** The complete lines before `end` (just after a newline), last first, without their newline. */
export function* linesBackward(
  fd: number,
  end: number,
): Generator<{ start: number; line: Buffer }> {
  // `rest`: the bytes from `position` to the end of the line being read, not yet given out
  let rest = Buffer.alloc(0);
  let position = end;
  while (position > 0) {
    const start = Math.max(0, position - CHUNK);
    const chunk = Buffer.alloc(position - start);
    readFully(fd, chunk, chunk.length, start);
    const data = rest.length > 0 ? Buffer.concat([chunk, rest]) : chunk;
    // data spans [start, start + data.length) and ends with the newline of a line
    let lineEnd = data.length;
    for (;;) {
      // a negative offset would count from the end of the buffer
      const newline = lineEnd >= 2 ? data.lastIndexOf(0x0a, lineEnd - 2) : -1;
      if (newline === -1) break;
      yield { start: start + newline + 1, line: data.subarray(newline + 1, lineEnd - 1) };
      lineEnd = newline + 1;
    }
    rest = data.subarray(0, lineEnd);
    position = start;
  }
  if (rest.length > 0) yield { start: 0, line: rest.subarray(0, rest.length - 1) };
}

/** Reads `length` bytes at `position` into the start of `buffer` (a short read is read on). */
export function readFully(fd: number, buffer: Buffer, length: number, position: number): void {
  for (let done = 0; done < length;) {
    const read = fs.readSync(fd, buffer, done, length - done, position + done);
    if (read === 0) throw new Error(`unexpected end of file at byte ${position + done}`);
    done += read;
  }
}

/** Writes all of `buffer` at `position` (a short write is written on). */
export function writeFully(fd: number, buffer: Buffer, position: number): void {
  for (let done = 0; done < buffer.length;) {
    done += fs.writeSync(fd, buffer, done, buffer.length - done, position + done);
  }
}

export function preview(line: Buffer): string {
  return line.subarray(0, 200).toString('utf8');
}
