import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { withUrl } from '../domain/attachments.ts';
import type { Message, Tombstone } from '../domain/message.ts';
import { AccountsStore } from './accounts-store.ts';
import { AttachmentsStore } from './attachments-store.ts';
import { ChangesStore } from './changes-store.ts';
import { MESSAGE_COLUMNS, MessageReader } from './message-rows.ts';
import type { MessageRow } from './message-rows.ts';
import { migrate } from './migrations.ts';
import { ReadersStore } from './readers-store.ts';
import { RoomsStore } from './rooms-store.ts';
import { SearchStore } from './search-store.ts';

/** A message about to be stored; `id` is given when the log (JetStream) already numbered it. */
export interface NewMessage {
  id?: number;
  server_id: number;
  username: string;
  text: string;
  ts: string;
  client_id?: string | undefined;
  reply_to?: number | undefined;
  /** Ids of the sender's unsent uploads to the room, claimed by this message. */
  attachments?: readonly string[] | undefined;
}

/** Entries (messages and tombstones) of a catch-up, and whether more were left out. */
export interface EntriesPage {
  entries: Array<Message | Tombstone>;
  more: boolean;
}

export interface MessageQuery {
  serverId: number;
  limit: number;
  before?: number | undefined;
  after?: number | undefined;
  /** Most bytes of JSON the page may take as one array; at least one message is returned. */
  maxBytes?: number | undefined;
}

/** A page of messages and whether messages past it (beyond `limit` or `maxBytes`) were left out. */
export interface MessagesPage {
  messages: Message[];
  more: boolean;
}

/** Rooms and messages in one SQLite file (WAL). Statements are prepared once. */
export class SqliteStore {
  private readonly db: Database.Database;
  private readonly stmt;
  private readonly reader: MessageReader;
  /** Edits, deletes and reactions. */
  readonly changes: ChangesStore;
  /** Rooms and their members. */
  readonly rooms: RoomsStore;
  /** Accounts, tokens, invites and ended sessions, and the log of state events. */
  readonly accounts: AccountsStore;
  /** The metadata of uploads and of the attachments of messages. */
  readonly attachments: AttachmentsStore;
  /** The full-text index of the messages. */
  readonly search: SearchStore;
  /** Mentions, read markers, notification levels, joined public rooms. */
  readonly readers: ReadersStore;

