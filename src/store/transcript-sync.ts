import type { Message } from '../domain/message.ts';
import { byRoom } from './transcript.ts';
import type { TranscriptStore } from './transcript.ts';

/** What transcript upkeep logs; a pino logger is one. */
export interface TranscriptLog {
  error(details: object, message: string): void;
  warn(details: object, message: string): void;
  debug(details: object, message: string): void;
}

export interface TranscriptSyncOptions {
  /** A room's stored messages after an id, in id order, one page (SQLite: the source of truth). */
  readAfter(serverId: number, afterId: number): Message[];
  log: TranscriptLog;
  /** How long a room whose transcript is behind waits before it is tried again. */
  retryMs: number;
}

/** Pages one repair step of a room writes before the event loop gets a turn. */
const PAGES_PER_STEP = 10;

/**
 * Keeps the transcripts following SQLite. Messages are appended after their commit. When a room's
 * write fails, the room is *behind*: its later messages are not appended (they would follow a
 * gap), and a timer repairs it from SQLite — every message past the transcript's last complete
 * line, in id order, each once — as soon as writing works again. Nothing flows the other way: a
 * transcript never changes SQLite. A failure is logged once per episode (from the first room
 * falling behind until every room is repaired), and the repair once at its end.
 */
export class TranscriptSync {
  private readonly behind = new Set<number>();
  private episode: { rooms: number; lines: number } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly transcripts: TranscriptStore,
    private readonly options: TranscriptSyncOptions,
  ) {}

  /** Appends committed messages; never throws (a failing room falls behind instead). */
  append(messages: readonly Message[]): void {
    for (const [serverId, list] of byRoom(messages)) {
      if (this.behind.has(serverId)) continue;
      try {
        this.transcripts.appendRoom(serverId, list);
      } catch (error) {
        this.fallBehind(serverId, error);
      }
    }
  }

  /**
   * At start: brings each room's transcript up to date (a crash may have left it torn or
   * short). A room that cannot be written falls behind. Returns the lines appended per room.
   */
  recover(serverIds: Iterable<number>): Map<number, number> {
    const appended = new Map<number, number>();
    for (const serverId of serverIds) {
      try {
        const { appended: lines } = this.repair(serverId, Infinity);
        if (lines > 0) appended.set(serverId, lines);
      } catch (error) {
        this.fallBehind(serverId, error);
      }
    }
    return appended;
  }

  /** Rooms whose transcript is behind SQLite right now. */
  behindRooms(): number[] {
    return [...this.behind];
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private repair(serverId: number, maxPages: number) {
    return this.transcripts.recover(
      serverId,
      (afterId) => this.options.readAfter(serverId, afterId),
      maxPages,
    );
  }

  private fallBehind(serverId: number, error: unknown): void {
    this.behind.add(serverId);
    if (this.episode === undefined) {
      this.episode = { rooms: 0, lines: 0 };
      this.options.log.error(
        { err: error, serverId },
        'transcript write failed; the messages are stored and delivered, and the transcript ' +
          'is repaired from the database once it can be written again',
      );
    } else {
      this.options.log.debug({ err: error, serverId }, 'another transcript write failed');
    }
    this.episode.rooms++;
    this.schedule(this.options.retryMs);
  }

  private schedule(ms: number): void {
    if (this.timer !== undefined || this.closed) return;
    this.timer = setTimeout(() => this.retry(), ms);
    this.timer.unref();
  }

  /** One repair step for every room behind. */
  private retry(): void {
    this.timer = undefined;
    let progress = false;
    for (const serverId of [...this.behind]) {
      try {
        const { appended, done } = this.repair(serverId, PAGES_PER_STEP);
        this.episode!.lines += appended;
        if (done) this.behind.delete(serverId);
        else progress = true;
      } catch {
        // still failing: tried again after the next interval; the episode was logged already
      }
    }
    if (this.behind.size > 0) {
      this.schedule(progress ? 0 : this.options.retryMs);
      return;
    }
    this.options.log.warn({ ...this.episode }, 'transcript repaired from the database');
    this.episode = undefined;
  }
}
