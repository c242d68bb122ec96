import type Database from 'better-sqlite3';
import { isValidAttachmentList } from '../domain/attachments.ts';
import type { AttachmentEvent, AttachmentInfo } from '../domain/attachments.ts';

/** An upload as stored: what every answer shows, and where it belongs. */
export interface StoredAttachment {
  info: AttachmentInfo;
  server_id: number;
  uploader: string;
  /** The message that took it; null while unsent. */
  message_id: number | null;
  created_at: string;
}

/** How an attachment event was applied (`removed`: the expired uploads it dropped). */
export type AttachmentApplyResult =
  { ok: true; removed?: string[] } | { ok: false; refusal: 'room_not_found' | 'forbidden' };

interface Row {
  id: string;
  server_id: number;
  uploader: string;
  name: string;
  type: string;
  size: number;
  width: number | null;
  height: number | null;
  message_id: number | null;
  created_at: string;
}

const COLUMNS =
  'id, server_id, uploader, name, type, size, width, height, message_id, created_at FROM attachments';

/**
 * The metadata of attachments in SQLite. An upload is a row with no message; a message that
 * takes it (sent by its uploader, to its room) claims it in the transaction that stores the
 * message; a delete drops the rows of its message, the sweep those left unsent. Changes come as
 * AttachmentEvents (`write`, inside the caller's transaction) or with a message, so that the
 * same stream gives the same rows anywhere.
 */
export class AttachmentsStore {
  private readonly stmt;

  constructor(db: Database.Database) {
    this.stmt = {
      one: db.prepare<[string], Row>(`SELECT ${COLUMNS} WHERE id = ?`),
      ofMessage: db.prepare<[number], Row>(
        `SELECT ${COLUMNS} WHERE message_id = ? ORDER BY position`,
      ),
      insert: db.prepare<
        [string, number, string, string, string, number, number | null, number | null, string]
      >(
        'INSERT OR IGNORE INTO attachments (id, server_id, uploader, name, type, size, width, height, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      roomExists: db.prepare<[number], { one: number }>('SELECT 1 AS one FROM rooms WHERE id = ?'),
      claim: db.prepare<[number, number, string]>(
        'UPDATE attachments SET message_id = ?, position = ? WHERE id = ? AND message_id IS NULL',
      ),
      dropOfMessage: db.prepare<[number], { id: string }>(
        'DELETE FROM attachments WHERE message_id = ? RETURNING id',
      ),
      dropUnsent: db.prepare<[string], { id: string }>(
        'DELETE FROM attachments WHERE id = ? AND message_id IS NULL RETURNING id',
      ),
      unsentBefore: db.prepare<[string, number], { id: string; server_id: number }>(
        'SELECT id, server_id FROM attachments WHERE message_id IS NULL AND created_at < ? ORDER BY created_at LIMIT ?',
      ),
    };
  }

  get(id: string): StoredAttachment | undefined {
    const row = this.stmt.one.get(id);
    return row && stored(row);
  }

  /**
   * The uploads a message of `username` to room `serverId` may carry, in the order given: 1-10
   * ids, none twice, each an unsent upload of that user to that room. Undefined otherwise
   * (`bad_attachment`).
   */
  usable(ids: readonly string[], serverId: number, username: string): AttachmentInfo[] | undefined {
    if (!isValidAttachmentList(ids)) return undefined;
    const found: AttachmentInfo[] = [];
    for (const id of ids) {
      const row = this.stmt.one.get(id);
      if (!row || row.message_id !== null) return undefined;
      if (row.server_id !== serverId || row.uploader !== username) return undefined;
      found.push(infoOf(row));
    }
    return found;
  }

  /**
   * Gives message `messageId` the uploads of `ids` it may carry (see `usable`), inside the
   * transaction that stores it; answers what it took, in order. What it may not take (NATS mode:
   * the stream holds an upload a later check refused) is left out.
   */
  claim(ids: readonly string[], messageId: number, serverId: number, username: string) {
    const taken: AttachmentInfo[] = [];
    for (const id of new Set(ids)) {
      const usable = this.usable([id], serverId, username);
      if (!usable) continue;
      this.stmt.claim.run(messageId, taken.length, id);
      taken.push(...usable);
    }
    return taken;
  }

  /** A message's attachments, in the order sent. */
  ofMessage(messageId: number): AttachmentInfo[] {
    return this.stmt.ofMessage.all(messageId).map(infoOf);
  }

  /** Drops a deleted message's attachments; answers their ids (their bytes go next). */
  dropOfMessage(messageId: number): string[] {
    return this.stmt.dropOfMessage.all(messageId).map((row) => row.id);
  }

  /** Uploads no message took, made before `beforeTs`, oldest first (at most `limit`). */
  unsentBefore(beforeTs: string, limit: number): Array<{ id: string; server_id: number }> {
    return this.stmt.unsentBefore.all(beforeTs, limit);
  }

  /** Applies an attachment event; call inside a transaction. */
  write(event: AttachmentEvent): AttachmentApplyResult {
    if (event.type === 'attachments_expired') {
      const removed = event.ids.flatMap((id) => this.stmt.dropUnsent.all(id).map((row) => row.id));
      return { ok: true, removed };
    }
    const u = event.upload;
    if (!this.stmt.roomExists.get(u.server_id)) return { ok: false, refusal: 'room_not_found' };
    const inserted = this.stmt.insert.run(
      u.id,
      u.server_id,
      u.uploader,
      u.name,
      u.type,
      u.size,
      u.width ?? null,
      u.height ?? null,
      u.created_at,
    );
    // an id taken already (128 random bits: never by chance) stays its first upload's
    return inserted.changes > 0 ? { ok: true } : { ok: false, refusal: 'forbidden' };
  }
}

function infoOf(row: Row): AttachmentInfo {
  const info: AttachmentInfo = { id: row.id, name: row.name, type: row.type, size: row.size };
  if (row.width !== null && row.height !== null) {
    info.width = row.width;
    info.height = row.height;
  }
  return info;
}

function stored(row: Row): StoredAttachment {
  return {
    info: infoOf(row),
    server_id: row.server_id,
    uploader: row.uploader,
    message_id: row.message_id,
    created_at: row.created_at,
  };
}