  constructor(file: string) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const db = new Database(file);
    try {
      db.pragma('journal_mode = WAL');
      // NORMAL in WAL mode: a commit survives a crash of the process (kill -9); only power loss
      // could undo the last transactions. See README, "Durability".
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
      // deleted means gone: freed space is zeroed, not left for a file reader to find
      db.pragma('secure_delete = ON');
      migrate(db);
      db.pragma('foreign_keys = ON');
    } catch (error) {
      db.close();
      throw error;
    }
    this.db = db;
    // a member added to a private room starts reading it at its newest message
    this.rooms = new RoomsStore(db, (serverId, username) =>
      this.readers.startMarker(serverId, username),
    );
    this.readers = new ReadersStore(db, this.rooms);
    this.attachments = new AttachmentsStore(db);
    this.accounts = new AccountsStore(db, this.rooms, this.attachments, this.readers);
    this.reader = new MessageReader(db, this.attachments);
    this.changes = new ChangesStore(db, this.rooms, this.readers);
    this.search = new SearchStore(db, this.rooms, this.reader);
    this.stmt = {
      insertMessage: db.prepare<
        [
          number,
          number,
          string,
          string,
          string,
          string | null,
          number,
          number | null,
          string | null,
          number,
        ]
      >(
        'INSERT INTO messages (id, server_id, username, text, ts, client_id, seq, reply_to, mentions, mention_room) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      // deleted messages are left out of pages and replays (deleted means gone)
      latest: db.prepare<[number, number, number], MessageRow>(
        `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE server_id = ? AND id < ? AND deleted = 0 ORDER BY id DESC LIMIT ?`,
      ),
      after: db.prepare<[number, number, number], MessageRow>(
        `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE server_id = ? AND id > ? AND deleted = 0 ORDER BY id ASC LIMIT ?`,
      ),
      // what changed: tombstones included, in seq order
      changedAfter: db.prepare<[number, number, number], MessageRow>(
        `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE server_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
      ),
      // a catch-up's updates: messages the client had (id <= X) that changed since (seq > X)
      updates: db.prepare<[number, number, number, number], MessageRow>(
        `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE server_id = ? AND seq > ? AND id <= ? ORDER BY seq LIMIT ?`,
      ),
      // a transcript's entries: tombstones included, in id order
      entriesFrom: db.prepare<[number, number, number], MessageRow>(
        `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE server_id = ? AND id >= ? ORDER BY id LIMIT ?`,
      ),
      one: db.prepare<[number, number], MessageRow>(
        `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE server_id = ? AND id = ?`,
      ),
      lastId: db.prepare<[number], { id: number | null }>(
        'SELECT max(id) AS id FROM messages WHERE server_id = ?',
      ),
      lastSeq: db.prepare<[number], { seq: number | null }>(
        'SELECT max(seq) AS seq FROM messages WHERE server_id = ?',
      ),
      maxId: db.prepare<[], { id: number | null }>('SELECT max(id) AS id FROM messages'),
      appliedSeq: db.prepare<[], { seq: number }>(
        'SELECT applied_seq AS seq FROM stream_position WHERE id = 1',
      ),
      setAppliedSeq: db.prepare<[number]>(
        'UPDATE stream_position SET applied_seq = max(applied_seq, ?) WHERE id = 1',
      ),
      byClientId: db.prepare<[number, string, string, string], { id: number }>(
        'SELECT id FROM messages WHERE server_id = ? AND username = ? AND client_id = ? AND ts >= ? ORDER BY id LIMIT 1',
      ),
      probe: db.prepare<[string]>(
        'INSERT INTO write_probe (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at',
      ),
    };
  }

  /** Stores messages in one transaction (all or none) and returns them with their ids. */
  insertMessages(batch: readonly NewMessage[]): Message[] {
    return this.transaction(() => batch.map((m) => this.insertOne(m)));
  }

  /** Runs `work` in one transaction that rolls back if it throws. */
  transaction<T>(work: () => T): T {
    return this.db.transaction(work)();
  }

  /**
   * Stores one message (inside the caller's transaction). Its id, which is also its seq, comes
   * from the log (JetStream's sequence) or, in embedded mode, from the counter: one past the
   * last seq given, which edits and reactions take from too. Its mentions are found now, among
   * the users who can see the room as the store has them at this point of the log.
   */
  insertOne(m: NewMessage): Message {
    const id = m.id ?? this.appliedSeq() + 1;
    const room = m.text.includes('@') ? this.rooms.get(m.server_id, 'anyone') : undefined;
    const found = room && this.readers.mentionsFor(room, m.text);
    const columns = found && ReadersStore.columns(found);
    this.stmt.insertMessage.run(
      id,
      m.server_id,
      m.username,
      m.text,
      m.ts,
      m.client_id ?? null,
      id,
      m.reply_to ?? null,
      columns?.mentions ?? null,
      columns?.mention_room ?? 0,
    );
    if (found) this.readers.recordMentions(m.server_id, id, m.username, found);
    if (m.id === undefined) this.setAppliedSeq(id);
    const message: Message = {
      id,
      server_id: m.server_id,
      username: m.username,
      text: m.text,
      ts: m.ts,
      seq: id,
    };
    if (m.reply_to !== undefined) message.reply_to = m.reply_to;
    if (m.attachments !== undefined) {
      const taken = this.attachments.claim(m.attachments, id, m.server_id, m.username);
      if (taken.length > 0) message.attachments = taken.map(withUrl);
    }
    if (found && found.mentions.length > 0) message.mentions = found.mentions;
    if (found?.mention_room) message.mention_room = true;
    return message;
  }

  /** The next seq of the counter (embedded mode), taken: inside the transaction that uses it. */
  takeSeq(): number {
    const seq = this.appliedSeq() + 1;
    this.setAppliedSeq(seq);
    return seq;
  }

  /** A message of the room that is not deleted, as REST shows it. */
  message(serverId: number, id: number): Message | undefined {
    const entry = this.entry(serverId, id);
    return entry && !('deleted' in entry) ? entry : undefined;
  }

  /**
   * Moves every page of the WAL into the database and empties the WAL file: what a delete freed
   * was zeroed (`secure_delete`) in the database, and the WAL's older copies of those pages go.
   */
  wipeFreedSpace(): void {
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  /** A message of the room as REST shows it (with its quote); a tombstone when deleted. */
  entry(serverId: number, id: number): Message | Tombstone | undefined {
    const row = this.stmt.one.get(serverId, id);
    return row && this.reader.entry(row);
  }

  /** The room's entries from id `fromId` on, tombstones included, in id order (transcripts). */
  entriesFrom(serverId: number, fromId: number, limit: number): Array<Message | Tombstone> {
    return this.stmt.entriesFrom
      .all(serverId, fromId, limit)
      .map((row) => this.reader.entry(row, false));
  }

  /** The room's messages with seq > `seq`, tombstones included, in seq order. */
  changedAfter(serverId: number, seq: number, limit: number, maxBytes = Infinity): EntriesPage {
    return capped(
      this.stmt.changedAfter.iterate(serverId, seq, limit + 1),
      limit,
      maxBytes,
      (row) => this.reader.entry(row),
    );
  }

  /** The messages with id <= `since` changed after it, tombstones included, in seq order. */
  updates(serverId: number, since: number, limit: number, maxBytes: number): EntriesPage {
    return capped(
      this.stmt.updates.iterate(serverId, since, since, limit + 1),
      limit,
      maxBytes,
      (row) => this.reader.entry(row),
    );
  }

  lastSeq(serverId: number): number {
    return this.stmt.lastSeq.get(serverId)?.seq ?? 0;
  }

  /** The id of the first message sent with this client_id at or after `sinceTs`, if any. */
  findByClientId(
    serverId: number,
    username: string,
    clientId: string,
    sinceTs: string,
  ): number | undefined {
    return this.stmt.byClientId.get(serverId, username, clientId, sinceTs)?.id;
  }

  /** Newest `limit` messages below `before` (or the newest), or oldest `limit` above `after`. */
  messages(query: MessageQuery): Message[] {
    return this.page(query).messages;
  }

  /**
   * As `messages`, capped at `maxBytes` of JSON: with `after` the oldest that fit, else the
   * newest that fit (a client paging on from either end misses nothing). Reads one row past
   * `limit` to tell whether there is more.
   */
  page(query: MessageQuery): MessagesPage {
    const maxBytes = query.maxBytes ?? Infinity;
    const read = (row: MessageRow) => this.reader.message(row);
    if (query.after !== undefined) {
      const rows = this.stmt.after.iterate(query.serverId, query.after, query.limit + 1);
      const page = capped(rows, query.limit, maxBytes, read);
      return { messages: page.entries, more: page.more };
    }
    const rows = this.stmt.latest.iterate(
      query.serverId,
      query.before ?? Number.MAX_SAFE_INTEGER,
      query.limit + 1,
    );
    const page = capped(rows, query.limit, maxBytes, read);
    page.entries.reverse();
    return { messages: page.entries, more: page.more };
  }

  lastId(serverId: number): number {
    return this.stmt.lastId.get(serverId)?.id ?? 0;
  }

  maxMessageId(): number {
    return this.stmt.maxId.get()?.id ?? 0;
  }

  /**
   * NATS mode: the last stream sequence applied. Never below the newest message id (embedded
   * mode numbers messages without moving it, and a data directory may change modes).
   */
  appliedSeq(): number {
    return Math.max(this.stmt.appliedSeq.get()?.seq ?? 0, this.maxMessageId());
  }

  /** Records that the stream is applied up to `seq` (inside the transaction that applied it). */
  setAppliedSeq(seq: number): void {
    this.stmt.setAppliedSeq.run(seq);
  }

  /**
   * Commits a one-row write, as a message write would: throws when the database is read-only,
   * its files cannot be written, or the disk is full (a read succeeds in all of these).
   */
  probeWrite(): void {
    this.stmt.probe.run(new Date().toISOString());
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/**
 * Takes rows, as `read` makes them, while they fit `limit` and `maxBytes` (the JSON array of
 * them, brackets and commas included, as it is sent); the first is always taken, so that paging
 * never stalls.
 */
function capped<T>(
  rows: Iterator<MessageRow>,
  limit: number,
  maxBytes: number,
  read: (row: MessageRow) => T,
): { entries: T[]; more: boolean } {
  const entries: T[] = [];
  let bytes = 2;
  try {
    for (let next = rows.next(); !next.done; next = rows.next()) {
      if (entries.length === limit) return { entries, more: true };
      const entry = read(next.value);
      const size = Buffer.byteLength(JSON.stringify(entry)) + (entries.length > 0 ? 1 : 0);
      if (entries.length > 0 && bytes + size > maxBytes) return { entries, more: true };
      bytes += size;
      entries.push(entry);
    }
    return { entries, more: false };
  } finally {
    rows.return?.();
  }
}
