import path from 'node:path';
import type { AppendResult, DurableLog, StoredDraft } from '../bus/types.ts';
import type { AttachmentBlobs } from '../domain/attachments.ts';
import type { MessagePage, Replay, ReplayRequest } from '../domain/history.ts';
import type { SearchPage, SearchRequest } from '../domain/history.ts';
import { searchMessages } from './search.ts';
import type { ChangeOutcome, ChangeRequest } from '../domain/changes.ts';
import type { Message, MessageDraft, Tombstone } from '../domain/message.ts';
import type { StateEvent } from '../domain/access-events.ts';
import type { AccountsStore, ApplyResult } from '../store/accounts-store.ts';
import { AttachmentFiles } from '../store/attachment-files.ts';
import type { AttachmentsStore } from '../store/attachments-store.ts';
import { openDataDir } from '../store/data-dir.ts';
import type { ReadersStore } from '../store/readers-store.ts';
import type { RoomsStore } from '../store/rooms-store.ts';
import type { NewMessage, SqliteStore } from '../store/sqlite-store.ts';
import type { TranscriptStore } from '../store/transcript.ts';
import { TranscriptSync } from '../store/transcript-sync.ts';
import type { TranscriptLog } from '../store/transcript-sync.ts';

export interface HistoryServiceOptions {
  log?: TranscriptLog;
  /** How often a transcript that could not be written is tried again (default 1 s). */
  transcriptRetryMs?: number;
  /** How long a room's transcript rewrites are merged before one is written (default 1 s). */
  rewriteDelayMs?: number;
  /** EDIT_WINDOW in ms (default 24 h; 0: no limit). */
  editWindowMs?: number;
  /** DEDUPE_WINDOW in ms, for resends of changes in NATS mode (default 10 min). */
  dedupeWindowMs?: number;
  /**
   * How soon after a delete the database's freed pages and its WAL are wiped (default 2 s; the
   * contract's bound is 60 s).
   */
  erasureDelayMs?: number;
  /** Where attachment bytes live (default: files in DATA_DIR/attachments). */
  blobs?: AttachmentBlobs;
}

/** One stream message as NATS mode applies it: a chat message, or a state event. */
export type StreamEntry =
  | { kind: 'message'; message: NewMessage }
  | { kind: 'access'; seq: number; event: StateEvent }
  | { kind: 'change'; seq: number; request: ChangeRequest; at: string };

/** How a batch of stream entries was applied: the outcome of each state event and change. */
export interface StreamOutcomes {
  access: Map<number, ApplyResult>;
  changes: Map<number, ChangeOutcome>;
}
const SILENT: TranscriptLog = { error() {}, warn() {}, debug() {} };

/**
 * The history service: the only owner of the SQLite store and the JSONL transcripts. It persists
 * messages (SQLite first, then the transcript) and answers room and history queries. Once SQLite
 * committed, a message is stored: a transcript that cannot be written falls behind and is
 * repaired from SQLite later, it never fails the write.
 */
export class HistoryService implements DurableLog {
  private readonly store: SqliteStore;
  private readonly transcripts: TranscriptStore;
  private readonly sync: TranscriptSync;

  /** Throws DataDirError when the directory or the database cannot be used. */
  private readonly editWindowMs: number;
  private readonly dedupeWindowMs: number;
  private readonly erasureDelayMs: number;
  private erasure: NodeJS.Timeout | undefined;
  private readonly log: TranscriptLog;
  /** The bytes of attachments: a deleted message's go once its delete is committed. */
  readonly blobs: AttachmentBlobs;

  constructor(dataDir: string, options: HistoryServiceOptions = {}) {
    ({ store: this.store, transcripts: this.transcripts } = openDataDir(dataDir));
    this.editWindowMs = options.editWindowMs ?? 24 * 3_600_000;
    this.dedupeWindowMs = options.dedupeWindowMs ?? 10 * 60_000;
    this.erasureDelayMs = options.erasureDelayMs ?? 2000;
    this.log = options.log ?? SILENT;
    this.blobs = options.blobs ?? new AttachmentFiles(path.join(dataDir, 'attachments'));
    this.sync = new TranscriptSync(this.transcripts, {
      readFrom: (serverId, fromId, limit) => this.store.entriesFrom(serverId, fromId, limit),
      log: options.log ?? SILENT,
      retryMs: options.transcriptRetryMs ?? 1000,
      ...(options.rewriteDelayMs !== undefined && { rewriteDelayMs: options.rewriteDelayMs }),
    });
  }

  /** Accounts, tokens, invites and sessions, in the same database (AccountsService's store). */
  get accounts(): AccountsStore {
    return this.store.accounts;
  }

  /** Rooms and members, in the same database (RoomsService's store). */
  get rooms(): RoomsStore {
    return this.store.rooms;
  }

  /** Uploads and attachments, in the same database (AttachmentsService's store). */
  get attachments(): AttachmentsStore {
    return this.store.attachments;
  }

  /** Mentions, read markers, levels and joined public rooms (ReadersService's store). */
  get readers(): ReadersStore {
    return this.store.readers;
  }

