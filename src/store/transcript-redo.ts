import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { runSteps } from './file-steps.ts';
import type { FileSteps } from './file-steps.ts';
import { CHUNK, readFully, writeFully } from './transcript-scan.ts';

/**
 * The redo file of a transcript rewrite, `server_{id}_history.jsonl.rewrite` (CONTRACT,
 * "Transcript"): a header line of a fixed size, so that it can be rewritten in place, then the new
 * bytes of the transcript from `offset` on. The header is JSON padded with spaces:
 * - `{"from_id"}` alone: a *marker*. A rewrite of the room from that id was asked for and is not
 *   on disk yet (or its bytes were torn by a crash): it must be redone from storage.
 * - with `offset`, `length` (the transcript's new length), `bytes` and `sha256` of the bytes
 *   after the header: *complete* once the bytes are all there and hash to `sha256`; then it can
 *   be applied, again and again (writing the same bytes at the same offset and truncating to the
 *   same length is idempotent). `pending`: the smallest id of rewrites asked for after it was
 *   made, still to be redone from storage once it is applied.
 */
export const HEADER_BYTES = 256;

export interface Redo {
  from_id: number;
  offset: number;
  length: number;
  bytes: number;
  sha256: string;
  pending?: number;
}

type Header = { from_id: number } | Redo;

/** What a redo file on disk says. `fromId` 0: the whole room must be redone. */
export type RedoState = { kind: 'complete'; redo: Redo } | { kind: 'torn'; fromId: number };

export function redoFileOf(transcript: string): string {
  return `${transcript}.rewrite`;
}

/**
 * Records that a rewrite of the room from `fromId` is asked for: the marker's `from_id` (or a
 * complete redo's `pending`) becomes at most `fromId`. Only the header is written, in place: a
 * redo being written stepwise after it keeps its bytes. Not fsynced: like the transcript's
 * appends, it survives the process being killed; a power loss is SQLite's own limit too.
 */
export function markRedo(file: string, fromId: number): void {
  const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o666);
  try {
    const header = readHeader(fd);
    if (header && 'sha256' in header) {
      // A complete redo is waiting to be applied (or is being applied): keep it.
      const pending = Math.min(header.pending ?? fromId, fromId);
      if (pending !== header.pending) writeFully(fd, encodeHeader({ ...header, pending }), 0);
      return;
    }
    const from = Math.min(startOf(header, fromId), fromId);
    writeFully(fd, encodeHeader({ from_id: from }), 0);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Writes the redo file of a rewrite: the bytes of lines given to `write`, which go at `offset`,
 * then a complete header (`complete`). Until then the file is a marker: torn by a crash, it is
 * redone from storage. Opening it throws if a complete redo is there (it must be applied first).
 * The caller fsyncs `fd` and the directory before applying it.
 */
export class RedoWriter {
  private readonly hash = crypto.createHash('sha256');
  private bytes = 0;
  private pieces: Buffer[] = [];
  private buffered = 0;
  private readonly markedFrom: number;
  readonly fd: number;

  constructor(
    readonly file: string,
    private readonly fromId: number,
    private readonly offset: number,
  ) {
    this.fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o666);
    try {
      const before = readHeader(this.fd);
      if (before && 'sha256' in before) {
        throw new Error(`${file}: a complete rewrite is waiting to be applied`);
      }
      this.markedFrom = startOf(before, fromId);
      writeFully(this.fd, encodeHeader({ from_id: Math.min(this.markedFrom, fromId) }), 0);
      fs.ftruncateSync(this.fd, HEADER_BYTES);
    } catch (error) {
      fs.closeSync(this.fd);
      throw error;
    }
  }

  write(line: string): void {
    const piece = Buffer.from(line, 'utf8');
    this.pieces.push(piece);
    this.buffered += piece.length;
    if (this.buffered >= 4 * CHUNK) this.flush();
  }

  /**
   * Writes the rest of the bytes and the complete header. `askedSince`: the smallest id of
   * rewrites asked for while this one was written (they may not be in its bytes): kept as
   * `pending`, like a marker that asked for more than this rewrite does.
   */
  complete(askedSince?: number): Redo {
    this.flush();
    const redo: Redo = {
      from_id: this.fromId,
      offset: this.offset,
      length: this.offset + this.bytes,
      bytes: this.bytes,
      sha256: this.hash.digest('hex'),
    };
    const pending = Math.min(
      this.markedFrom < this.fromId ? this.markedFrom : Infinity,
      askedSince ?? Infinity,
    );
    if (pending !== Infinity) redo.pending = pending;
    writeFully(this.fd, encodeHeader(redo), 0);
    return redo;
  }

  close(): void {
    fs.closeSync(this.fd);
  }

  private flush(): void {
    const buffer = Buffer.concat(this.pieces, this.buffered);
    writeFully(this.fd, buffer, HEADER_BYTES + this.bytes);
    this.hash.update(buffer);
    this.bytes += buffer.length;
    this.pieces = [];
    this.buffered = 0;
  }
}

