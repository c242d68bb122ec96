/**
 * A small source of truth for transcript tests: a SQLite table of entries (messages with their
 * latest text, tombstones), as storage keeps them once edits and deletes exist, and the
 * transcript store and sync on the same directory.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { TranscriptStore } from '../../src/store/transcript.ts';
import type { TranscriptEntry } from '../../src/store/transcript.ts';
import { TranscriptSync } from '../../src/store/transcript-sync.ts';
import type { TranscriptLog } from '../../src/store/transcript-sync.ts';

interface Row {
  id: number;
  server_id: number;
  username: string;
  text: string | null;
  ts: string;
  edited_at: string | null;
  reply_to: number | null;
}

export const TS = '2026-11-24T00:00:00.000Z';
export const EDITED_AT = '2026-11-24T00:01:00.000Z';

export class EntrySource {
  readonly db: Database.Database;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS entries (
      id INTEGER PRIMARY KEY AUTOINCREMENT, server_id INTEGER NOT NULL, username TEXT NOT NULL,
      text TEXT, ts TEXT NOT NULL, edited_at TEXT, reply_to INTEGER)`);
  }

  /** Stores new messages (ids from one counter across rooms, as in the chat). */
  insert(
    messages: ReadonlyArray<{ serverId: number; text: string; replyTo?: number }>,
  ): TranscriptEntry[] {
    const insert = this.db.prepare(
      'INSERT INTO entries (server_id, username, text, ts, reply_to) VALUES (?, ?, ?, ?, ?) RETURNING *',
    );
    return this.db.transaction(() =>
      messages.map((m) =>
        toEntry(insert.get(m.serverId, 'alice', m.text, TS, m.replyTo ?? null) as Row),
      ),
    )();
  }

  edit(id: number, text: string): void {
    this.db
      .prepare('UPDATE entries SET text = ?, edited_at = ? WHERE id = ? AND text IS NOT NULL')
      .run(text, EDITED_AT, id);
  }

  delete(id: number): void {
    this.db.prepare('UPDATE entries SET text = NULL, edited_at = NULL WHERE id = ?').run(id);
  }

  readFrom(serverId: number, fromId: number, limit: number): TranscriptEntry[] {
    const rows = this.db
      .prepare('SELECT * FROM entries WHERE server_id = ? AND id >= ? ORDER BY id LIMIT ?')
      .all(serverId, fromId, limit) as Row[];
    return rows.map(toEntry);
  }

  all(serverId: number): TranscriptEntry[] {
    return this.readFrom(serverId, 0, Number.MAX_SAFE_INTEGER);
  }

  ids(serverId: number): number[] {
    return this.all(serverId).map((e) => e.id);
  }

  rooms(): number[] {
    return (
      this.db.prepare('SELECT DISTINCT server_id FROM entries ORDER BY server_id').all() as Array<{
        server_id: number;
      }>
    ).map((r) => r.server_id);
  }

  close(): void {
    this.db.close();
  }
}

function toEntry(row: Row): TranscriptEntry {
  const { id, server_id, username, ts } = row;
  if (row.text === null) return { id, server_id, username, ts, deleted: true };
  return {
    id,
    server_id,
    username,
    text: row.text,
    ts,
    ...(row.edited_at !== null ? { edited_at: row.edited_at } : {}),
    ...(row.reply_to !== null ? { reply_to: row.reply_to } : {}),
  };
}

export const SILENT_LOG: TranscriptLog = { error() {}, warn() {}, debug() {} };

/** A transcript directory with its SQLite source, store and sync. */
export function openTranscripts(
  dir: string,
  options: { rewriteDelayMs?: number; retryMs?: number; log?: TranscriptLog } = {},
) {
  const source = new EntrySource(path.join(dir, 'source.db'));
  const store = new TranscriptStore(path.join(dir, 'message_history'));
  const sync = new TranscriptSync(store, {
    readFrom: (serverId, fromId, limit) => source.readFrom(serverId, fromId, limit),
    log: options.log ?? SILENT_LOG,
    retryMs: options.retryMs ?? 1000,
    rewriteDelayMs: options.rewriteDelayMs ?? 1000,
  });
  return { source, store, sync };
}

/** The transcript's raw text ('' when there is none). */
export function readTranscriptFile(store: TranscriptStore, serverId: number): string {
  const file = store.fileFor(serverId);
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
}

/**
 * Checks a transcript against its source: every line whole JSON, equal to the source's entry,
 * in id order, each id once. Returns a problem, or undefined.
 */
export function transcriptProblem(
  store: TranscriptStore,
  source: EntrySource,
  serverId: number,
): string | undefined {
  const raw = readTranscriptFile(store, serverId);
  if (raw !== '' && !raw.endsWith('\n')) return `room ${serverId}: the last line is torn`;
  const lines = raw === '' ? [] : raw.slice(0, -1).split('\n');
  const expected = source.all(serverId);
  if (lines.length !== expected.length) {
    return `room ${serverId}: ${lines.length} lines, ${expected.length} entries`;
  }
  for (let i = 0; i < lines.length; i++) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(lines[i]!);
    } catch {
      return `room ${serverId}: line ${i + 1} is not JSON: ${lines[i]!.slice(0, 100)}`;
    }
    if (JSON.stringify(parsed) !== JSON.stringify(expected[i])) {
      return `room ${serverId}: line ${i + 1} is ${lines[i]!.slice(0, 200)}, expected ${JSON.stringify(expected[i]).slice(0, 200)}`;
    }
  }
  return undefined;
}