  /** Repairs every transcript from SQLite after a crash. Returns the lines appended per room. */
  recoverTranscripts(): Map<number, number> {
    return this.sync.recover(this.store.rooms.ids());
  }

  /** Resolves once no transcript rewrite is running or waiting. */
  transcriptsSettled(): Promise<void> {
    return this.sync.settled();
  }

  /** Rooms whose transcript is behind SQLite (a write failed; it is being repaired). */
  transcriptsBehind(): number[] {
    return this.sync.behindRooms();
  }

  /** True when the database takes a write now (what `/readyz` asks). */
  isWritable(): boolean {
    try {
      this.store.probeWrite();
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Numbers and stores drafts in one transaction, then appends them to the transcripts. A draft
   * whose client_id was stored at or after `dedupeSinceTs` is a duplicate: it gets the first id.
   */
  appendDrafts(drafts: readonly StoredDraft[], dedupeSinceTs: string): AppendResult[] {
    const results = this.store.transaction(() =>
      drafts.map(({ draft, ts }): AppendResult => {
        if (draft.clientId !== undefined) {
          const id = this.store.findByClientId(
            draft.serverId,
            draft.username,
            draft.clientId,
            dedupeSinceTs,
          );
          if (id !== undefined) return { id, duplicate: true };
        }
        if (draft.replyTo !== undefined && !this.store.message(draft.serverId, draft.replyTo)) {
          return { refused: 'bad_reply' };
        }
        if (draft.attachments && !this.usableAttachments(draft)) {
          return { refused: 'bad_attachment' };
        }
        const message = this.store.insertOne({
          server_id: draft.serverId,
          username: draft.username,
          text: draft.text,
          ts,
          client_id: draft.clientId,
          reply_to: draft.replyTo,
          attachments: draft.attachments,
        });
        return { id: message.id, duplicate: false, message };
      }),
    );
    this.sync.append(results.flatMap((r) => ('message' in r ? [r.message] : [])));
    return results;
  }

  /**
   * Judges and applies an edit, delete or reaction in one transaction, with the next seq of the
   * counter (embedded mode). An edit or delete rewrites the room's transcript from that line: its
   * marker is written before the commit, so that a crash between the two leaves the rewrite to
   * redo at start (a refused change rewrites the same bytes). A delete also wipes the database's
   * freed pages and WAL soon after.
   */
  applyChange(request: ChangeRequest, dedupeSinceTs: string): ChangeOutcome {
    if (request.kind !== 'react') this.sync.rewrite(request.serverId, request.id);
    const dropped: string[] = [];
    const outcome = this.store.transaction(() => {
      const applied = this.store.changes.apply(request, {
        at: new Date().toISOString(),
        dedupeSinceTs,
        editWindowMs: this.editWindowMs,
        seq: () => this.store.takeSeq(),
      });
      dropped.push(...this.dropAttachments(request, applied));
      return applied;
    });
    if (outcome.kind === 'applied' && request.kind === 'delete') this.eraseSoon();
    this.removeBlobs(dropped);
    return outcome;
  }

  /** The uploads a draft names, if its sender may send them in its room (else undefined). */
  usableAttachments(draft: MessageDraft) {
    const ids = draft.attachments ?? [];
    return this.store.attachments.usable(ids, draft.serverId, draft.username);
  }

  /** The id of the message sent with this client_id at or after `sinceTs` (a resend's). */
  sentWithClientId(draft: MessageDraft, sinceTs: string): number | undefined {
    if (draft.clientId === undefined) return undefined;
    return this.store.findByClientId(draft.serverId, draft.username, draft.clientId, sinceTs);
  }

  /** A delete drops its message's attachments with it: the ids whose bytes go after the commit. */
  private dropAttachments(request: ChangeRequest, outcome: ChangeOutcome): string[] {
    if (request.kind !== 'delete' || outcome.kind !== 'applied') return [];
    return this.store.attachments.dropOfMessage(outcome.id);
  }

  /** Removes the bytes of dropped attachments (a failure is logged; the sweep takes them later). */
  private removeBlobs(ids: readonly string[]): void {
    if (ids.length === 0) return;
    this.blobs.remove(ids).catch((error: unknown) => {
      this.log.warn({ err: error, ids }, 'could not remove the bytes of deleted attachments');
    });
  }

  /** Wipes what a delete left in the database files: freed pages are zeroed, the WAL emptied. */
  private eraseSoon(): void {
    if (this.erasure) return;
    this.erasure = setTimeout(() => {
      this.erasure = undefined;
      try {
        this.store.wipeFreedSpace();
      } catch (error) {
        this.log.warn({ err: error }, 'could not wipe the WAL after a delete; retrying');
        this.eraseSoon();
      }
    }, this.erasureDelayMs);
    this.erasure.unref();
  }

  /** NATS mode: the last stream sequence applied (messages and access events alike). */
  appliedSeq(): number {
    return this.store.appliedSeq();
  }

  /**
   * NATS mode: applies stream entries in stream order in ONE transaction, together with the new
   * position `upTo` (so that after a crash nothing is applied twice or skipped), then appends the
   * messages to the transcripts. Answers each access event's outcome by its sequence. Throws only
   * when nothing was committed.
   */
  applyStream(entries: readonly StreamEntry[], upTo: number): StreamOutcomes {
    const outcomes: StreamOutcomes = { access: new Map(), changes: new Map() };
    // the rewrite markers go first, so that a crash after the commit leaves them to redo
    for (const entry of entries) {
      if (entry.kind === 'change' && entry.request.kind !== 'react') {
        this.sync.rewrite(entry.request.serverId, entry.request.id);
      }
    }
    const dropped: string[] = [];
    const stored = this.store.transaction(() => {
      const messages: Message[] = [];
      for (const entry of entries) {
        if (entry.kind === 'message') {
          const { id, server_id: serverId } = entry.message;
          // anyone who may publish on chat.* could name a room that does not exist
          if (this.store.rooms.get(serverId, 'anyone')) {
            messages.push(this.store.insertOne(entry.message));
          } else this.log.warn({ seq: id, serverId }, 'skipping a message for an unknown room');
        } else if (entry.kind === 'access') {
          outcomes.access.set(entry.seq, this.store.accounts.apply(entry.event));
        } else {
          const outcome = this.store.changes.apply(
            entry.request,
            this.changeContext(entry.at, () => entry.seq),
          );
          outcomes.changes.set(entry.seq, outcome);
          dropped.push(...this.dropAttachments(entry.request, outcome));
        }
      }
      this.store.setAppliedSeq(upTo);
      return messages;
    });
    this.sync.append(stored);
    if ([...outcomes.changes.values()].some((o) => o.kind === 'applied' && o.erase)) {
      this.eraseSoon();
    }
    this.removeBlobs(dropped);
    return outcomes;
  }

  /** NATS mode: what applying a change now would answer (judged before it is published). */
  checkChange(request: ChangeRequest, at: string): ChangeOutcome {
    return this.store.changes.check(
      request,
      this.changeContext(at, () => 0),
    );
  }

  private changeContext(at: string, seq: () => number) {
    return {
      at,
      dedupeSinceTs: new Date(Date.parse(at) - this.dedupeWindowMs).toISOString(),
      editWindowMs: this.editWindowMs,
      seq,
    };
  }

  /**
   * A joining client's history. With `since` (up to the room's last seq): the oldest messages
   * after it that fit `sinceLimit` and `maxBytes`, then, in what room is left, the older messages
   * that changed after it (`updates`), each with its flag when some were left out. Else the newest
   * of the last `replayCount` that fit `maxBytes`.
   */
  replay(request: ReplayRequest): Replay {
    const { serverId, since, maxBytes } = request;
    // One read transaction: the messages, updates and positions describe the same moment.
    return this.store.transaction(() => {
      const lastId = this.store.lastId(serverId);
      const lastSeq = this.store.lastSeq(serverId);
      if (since !== undefined && since <= lastSeq) {
        const page = this.store.page({
          serverId,
          after: since,
          limit: request.sinceLimit,
          maxBytes,
        });
        const room = maxBytes - Buffer.byteLength(JSON.stringify(page.messages));
        const updates = this.store.updates(serverId, since, request.sinceLimit, room);
        const first = updates.entries[0];
        // the first update is taken even when it does not fit: leave it for REST then
        if (first && Buffer.byteLength(JSON.stringify([first])) > room) {
          updates.entries = [];
          updates.more = true;
        }
        return {
          messages: page.messages,
          updates: updates.entries,
          lastId,
          lastSeq,
          more: page.more,
          moreUpdates: updates.more,
          reset: false,
        };
      }
      const messages =
        request.replayCount === 0
          ? []
          : this.store.messages({ serverId, limit: request.replayCount, maxBytes });
      return {
        messages,
        updates: [],
        lastId,
        lastSeq,
        more: false,
        moreUpdates: false,
        reset: since !== undefined,
      };
    });
  }

  /** A page of messages: by id (`before`/`after`), or what changed after a seq. */
  messages(page: MessagePage): Array<Message | Tombstone> {
    if (page.changedAfter !== undefined) {
      return this.store.changedAfter(page.serverId, page.changedAfter, page.limit, page.maxBytes)
        .entries;
    }
    return this.store.messages(page);
  }

  /** What a search finds among the messages the viewer may read now (search.ts). */
  search(request: SearchRequest): SearchPage {
    return searchMessages(this.store, request);
  }

  /** One message of a room as REST shows it; undefined when unknown or deleted. */
  message(serverId: number, id: number): Message | undefined {
    const entry = this.store.entry(serverId, id);
    return entry && !('deleted' in entry) ? entry : undefined;
  }

  close(): void {
    if (this.erasure) {
      clearTimeout(this.erasure);
      this.erasure = undefined;
      this.store.wipeFreedSpace();
    }
    this.sync.close();
    this.transcripts.close();
    this.store.close();
  }
}
