import type Database from 'better-sqlite3';
import type { SearchHit, SearchPage } from '../domain/history.ts';
import { nameKey } from '../domain/names.ts';
import type { Viewer } from '../domain/rooms.ts';
import type { SearchQuery } from '../domain/search-query.ts';
import { matchSpans, tokenize } from '../domain/search-text.ts';
import type { Phrase } from '../domain/search-text.ts';
import { MESSAGE_COLUMNS } from './message-rows.ts';
import type { MessageReader, MessageRow } from './message-rows.ts';
import type { RoomsStore } from './rooms-store.ts';

export interface SearchOptions {
  /** Who asks; undefined: open mode's anonymous caller (public rooms only). */
  viewer: Viewer | undefined;
  limit: number;
  before?: number | undefined;
  /** Most bytes of JSON the results may take as one array; at least one is returned. */
  maxBytes: number;
}

const COLUMNS = MESSAGE_COLUMNS.split(', ')
  .map((column) => `m.${column}`)
  .join(', ');
/** The rooms a result may be in (a JSON array of ids), and the author's name key (or null). */
const FILTERS = `m.deleted = 0 AND m.server_id IN (SELECT value FROM json_each(?))
  AND (? IS NULL OR chat_name_key(m.username) = ?)`;

const NOTHING: SearchPage = { results: [], more: false };

/**
 * Search over the full-text index `messages_fts` (migrations.ts: FTS5 over the text and author
 * of every message not deleted, kept by triggers in the writing transaction). The index finds
 * the words, newest first (FTS5 walks its rowids, the message ids, downwards, so a page costs
 * what it reads); the rooms the viewer may read now, `in:` and the exact author (`from:`, names
 * compared by their folded key) filter what it finds.
 */
export class SearchStore {
  private readonly stmt;

  constructor(
    db: Database.Database,
    private readonly rooms: RoomsStore,
    private readonly reader: MessageReader,
  ) {
    // an author compared as names are: lookalikes and case folded (names.ts)
    db.function('chat_name_key', { deterministic: true }, (name) => nameKey(String(name)));
    this.stmt = {
      matching: db.prepare<
        [string, number, string, string | null, string | null, number],
        MessageRow
      >(
        `SELECT ${COLUMNS} FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid
         WHERE messages_fts MATCH ? AND messages_fts.rowid < ? AND ${FILTERS}
         ORDER BY messages_fts.rowid DESC LIMIT ?`,
      ),
      // from: a name without a letter or digit (the index has no word of it): every message
      byAuthor: db.prepare<[number, string, string | null, string | null, number], MessageRow>(
        `SELECT ${COLUMNS} FROM messages m WHERE m.id < ? AND ${FILTERS} ORDER BY m.id DESC LIMIT ?`,
      ),
    };
  }

  /** A page of what `query` finds, newest first. Call inside a (read) transaction. */
  search(query: SearchQuery, options: SearchOptions): SearchPage {
    const rooms = this.roomsOf(query, options.viewer);
    const authors = new Set(query.from.map(nameKey));
    if (rooms.length === 0 || authors.size > 1) return NOTHING;
    const author = authors.values().next().value ?? null;
    const before = options.before ?? Number.MAX_SAFE_INTEGER;
    const expression = ftsExpression(query);
    const roomIds = JSON.stringify(rooms);
    const rows =
      expression === ''
        ? this.stmt.byAuthor.iterate(before, roomIds, author, author, options.limit + 1)
        : this.stmt.matching.iterate(
            expression,
            before,
            roomIds,
            author,
            author,
            options.limit + 1,
          );
    return this.page(rows, query.phrases, options);
  }

  /** The rooms the viewer may read, narrowed to each `in:` name. */
  private roomsOf(query: SearchQuery, viewer: Viewer | undefined): number[] {
    let ids = this.rooms.readableIds(viewer);
    for (const name of query.in) {
      const named = new Set(this.rooms.readableIds(viewer, name));
      ids = ids.filter((id) => named.has(id));
    }
    return ids;
  }

  private page(
    rows: IterableIterator<MessageRow>,
    phrases: readonly Phrase[],
    options: SearchOptions,
  ): SearchPage {
    const results: SearchHit[] = [];
    const names = new Map<number, string | null>();
    let bytes = 2;
    try {
      for (const row of rows) {
        if (results.length === options.limit) return { results, more: true };
        const message = this.reader.message(row);
        let name = names.get(row.server_id);
        if (name === undefined) {
          name = this.rooms.get(row.server_id, 'anyone')?.name ?? null;
          names.set(row.server_id, name);
        }
        const hit: SearchHit = {
          message,
          room: { id: row.server_id, name },
          matches: matchSpans(message.text, phrases),
        };
        const size = Buffer.byteLength(JSON.stringify(hit)) + (results.length > 0 ? 1 : 0);
        if (results.length > 0 && bytes + size > options.maxBytes) return { results, more: true };
        bytes += size;
        results.push(hit);
      }
      return { results, more: false };
    } finally {
      rows.return?.();
    }
  }
}

/**
 * The FTS5 query: each phrase in the text, and the author's words in `username` (the exact name
 * is compared after, by key); '' when the index cannot narrow anything (a name of no words).
 * Every word is quoted, so nothing in `q` is FTS5 syntax (`OR`, `NEAR`, `-` are plain words).
 */
function ftsExpression(query: SearchQuery): string {
  const parts = query.phrases.map((phrase) => `text : (${quoted(phrase.words, phrase.prefix)})`);
  for (const name of query.from) {
    const words = tokenize(name).map((token) => token.text);
    if (words.length > 0) parts.push(`username : (${quoted(words, false)})`);
  }
  return parts.join(' AND ');
}

function quoted(words: readonly string[], prefix: boolean): string {
  const phrase = `"${words.join(' ').replaceAll('"', '""')}"`;
  return prefix ? `${phrase} *` : phrase;
}
