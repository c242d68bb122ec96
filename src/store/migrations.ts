import type Database from 'better-sqlite3';
import { nameKey } from '../domain/names.ts';

/** A migration step: SQL, or code where SQL cannot compute what the step needs. */
type Migration = string | ((db: Database.Database) => void);

/**
 * Schema migrations, applied in order at start. The schema version is SQLite's `user_version`;
 * each entry moves the schema from version i to i + 1 inside one transaction.
 */
const MIGRATIONS: readonly Migration[] = [
  `
  CREATE TABLE rooms (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
  );
  CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    server_id INTEGER NOT NULL REFERENCES rooms(id),
    username TEXT NOT NULL,
    text TEXT NOT NULL,
    ts TEXT NOT NULL,
    client_id TEXT
  );
  -- latest N, before/after an id, and the newest id of a room
  CREATE INDEX messages_by_room ON messages(server_id, id);
  -- idempotent resends: (room, username, client_id) within the dedupe window
  CREATE INDEX messages_by_client_id ON messages(server_id, username, client_id)
    WHERE client_id IS NOT NULL;
  INSERT INTO rooms (id, name, name_key, created_at)
    VALUES (1, 'general', 'general', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
  `,
  `
  -- one row, rewritten by the readiness probe: a commit is what a message write needs
  CREATE TABLE write_probe (id INTEGER PRIMARY KEY CHECK (id = 1), at TEXT NOT NULL);
  `,
  rekeyRoomNames,
  `
  -- accounts (see accounts-store.ts): every change is an access event applied in one transaction
  CREATE TABLE users (
    username TEXT PRIMARY KEY,
    name_key TEXT NOT NULL UNIQUE,      -- NFKC case folded: lookalikes are one name
    password_hash TEXT,                 -- NULL: a JWT-mode user, who has no password here
    admin INTEGER NOT NULL DEFAULT 0,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    credentials_reset_at INTEGER,       -- ms; sessions and tokens issued before it are refused
    keep_sid TEXT                       -- except this session (the one that changed the password)
  );
  CREATE TABLE tokens (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL REFERENCES users(username),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL,           -- sha256 of the token: the token itself is never stored
    created_at TEXT NOT NULL,
    revoked_at TEXT
  );
  CREATE INDEX tokens_by_user ON tokens(username);
  CREATE TABLE invites (
    code TEXT PRIMARY KEY,
    created_by TEXT,                    -- NULL: made by the operator command
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT
  );
  -- logged-out sessions, refused until no copy of their cookie can be valid (ms)
  CREATE TABLE ended_sessions (sid TEXT PRIMARY KEY, until INTEGER NOT NULL);
  -- the access changes gateways follow (logout, password change, revocation, disable), kept a
  -- day: a running process picks up the changes another process (an operator command) made
  CREATE TABLE access_feed (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    change TEXT NOT NULL
  );
  `,
  `
  -- NATS mode: the last stream sequence applied (messages and access events alike), written in
  -- the same transaction as what it applied; it starts at the newest message id
  CREATE TABLE stream_position (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    applied_seq INTEGER NOT NULL
  );
  INSERT INTO stream_position (id, applied_seq) SELECT 1, coalesce(max(id), 0) FROM messages;
  `,
  `
  -- private rooms and DMs (see rooms-store.ts). Rebuilt, as SQLite cannot drop the UNIQUE of
  -- name_key: only public room names are unique now (a private room's name only among the rooms
  -- its creator can see); a DM has no name and is unique per pair of users (dm_key).
  CREATE TABLE rooms_new (
    id INTEGER PRIMARY KEY,
    name TEXT,                          -- NULL: a DM
    name_key TEXT,                      -- NFKC case folded (names.ts); NULL: a DM
    created_at TEXT NOT NULL,
    private INTEGER NOT NULL DEFAULT 0,
    dm_key TEXT UNIQUE,                 -- DMs: both users' name keys, sorted, NUL between
    owner TEXT,                         -- the creator; NULL: DMs and rooms made before owners
    archived INTEGER NOT NULL DEFAULT 0
  );
  INSERT INTO rooms_new (id, name, name_key, created_at) SELECT id, name, name_key, created_at FROM rooms;
  DROP TABLE rooms;
  ALTER TABLE rooms_new RENAME TO rooms;
  CREATE UNIQUE INDEX rooms_by_public_name ON rooms(name_key) WHERE private = 0;
  CREATE INDEX rooms_by_private_name ON rooms(name_key) WHERE private = 1;
  -- members of private rooms and DMs
  CREATE TABLE room_members (
    server_id INTEGER NOT NULL REFERENCES rooms(id),
    username TEXT NOT NULL,
    PRIMARY KEY (server_id, username)
  ) WITHOUT ROWID;
  CREATE INDEX room_members_by_user ON room_members(username, server_id);
  `,
  `
  -- conversations: every change to a room (a message, an edit, a delete, a reaction) takes a seq
  -- from the counter of message ids (stream_position.applied_seq); a message keeps the seq of
  -- its latest change, so a catch-up reads what changed by seq, with an index
  ALTER TABLE messages ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
  UPDATE messages SET seq = id;
  ALTER TABLE messages ADD COLUMN edited_at TEXT;
  ALTER TABLE messages ADD COLUMN reply_to INTEGER;
  ALTER TABLE messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
  CREATE INDEX messages_by_room_seq ON messages(server_id, seq);
  CREATE TABLE reactions (
    message_id INTEGER NOT NULL REFERENCES messages(id),
    emoji TEXT NOT NULL,
    username TEXT NOT NULL,
    seq INTEGER NOT NULL,               -- the change that set it: users in the order they reacted
    PRIMARY KEY (message_id, emoji, username)
  ) WITHOUT ROWID;
  -- the stream sequences that carried a message's edits (NATS mode erases them with the message)
  CREATE TABLE message_edits (
    message_id INTEGER NOT NULL REFERENCES messages(id),
    seq INTEGER NOT NULL,
    PRIMARY KEY (message_id, seq)
  ) WITHOUT ROWID;
  -- idempotent resends of edits, deletes and reactions (messages keep their client_id column)
  CREATE TABLE change_ids (
    server_id INTEGER NOT NULL,
    username TEXT NOT NULL,
    kind TEXT NOT NULL,
    client_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    ts TEXT NOT NULL,
    PRIMARY KEY (server_id, username, kind, client_id)
  ) WITHOUT ROWID;
  `,
  `
  -- attachments (see attachments-store.ts): an upload's metadata; its bytes are in
  -- DATA_DIR/attachments (embedded) or the NATS Object Store. message_id NULL: not sent yet
  CREATE TABLE attachments (
    id TEXT PRIMARY KEY,
    server_id INTEGER NOT NULL,
    uploader TEXT NOT NULL,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    size INTEGER NOT NULL,
    width INTEGER,
    height INTEGER,
    message_id INTEGER,
    position INTEGER,                   -- its place among the message's attachments
    created_at TEXT NOT NULL
  );
  CREATE INDEX attachments_by_message ON attachments(message_id, position)
    WHERE message_id IS NOT NULL;
  CREATE INDEX attachments_unsent ON attachments(created_at) WHERE message_id IS NULL;
  `,
  `
  -- search (see search-store.ts): a full-text index of the messages not deleted, their text and
  -- author, kept by the triggers below in the transaction that writes the message, so an acked
  -- message, edit or delete is searchable at once. External content: the index holds the words,
  -- not a second copy of the text. unicode61 remove_diacritics 2 ignores case and diacritics;
  -- prefix indexes of 2 and 3 characters serve word* queries.
  CREATE VIRTUAL TABLE messages_fts USING fts5(
    text, username,
    content = 'messages', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
  );
  -- deleted means gone: a delete takes the row's words out of the index's pages at once, instead
  -- of marking them deleted until a merge (SQLite >= 3.44); secure_delete zeroes what it frees
  INSERT INTO messages_fts (messages_fts, rank) VALUES ('secure-delete', 1);
  -- segments are merged 8 at a time, not 4: fewer, bigger merges halve what indexing a message
  -- costs in a big index (bench/search.ts), for a few more segments per query to look in
  INSERT INTO messages_fts (messages_fts, rank) VALUES ('automerge', 8);
  INSERT INTO messages_fts (rowid, text, username)
    SELECT id, text, username FROM messages WHERE deleted = 0;
  -- merged into one segment now: else the segments of that bulk insert are merged bit by bit by
  -- the writes that follow, which then take ten times as long for a while (measured at 200,000)
  INSERT INTO messages_fts (messages_fts) VALUES ('optimize');
  -- an external-content index is told the old values to remove: exactly what was indexed
  CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages WHEN new.deleted = 0 BEGIN
    INSERT INTO messages_fts (rowid, text, username) VALUES (new.id, new.text, new.username);
  END;
  CREATE TRIGGER messages_fts_update AFTER UPDATE OF text, username, deleted ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text, username)
      SELECT 'delete', old.id, old.text, old.username WHERE old.deleted = 0;
    INSERT INTO messages_fts (rowid, text, username)
      SELECT new.id, new.text, new.username WHERE new.deleted = 0;
  END;
  CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN old.deleted = 0 BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text, username)
      VALUES ('delete', old.id, old.text, old.username);
  END;
  `,
  `
  -- mentions (see readers-store.ts), computed when a message is stored or edited
  ALTER TABLE messages ADD COLUMN mentions TEXT;          -- JSON array of usernames; NULL: none
  ALTER TABLE messages ADD COLUMN mention_room INTEGER NOT NULL DEFAULT 0;
  -- what the mentions counts read: one row per mentioned user, '' for @room/@everyone
  CREATE TABLE message_mentions (
    server_id INTEGER NOT NULL,
    target TEXT NOT NULL,
    message_id INTEGER NOT NULL,
    author TEXT NOT NULL,
    PRIMARY KEY (server_id, target, message_id)
  ) WITHOUT ROWID;
  -- every user who can be mentioned and has read markers (accounts, JWT and open-mode users);
  -- read_from: the counter of ids when they appeared: a room's marker starts at its newest id
  -- up to it (so 0 for rooms made later)
  CREATE TABLE readers (
    username TEXT PRIMARY KEY,
    name_key TEXT NOT NULL,
    read_from INTEGER NOT NULL
  );
  CREATE INDEX readers_by_key ON readers(name_key);
  INSERT INTO readers (username, name_key, read_from)
    SELECT username, name_key, (SELECT coalesce(max(id), 0) FROM messages) FROM users;
  -- per user and room: a public room joined, the read marker (NULL: where it starts), the
  -- notification level (NULL: mentions)
  CREATE TABLE room_readers (
    username TEXT NOT NULL,
    server_id INTEGER NOT NULL,
    joined INTEGER NOT NULL DEFAULT 0,
    last_read INTEGER,
    notify TEXT,
    PRIMARY KEY (username, server_id)
  ) WITHOUT ROWID;
  `,
];

