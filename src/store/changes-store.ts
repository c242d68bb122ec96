import type Database from 'better-sqlite3';
import { MAX_DISTINCT_EMOJI, MAX_REACTIONS } from '../domain/changes.ts';
import type { ChangeOutcome, ChangeRequest, RoomChange } from '../domain/changes.ts';
import { MESSAGE_COLUMNS } from './message-rows.ts';
import type { MessageRow } from './message-rows.ts';
import { ReadersStore } from './readers-store.ts';
import type { RoomsStore } from './rooms-store.ts';

export interface ChangeContext {
  /** The change's time (`edited_at`; the start of the edit window is measured from `ts`). */
  at: string;
  /** A client_id stored at or after this time makes a resend. */
  dedupeSinceTs: string;
  /** EDIT_WINDOW in ms; 0: no limit. */
  editWindowMs: number;
  /** The seq the change takes: the stream's (NATS mode), else the next of the counter. */
  seq: () => number;
}

const ROLLBACK = new Error('rolled back: a check only');

/**
 * Edits, deletes and reactions in SQLite. `apply` runs inside the caller's transaction: it judges
 * the change against the message as stored (it exists and is not deleted, the author, the edit
 * window, the reaction limits), writes it with its seq, and answers the frame to fan out. A
 * delete leaves a tombstone: the text, edit time, reply and reactions are gone from the row.
 */
export class ChangesStore {
  private readonly stmt;

  constructor(
    private readonly db: Database.Database,
    private readonly rooms: RoomsStore,
    private readonly readers: ReadersStore,
  ) {
    this.stmt = {
      row: db.prepare<[number, number], MessageRow>(
        `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE server_id = ? AND id = ?`,
      ),
      resent: db.prepare<[number, string, string, string, string], { seq: number }>(
        'SELECT seq FROM change_ids WHERE server_id = ? AND username = ? AND kind = ? AND client_id = ? AND ts >= ?',
      ),
      remember: db.prepare<[number, string, string, string, number, string]>(
        'INSERT OR REPLACE INTO change_ids (server_id, username, kind, client_id, seq, ts) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      edit: db.prepare<[string, string, number, string | null, number, number]>(
        'UPDATE messages SET text = ?, edited_at = ?, seq = ?, mentions = ?, mention_room = ? WHERE id = ?',
      ),
      erase: db.prepare<[number, number]>(
        "UPDATE messages SET deleted = 1, text = '', edited_at = NULL, reply_to = NULL, mentions = NULL, mention_room = 0, seq = ? WHERE id = ?",
      ),
      dropReactions: db.prepare<[number]>('DELETE FROM reactions WHERE message_id = ?'),
      recordEdit: db.prepare<[number, number]>(
        'INSERT OR IGNORE INTO message_edits (message_id, seq) VALUES (?, ?)',
      ),
      edits: db.prepare<[number], { seq: number }>(
        'SELECT seq FROM message_edits WHERE message_id = ? ORDER BY seq',
      ),
      dropEdits: db.prepare<[number]>('DELETE FROM message_edits WHERE message_id = ?'),
      touch: db.prepare<[number, number]>('UPDATE messages SET seq = ? WHERE id = ?'),
      hasAttachments: db.prepare<[number], { one: number }>(
        'SELECT 1 AS one FROM attachments WHERE message_id = ? LIMIT 1',
      ),
      hasReaction: db.prepare<[number, string, string], { one: number }>(
        'SELECT 1 AS one FROM reactions WHERE message_id = ? AND emoji = ? AND username = ?',
      ),
      react: db.prepare<[number, string, string, number]>(
        'INSERT INTO reactions (message_id, emoji, username, seq) VALUES (?, ?, ?, ?)',
      ),
      unreact: db.prepare<[number, string, string]>(
        'DELETE FROM reactions WHERE message_id = ? AND emoji = ? AND username = ?',
      ),
      emojiCount: db.prepare<[number, string], { n: number }>(
        'SELECT count(*) AS n FROM reactions WHERE message_id = ? AND emoji = ?',
      ),
      totals: db.prepare<[number], { emoji: number; reactions: number }>(
        'SELECT count(DISTINCT emoji) AS emoji, count(*) AS reactions FROM reactions WHERE message_id = ?',
      ),
    };
  }

  /**
   * What applying the change now would answer, without keeping it (its transaction is rolled
   * back): the check made before a change is published (NATS mode), by the code that applies it.
   */
  check(request: ChangeRequest, context: ChangeContext): ChangeOutcome {
    let outcome: ChangeOutcome | undefined;
    try {
      this.db.transaction(() => {
        outcome = this.apply(request, context);
        throw ROLLBACK;
      })();
    } catch (error) {
      if (error !== ROLLBACK) throw error;
    }
    return outcome as ChangeOutcome;
  }

