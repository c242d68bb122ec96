import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Message } from '../domain/message.ts';
import { AccountsStore } from './accounts-store.ts';
import { migrate } from './migrations.ts';
import { RoomsStore } from './rooms-store.ts';

/** A message about to be stored; `id` is given when the log (JetStream) already numbered it. */
export interface NewMessage {
  id?: number;
  server_id: number;
  username: string;
  text: string;
  ts: string;
  client_id?: string | undefined;
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
  /** Rooms and their members. */
  readonly rooms: RoomsStore;
  /** Accounts, tokens, invites and ended sessions, and the log of state events. */
  readonly accounts: AccountsStore;

  constructor(file: string) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const db = new Database(file);
    try {
      db.pragma('journal_mode = WAL');
      // NORMAL in WAL mode: a commit survives a crash of the process (kill -9); only power loss
      // could undo the last transactions. See README, "Durability".
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
      migrate(db);
      db.pragma('foreign_keys = ON');
    } catch (error) {
      db.close();
      throw error;
    }
    this.db = db;
    this.rooms = new RoomsStore(db);
    this.accounts = new AccountsStore(db, this.rooms);
    this.stmt = {
      insertMessage: db.prepare<[number | null, number, string, string, string, string | null]>(
        'INSERT INTO messages (id, server_id, username, text, ts, client_id) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      latest: db.prepare<[number, number, number], Message>(
        'SELECT id, server_id, username, text, ts FROM messages WHERE server_id = ? AND id < ? ORDER BY id DESC LIMIT ?',
      ),
      after: db.prepare<[number, number, number], Message>(
        'SELECT id, server_id, username, text, ts FROM messages WHERE server_id = ? AND id > ? ORDER BY id ASC LIMIT ?',
      ),
      lastId: db.prepare<[number], { id: number | null }>(
        'SELECT max(id) AS id FROM messages WHERE server_id = ?',
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

  insertOne(m: NewMessage): Message {
    const info = this.stmt.insertMessage.run(
      m.id ?? null,
      m.server_id,
      m.username,
      m.text,
      m.ts,
      m.client_id ?? null,
    );
    return {
      id: Number(info.lastInsertRowid),
      server_id: m.server_id,
      username: m.username,
      text: m.text,
      ts: m.ts,
    };
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
    if (query.after !== undefined) {
      const rows = this.stmt.after.iterate(query.serverId, query.after, query.limit + 1);
      return capped(rows, query.limit, maxBytes);
    }
    const rows = this.stmt.latest.iterate(
      query.serverId,
      query.before ?? Number.MAX_SAFE_INTEGER,
      query.limit + 1,
    );
    const page = capped(rows, query.limit, maxBytes);
    page.messages.reverse();
    return page;
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
 * Takes rows while they fit `limit` and `maxBytes` (the JSON array of them, brackets and commas
 * included, as it is sent); the first row is always taken, so that paging never stalls.
 */
function capped(rows: Iterator<Message>, limit: number, maxBytes: number): MessagesPage {
  const messages: Message[] = [];
  let bytes = 2;
  try {
    for (let next = rows.next(); !next.done; next = rows.next()) {
      const size = Buffer.byteLength(JSON.stringify(next.value)) + (messages.length > 0 ? 1 : 0);
      if (messages.length === limit || (messages.length > 0 && bytes + size > maxBytes)) {
        return { messages, more: true };
      }
      bytes += size;
      messages.push(next.value);
    }
    return { messages, more: false };
  } finally {
    rows.return?.();
  }
}