/**
 * Writes the redo file of a rewrite at once (`RedoWriter`), fsynced with its directory. A marker
 * there before is kept as `pending` if it asks for more than this rewrite does.
 */
export function writeRedo(
  file: string,
  fromId: number,
  offset: number,
  lines: Iterable<string>,
): Redo {
  const writer = new RedoWriter(file, fromId, offset);
  let redo: Redo;
  try {
    for (const line of lines) writer.write(line);
    redo = writer.complete();
    fs.fsyncSync(writer.fd);
  } finally {
    writer.close();
  }
  // A new file's name is durable only once its directory is synced: the transcript is about to be
  // overwritten, and after a power loss the redo file must be there to finish the job.
  fsyncDirectory(path.dirname(file));
  return redo;
}

/** What the redo file says, its bytes checked against the header; undefined when there is none. */
export function readRedo(file: string): RedoState | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const header = readHeader(fd);
    // An empty file: a crash came between creating and writing it; what it was for is unknown.
    if (!header) return { kind: 'torn', fromId: 0 };
    if (!('sha256' in header)) return { kind: 'torn', fromId: header.from_id };
    const whole =
      fs.fstatSync(fd).size === HEADER_BYTES + header.bytes &&
      header.length === header.offset + header.bytes &&
      bodyHash(fd, header.bytes) === header.sha256;
    if (whole) return { kind: 'complete', redo: header };
    return { kind: 'torn', fromId: Math.min(header.from_id, header.pending ?? Infinity) };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Writes a complete redo's bytes over the transcript at its offset, truncates the transcript to
 * its length and fsyncs it. Throws when the transcript is shorter than the offset (then the redo
 * cannot be applied: the room must be rebuilt).
 */
export function applyRedo(file: string, redo: Redo, transcript: string): void {
  runSteps(applySteps(file, redo, transcript));
}

/** `applyRedo` in steps, one per chunk copied. */
export function* applySteps(file: string, redo: Redo, transcript: string): FileSteps<void> {
  const source = fs.openSync(file, 'r');
  let target: number | undefined;
  try {
    target = fs.openSync(transcript, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o666);
    if (fs.fstatSync(target).size < redo.offset) throw new TranscriptTooShort(transcript);
    const buffer = Buffer.alloc(4 * CHUNK);
    for (let done = 0; done < redo.bytes;) {
      const length = Math.min(buffer.length, redo.bytes - done);
      readFully(source, buffer, length, HEADER_BYTES + done);
      writeFully(target, buffer.subarray(0, length), redo.offset + done);
      done += length;
      yield;
    }
    fs.ftruncateSync(target, redo.length);
    yield { fsync: target };
  } finally {
    if (target !== undefined) fs.closeSync(target);
    fs.closeSync(source);
  }
}

/**
 * Ends a redo once applied: it is removed, or, when rewrites were asked for after it was made
 * (its header's `pending`), becomes their marker.
 */