  /** Applies one change; call inside a transaction. */
  apply(request: ChangeRequest, context: ChangeContext): ChangeOutcome {
    const { serverId, id, username, clientId } = request;
    if (clientId !== undefined) {
      const earlier = this.stmt.resent.get(
        serverId,
        username,
        request.kind,
        clientId,
        context.dedupeSinceTs,
      );
      if (earlier) return { kind: 'unchanged', id, seq: earlier.seq, duplicate: true };
    }
    const row = this.stmt.row.get(serverId, id);
    if (!row || row.deleted === 1) return { kind: 'refused', refusal: 'not_found' };
    const outcome = this.judge(request, row, context);
    if (outcome.kind === 'applied' && clientId !== undefined) {
      this.stmt.remember.run(serverId, username, request.kind, clientId, outcome.seq, context.at);
    }
    return outcome;
  }

  private judge(request: ChangeRequest, row: MessageRow, context: ChangeContext): ChangeOutcome {
    const base = { server_id: row.server_id, id: row.id };
    switch (request.kind) {
      case 'edit': {
        if (row.username !== request.username) return { kind: 'refused', refusal: 'forbidden' };
        // text may be empty only beside attachments
        if (request.text.trim() === '' && !this.stmt.hasAttachments.get(row.id)) {
          return { kind: 'refused', refusal: 'empty' };
        }
        const window = context.editWindowMs;
        if (window > 0 && Date.parse(context.at) - Date.parse(row.ts) > window) {
          return { kind: 'refused', refusal: 'edit_window' };
        }
        const seq = context.seq();
        const found = this.remention(row, request.text);
        const columns = ReadersStore.columns(found);
        this.stmt.edit.run(
          request.text,
          context.at,
          seq,
          columns.mentions,
          columns.mention_room,
          row.id,
        );
        this.stmt.recordEdit.run(row.id, seq);
        const change: RoomChange = {
          type: 'edit',
          ...base,
          seq,
          text: request.text,
          edited_at: context.at,
          ...(found.mentions.length > 0 && { mentions: found.mentions }),
          ...(found.mention_room && { mention_room: true as const }),
        };
        return { kind: 'applied', id: row.id, seq, change };
      }
      case 'delete': {
        if (!this.mayDelete(request, row)) return { kind: 'refused', refusal: 'forbidden' };
        const seq = context.seq();
        const erase = [row.id, ...this.stmt.edits.all(row.id).map((edit) => edit.seq)];
        this.stmt.dropReactions.run(row.id);
        this.stmt.dropEdits.run(row.id);
        this.readers.dropMentions(row.server_id, row.id, row);
        this.stmt.erase.run(seq, row.id);
        const change: RoomChange = { type: 'delete', ...base, seq };
        return { kind: 'applied', id: row.id, seq, change, erase };
      }
      case 'react':
        return this.react(request, row, context);
    }
  }

  /** An edited text's mentions, found anew; the counts' rows follow. */
  private remention(row: MessageRow, text: string) {
    this.readers.dropMentions(row.server_id, row.id, row);
    const room = this.rooms.get(row.server_id, 'anyone');
    const found = room
      ? this.readers.mentionsFor(room, text)
      : { mentions: [], mention_room: false };
    this.readers.recordMentions(row.server_id, row.id, row.username, found);
    return found;
  }

  /** Its author, an admin, or the owner of the (private) room. */
  private mayDelete(request: Extract<ChangeRequest, { kind: 'delete' }>, row: MessageRow) {
    if (row.username === request.username || request.admin) return true;
    const room = this.rooms.get(row.server_id, 'anyone');
    return room !== undefined && room.private && room.owner === request.username;
  }

  private react(
    request: Extract<ChangeRequest, { kind: 'react' }>,
    row: MessageRow,
    context: ChangeContext,
  ): ChangeOutcome {
    const { emoji, username, on } = request;
    const has = this.stmt.hasReaction.get(row.id, emoji, username) !== undefined;
    // setting what is already so changes nothing: no frame, no new seq
    if (has === on) return { kind: 'unchanged', id: row.id, seq: row.seq, duplicate: false };
    if (on) {
      const totals = this.stmt.totals.get(row.id) ?? { emoji: 0, reactions: 0 };
      const newEmoji = (this.stmt.emojiCount.get(row.id, emoji)?.n ?? 0) === 0;
      if (totals.reactions >= MAX_REACTIONS || (newEmoji && totals.emoji >= MAX_DISTINCT_EMOJI)) {
        return { kind: 'refused', refusal: 'too_many_reactions' };
      }
    }
    const seq = context.seq();
    if (on) this.stmt.react.run(row.id, emoji, username, seq);
    else this.stmt.unreact.run(row.id, emoji, username);
    this.stmt.touch.run(seq, row.id);
    const count = this.stmt.emojiCount.get(row.id, emoji)?.n ?? 0;
    const change: RoomChange = {
      type: 'reaction',
      server_id: row.server_id,
      id: row.id,
      seq,
      emoji,
      username,
      on,
      count,
    };
    return { kind: 'applied', id: row.id, seq, change };
  }
}
