import { byRoom } from './transcript.ts';
import type { TranscriptEntry, TranscriptStore } from './transcript.ts';

/** What transcript upkeep logs; a pino logger is one. */
export interface TranscriptLog {
  error(details: object, message: string): void;
  warn(details: object, message: string): void;
  debug(details: object, message: string): void;
}

export interface TranscriptSyncOptions {
  /**
   * A room's stored entries from an id on, in id order, at most `limit` (fewer is fine; none:
   * there are no more): messages with their latest text, tombstones of deleted ones. SQLite, the
   * source of truth.
   */
  readFrom(serverId: number, fromId: number, limit: number): TranscriptEntry[];
  log: TranscriptLog;
  /** How long a room whose transcript is behind waits before it is tried again. */
  retryMs: number;
  /**
   * How long a rewrite waits for more of the same room to merge with (default 1 s; CONTRACT:
   * a line shows an acked change within 5 s).
   */
  rewriteDelayMs?: number;
}

/** Entries read from storage at a time. */
const TRANSCRIPT_PAGE = 1000;

/** Pages one repair step of a room appends before the event loop gets a turn. */
const PAGES_PER_STEP = 10;

/**
 * Keeps the transcripts following SQLite. Messages are appended after their commit. An edit or a
 * delete asks for a *rewrite* of the room's transcript from the changed message's line to its
 * end; rewrites of a room asked for within `rewriteDelayMs` are merged into one, from the
 * smallest id. A rewrite reads the room's entries from storage from that id to the newest, so it
 * also covers every message appended meanwhile (they keep being appended as they come, so new
 * messages show at once; the rewrite writes their lines again, the same bytes unless changed).
 *
 * When a room's write fails, the room is *behind*: its later messages are not appended (they
 * would follow a gap), and a timer repairs it from SQLite as soon as writing works again: a
 * rewrite left on disk is finished, a pending one is done, else every entry past the
 * transcript's last complete line is appended, in id order, each once. Nothing flows the other
 * way: a transcript never changes SQLite. A failure is logged once per episode (from the first
 * room falling behind until every room is repaired), and the repair once at its end.
 */