export function finishRedo(file: string): void {
  // Read again: rewrites asked for while it was applied are in the header only.
  const pending = pendingOf(file);
  if (pending !== undefined) {
    replaceWithMarker(file, pending);
    return;
  }
  fs.rmSync(file, { force: true });
  // Synced, so that the removal survives a power loss: a stale redo file that came back would
  // be applied again over later changes and undo them.
  fsyncDirectory(path.dirname(file));
}

/** Drops whatever the redo file holds and leaves a marker asking for a rewrite from `fromId`. */
export function replaceWithMarker(file: string, fromId: number): void {
  const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o666);
  try {
    writeFully(fd, encodeHeader({ from_id: fromId }), 0);
    fs.ftruncateSync(fd, HEADER_BYTES);
  } finally {
    fs.closeSync(fd);
  }
}

export class TranscriptTooShort extends Error {
  override readonly name = 'TranscriptTooShort';
  constructor(transcript: string) {
    super(`${transcript} is shorter than the offset of its rewrite`);
  }
}

function pendingOf(file: string): number | undefined {
  const fd = fs.openSync(file, 'r');
  try {
    const header = readHeader(fd);
    return header && 'sha256' in header ? header.pending : undefined;
  } finally {
    fs.closeSync(fd);
  }
}

function encodeHeader(header: Header): Buffer {
  // JSON of numbers and a hex digest: ASCII, so characters are bytes
  const json = JSON.stringify(header);
  if (json.length >= HEADER_BYTES) throw new Error(`rewrite header too long: ${json}`);
  return Buffer.from(json.padEnd(HEADER_BYTES - 1, ' ') + '\n', 'latin1');
}

/** The header; undefined when the file is empty, null when its header is torn or not one. */
function readHeader(fd: number): Header | undefined | null {
  const size = fs.fstatSync(fd).size;
  if (size === 0) return undefined;
  if (size < HEADER_BYTES) return null;
  const buffer = Buffer.alloc(HEADER_BYTES);
  readFully(fd, buffer, HEADER_BYTES, 0);
  let parsed: unknown;
  try {
    parsed = JSON.parse(buffer.toString('latin1'));
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const h = parsed as Record<string, unknown>;
  if (!isId(h.from_id)) return null;
  if (h.sha256 === undefined) return { from_id: h.from_id };
  const complete =
    isId(h.offset) &&
    isId(h.length) &&
    isId(h.bytes) &&
    typeof h.sha256 === 'string' &&
    (h.pending === undefined || isId(h.pending));
  if (!complete) return null;
  const redo: Redo = {
    from_id: h.from_id,
    offset: h.offset as number,
    length: h.length as number,
    bytes: h.bytes as number,
    sha256: h.sha256 as string,
  };
  if (h.pending !== undefined) redo.pending = h.pending as number;
  return redo;
}

/**
 * Where a marker already there asks the rewrite to start: `fromId` when there is none (the file
 * was just made), 0 (the whole room) when its header is unreadable.
 */
function startOf(header: Header | undefined | null, fromId: number): number {
  if (header === undefined) return fromId;
  return header === null ? 0 : header.from_id;
}

function isId(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function bodyHash(fd: number, bytes: number): string {
  const hash = crypto.createHash('sha256');
  const buffer = Buffer.alloc(4 * CHUNK);
  for (let done = 0; done < bytes;) {
    const length = Math.min(buffer.length, bytes - done);
    readFully(fd, buffer, length, HEADER_BYTES + done);
    hash.update(buffer.subarray(0, length));
    done += length;
  }
  return hash.digest('hex');
}

export function fsyncDirectory(dir: string): void {
  runSteps(syncDirectorySteps(dir));
}

export function* syncDirectorySteps(dir: string): FileSteps<void> {
  const fd = fs.openSync(dir, 'r');
  try {
    yield { fsync: fd };
  } finally {
    fs.closeSync(fd);
  }
}