/**
 * The name rules: room names stored NFC, unique under `nameKey` (NFKC, case folded) instead of
 * plain lower case. Names are not made valid here (one with a zero-width space keeps it: it is
 * the room's name), only put in NFC, which changes no character a reader sees. Rooms whose names
 * now share a key all stay, with their ids and messages: the oldest (lowest id) holds the key,
 * so creating the name again is refused; each later one gets a key no valid name can have (the
 * key, NUL, its id) and is listed by `duplicateNameRooms`.
 */
function rekeyRoomNames(db: Database.Database): void {
  const rooms = db
    .prepare<[], { id: number; name: string }>('SELECT id, name FROM rooms ORDER BY id')
    .all();
  // Every key out of the way first, so that no new key meets an old one mid-way.
  db.exec('UPDATE rooms SET name_key = char(0) || id');
  const update = db.prepare<[string, string, number]>(
    'UPDATE rooms SET name = ?, name_key = ? WHERE id = ?',
  );
  const taken = new Set<string>();
  for (const { id, name } of rooms) {
    const key = nameKey(name);
    update.run(name.normalize('NFC'), taken.has(key) ? `${key}\u0000${id}` : key, id);
    taken.add(key);
  }
}

export class SchemaTooNewError extends Error {
  override name = 'SchemaTooNewError';
}

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Brings the schema to `target` (the latest unless a test builds an older database). */
export function migrate(db: Database.Database, target = SCHEMA_VERSION): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new SchemaTooNewError(
      `the database has schema version ${current}, newer than this build's ${SCHEMA_VERSION}`,
    );
  }
  // Off while tables are rebuilt (a table referenced by others is dropped and made anew: SQLite's
  // documented way), checked before each step commits. The caller turns enforcement on.
  db.pragma('foreign_keys = OFF');
  for (let version = current; version < target; version++) {
    db.transaction(() => {
      const migration = MIGRATIONS[version] as Migration;
      if (typeof migration === 'string') db.exec(migration);
      else migration(db);
      const broken = db.pragma('foreign_key_check') as unknown[];
      if (broken.length > 0) throw new Error(`migration ${version + 1} broke foreign keys`);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}