export class TranscriptSync {
  private readonly behind = new Set<number>();
  /** Rooms with a rewrite asked for and not done: the smallest id to rewrite from. */
  private readonly pending = new Map<number, number>();
  /**
   * The last id each room's latest rewrite wrote: a later `append` of ids up to it (committed
   * before the rewrite read storage, appended after it) is already in the transcript.
   */
  private readonly rewrittenTo = new Map<number, number>();
  /**
   * Rewrites running step by step (a room's at a time), and whether each must stop (at close).
   * A rewrite that reached the newest entry puts its room in `holding`: appends then wait (they
   * would be cut off by the rewrite's truncation) and are made from storage once it is done.
   */
  private readonly running = new Map<number, { cancelled: boolean; done: Promise<void> }>();
  private readonly holding = new Set<number>();
  private rewriteTimer: NodeJS.Timeout | undefined;
  private episode: { rooms: number; lines: number } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly transcripts: TranscriptStore,
    private readonly options: TranscriptSyncOptions,
  ) {}

  /** Appends committed entries; never throws (a failing room falls behind instead). */
  append(entries: readonly TranscriptEntry[]): void {
    for (const [serverId, list] of byRoom(entries)) {
      if (this.behind.has(serverId) || this.holding.has(serverId)) continue;
      const covered = this.rewrittenTo.get(serverId);
      const fresh = covered === undefined ? list : list.filter((entry) => entry.id > covered);
      if (fresh.length === 0) continue;
      try {
        this.transcripts.appendRoom(serverId, fresh);
      } catch (error) {
        this.fallBehind(serverId, error);
      }
    }
  }

  /**
   * Asks for the room's transcript to be rewritten from `fromId` (an edited or deleted message)
   * within `rewriteDelayMs`. Call it in the same turn as the SQLite transaction of the change:
   * after its commit, or, safer, before it: then the marker it leaves on disk is there before
   * the commit, and no crash between the two can lose the change (a change that is then refused
   * costs a rewrite of the same bytes). Never throws: a room that cannot be written falls behind.
   */
  rewrite(serverId: number, fromId: number): void {
    const pending = this.pending.get(serverId);
    if (pending !== undefined && pending <= fromId) return;
    this.pending.set(serverId, fromId);
    try {
      this.transcripts.markRewrite(serverId, fromId);
    } catch (error) {
      this.fallBehind(serverId, error);
      return;
    }
    if (!this.behind.has(serverId)) this.scheduleRewrites();
  }

  /** Rooms with a rewrite running step by step. */
  runningRewrites(): number[] {
    return [...this.running.keys()];
  }

  /** Resolves once no rewrite is running or waiting (tests and benchmarks await it). */
  async settled(): Promise<void> {
    while (this.running.size > 0 || (this.rewriteTimer !== undefined && this.pending.size > 0)) {
      await Promise.all([...this.running.values()].map((run) => run.done));
      if (this.running.size === 0 && this.pending.size > 0 && this.rewriteTimer !== undefined) {
        await new Promise((resolve) => setTimeout(resolve, this.options.rewriteDelayMs ?? 1000));
      }
    }
  }

  /**
   * At start: finishes the rewrites a crash interrupted (a complete redo file is applied again, a
   * torn one is redone from storage), then brings each room's transcript up to date (a crash may
   * have left it torn or short). A room that cannot be written falls behind. Returns the lines
   * written per room.
   */
  recover(serverIds: Iterable<number>): Map<number, number> {
    const written = new Map<number, number>();
    for (const found of this.transcripts.recoverRewrites()) {
      if ('error' in found) this.fallBehind(found.serverId, found.error);
      else if (found.redoFrom !== undefined) this.ask(found.serverId, found.redoFrom);
    }
    for (const serverId of new Set([...this.pending.keys(), ...serverIds])) {
      if (this.behind.has(serverId)) continue;
      try {
        const { appended: lines } = this.bringUpToDate(serverId, Infinity);
        if (lines > 0) written.set(serverId, lines);
      } catch (error) {
        this.fallBehind(serverId, error);
      }
    }
    return written;
  }

  /** Rooms whose transcript is behind SQLite right now. */
  behindRooms(): number[] {
    return [...this.behind];
  }

  /** Rooms with a rewrite asked for and not done yet. */
  pendingRewrites(): number[] {
    return [...this.pending.keys()];
  }

  /**
   * Stops the timers. A rewrite running step by step is stopped where it stands and finished now
   * from its redo file, and rewrites still waiting are done now, so that a clean stop leaves
   * every transcript whole (one that fails stays marked on disk, for the next start).
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    clearTimeout(this.rewriteTimer);
    for (const [serverId, run] of this.running) {
      run.cancelled = true;
      this.holding.delete(serverId);
      if (this.behind.has(serverId)) continue;
      try {
        this.bringUpToDate(serverId, Infinity);
      } catch (error) {
        this.fallBehind(serverId, error);
      }
    }
    this.running.clear();
    for (const [serverId, fromId] of [...this.pending]) {
      if (this.behind.has(serverId)) continue;
      try {
        this.rewriteRoom(serverId, fromId);
      } catch (error) {
        this.fallBehind(serverId, error);
      }
    }
  }

  /** Records a rewrite to do, in memory only (its marker is on disk already). */
  private ask(serverId: number, fromId: number): void {
    this.pending.set(serverId, Math.min(this.pending.get(serverId) ?? fromId, fromId));
  }

  private scheduleRewrites(): void {
    if (this.rewriteTimer !== undefined || this.closed) return;
    this.rewriteTimer = setTimeout(() => this.runRewrites(), this.options.rewriteDelayMs ?? 1000);
    this.rewriteTimer.unref();
  }

  /**
   * Starts every rewrite waiting, step by step, but of rooms behind (their repair does them) and
   * of rooms with one running (theirs starts when it ends).
   */
  private runRewrites(): void {
    this.rewriteTimer = undefined;
    for (const [serverId, fromId] of [...this.pending]) {
      if (this.behind.has(serverId) || this.running.has(serverId)) continue;
      const run = { cancelled: false, done: Promise.resolve() };
      this.running.set(serverId, run); // before: a rewrite failing at once ends synchronously
      run.done = this.rewriteStepwise(serverId, fromId, run);
    }
  }

  /**
   * Rewrites the room like `rewriteRoom`, a step per turn of the event loop; then appends what
   * was committed since it read the newest entry. Rewrites asked for meanwhile stay pending.
   */
  private async rewriteStepwise(
    serverId: number,
    fromId: number,
    run: { cancelled: boolean },
  ): Promise<void> {
    this.pending.delete(serverId);
    try {
      const from = Math.min(fromId, this.transcripts.lastId(serverId) + 1);
      const { lastId } = await this.transcripts.rewriteStepwise(
        serverId,
        from,
        this.entriesFrom(serverId, from),
        {
          onCaughtUp: () => this.holding.add(serverId),
          askedSince: () => this.pending.get(serverId),
          cancelled: () => run.cancelled,
        },
      );
      this.holding.delete(serverId);
      this.rewrittenTo.set(serverId, lastId);
      if (!this.behind.has(serverId)) {
        this.transcripts.recover(serverId, (afterId) =>
          this.options.readFrom(serverId, afterId + 1, TRANSCRIPT_PAGE),
        );
        this.rewrittenTo.set(serverId, this.transcripts.lastId(serverId));
      }
    } catch (error) {
      if (run.cancelled) return; // closing: `close` finishes it from the redo file
      this.holding.delete(serverId);
      this.ask(serverId, fromId);
      this.fallBehind(serverId, error);
    } finally {
      if (!run.cancelled) {
        this.running.delete(serverId);
        if (this.pending.has(serverId) && !this.behind.has(serverId)) this.scheduleRewrites();
      }
    }
  }

  /**
   * Rewrites the room from `fromId`, or from just after the transcript's last complete line if
   * that comes first (messages may be missing there: a rewrite from further on would leave a
   * gap), to the newest entry in storage, at once. Returns the lines written.
   */
  private rewriteRoom(serverId: number, fromId: number): number {
    const from = Math.min(fromId, this.transcripts.lastId(serverId) + 1);
    const { lines, lastId } = this.transcripts.rewriteFrom(
      serverId,
      from,
      this.entriesFrom(serverId, from),
    );
    this.pending.delete(serverId);
    this.rewrittenTo.set(serverId, lastId);
    return lines;
  }

  /** The room's entries from `fromId` on, read from storage a page at a time. */
  private *entriesFrom(serverId: number, fromId: number): Generator<TranscriptEntry> {
    for (let from = fromId; ;) {
      const page = this.options.readFrom(serverId, from, TRANSCRIPT_PAGE);
      if (page.length === 0) return;
      yield* page;
      from = page[page.length - 1]!.id + 1;
    }
  }

  /**
   * Repairs a room: finishes a rewrite left on disk, does the rewrite pending if there is one
   * (it reaches the newest entry), else appends what is missing, at most `maxPages` pages.
   */
  private bringUpToDate(serverId: number, maxPages: number): { appended: number; done: boolean } {
    const found = this.transcripts.recoverRewrite(serverId);
    if (found?.redoFrom !== undefined) this.ask(serverId, found.redoFrom);
    const fromId = this.pending.get(serverId);
    if (fromId !== undefined) return { appended: this.rewriteRoom(serverId, fromId), done: true };
    return this.transcripts.recover(
      serverId,
      (afterId) => this.options.readFrom(serverId, afterId + 1, TRANSCRIPT_PAGE),
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
      if (this.running.has(serverId)) continue; // tried again after its rewrite stopped
      try {
        const { appended, done } = this.bringUpToDate(serverId, PAGES_PER_STEP);
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
