import type Database from 'better-sqlite3';
import { findMentions } from '../domain/mentions.ts';
import type { Mentions } from '../domain/mentions.ts';
import { nameKey } from '../domain/names.ts';
import type { Room } from '../domain/rooms.ts';
import { DEFAULT_NOTIFY, isNotifyLevel } from '../domain/notify.ts';
import type { NotifyLevel } from '../domain/notify.ts';
import { COUNT_CAP } from '../domain/unread.ts';
import type { ReaderEvent, RoomUnread, UnreadCounts } from '../domain/unread.ts';
import type { RoomsStore } from './rooms-store.ts';

interface ReaderRow {
  joined: number;
  last_read: number | null;
  notify: string | null;
}

/** How a reader event was applied (each is applied whole, or refused without a change). */
export type ReaderApplyResult = { ok: true } | { ok: false; refusal: 'room_not_found' };

/** What the mentions columns of a message hold. */
export interface StoredMentions {
  mentions: string | null;
  mention_room: number;
}

/**
 * Mentions, read markers, notification levels and joined public rooms in SQLite (see
 * domain/unread.ts). Counts are read from the markers with the indexes, never kept: `unread` is a
 * range of `messages` by (server_id, id), `mentions` one of `message_mentions`, each stopped at
 * COUNT_CAP rows, so a count costs what is unread (at most 1000 rows), whatever the room holds.
 * Every change is a `ReaderEvent` written by `write` inside the caller's transaction, from the
 * event and the stored state only.
 */
export class ReadersStore {
  private readonly stmt;

  constructor(
    db: Database.Database,
    private readonly rooms: RoomsStore,
  ) {
    this.stmt = {
      // the newest message id of all rooms: the same at the same point of the log, however the
      // log was batched (so a store rebuilt from the stream has the same readers)
      counter: db.prepare<[], { n: number }>('SELECT coalesce(max(id), 0) AS n FROM messages'),
      addReader: db.prepare<[string, string, number]>(
        'INSERT OR IGNORE INTO readers (username, name_key, read_from) VALUES (?, ?, ?)',
      ),
      byKey: db.prepare<[string], { username: string }>(
        'SELECT username FROM readers WHERE name_key = ? ORDER BY username',
      ),
      row: db.prepare<[string, number], ReaderRow>(
        'SELECT joined, last_read, notify FROM room_readers WHERE username = ? AND server_id = ?',
      ),
      // where a marker starts: the room's newest id when the user appeared (0 for later rooms)
      startOf: db.prepare<[number, string], { id: number }>(
        `SELECT coalesce(max(id), 0) AS id FROM messages WHERE server_id = ? AND id <=
           coalesce((SELECT read_from FROM readers WHERE username = ?), ${Number.MAX_SAFE_INTEGER})`,
      ),
      newest: db.prepare<[number], { id: number | null }>(
        'SELECT max(id) AS id FROM messages WHERE server_id = ?',
      ),
      join: db.prepare<[string, number, number]>(
        'INSERT INTO room_readers (username, server_id, joined) VALUES (?, ?, ?) ON CONFLICT (username, server_id) DO UPDATE SET joined = excluded.joined',
      ),
      setRead: db.prepare<[string, number, number]>(
        'INSERT INTO room_readers (username, server_id, last_read) VALUES (?, ?, ?) ON CONFLICT (username, server_id) DO UPDATE SET last_read = excluded.last_read',
      ),
      setNotify: db.prepare<[string, number, string]>(
        'INSERT INTO room_readers (username, server_id, notify) VALUES (?, ?, ?) ON CONFLICT (username, server_id) DO UPDATE SET notify = excluded.notify',
      ),
      // one statement for both counts: each a range of its index, stopped at COUNT_CAP rows
      counts: db.prepare<
        [number, number, string, number, string, number, string],
        { unread: number; mentions: number }
      >(
        `SELECT
           (SELECT count(*) FROM (SELECT 1 FROM messages WHERE server_id = ? AND id > ? AND deleted = 0 AND username != ? LIMIT ${COUNT_CAP})) AS unread,
           (SELECT count(*) FROM (SELECT 1 FROM message_mentions WHERE server_id = ? AND target IN (?, '') AND message_id > ? AND author != ? LIMIT ${COUNT_CAP})) AS mentions`,
      ),
      userRooms: db.prepare<[string, string], { id: number }>(
        `SELECT server_id AS id FROM room_members WHERE username = ?
         UNION SELECT rr.server_id FROM room_readers rr JOIN rooms r ON r.id = rr.server_id
           WHERE rr.username = ? AND rr.joined = 1 AND r.private = 0
         ORDER BY 1`,
      ),
      addMention: db.prepare<[number, string, number, string]>(
        'INSERT OR IGNORE INTO message_mentions (server_id, target, message_id, author) VALUES (?, ?, ?, ?)',
      ),
      dropMention: db.prepare<[number, string, number]>(
        'DELETE FROM message_mentions WHERE server_id = ? AND target = ? AND message_id = ?',
      ),
    };
  }

  /** The newest message id now: a user who appears now starts reading every room from here. */
  counter(): number {
    return this.stmt.counter.get()?.n ?? 0;
  }

  /** The room's newest message id, deleted ones included (0: none). */
  newest(serverId: number): number {
    return this.stmt.newest.get(serverId)?.id ?? 0;
  }

  /** Makes a user known (who can be mentioned, whose markers start now); a known one stays. */
  addReader(username: string): void {
    this.stmt.addReader.run(username, nameKey(username), this.counter());
  }

  /** What `text` mentions among the users who can see the room (its members, when private). */
  mentionsFor(room: Room, text: string): Mentions {
    return findMentions(text, (key) => {
      const names = this.stmt.byKey.all(key).map((row) => row.username);
      return room.private ? names.filter((name) => this.rooms.isMember(room.id, name)) : names;
    });
  }

  /** The message's mentions as its columns hold them. */
  static columns(found: Mentions): StoredMentions {
    return {
      mentions: found.mentions.length > 0 ? JSON.stringify(found.mentions) : null,
      mention_room: found.mention_room ? 1 : 0,
    };
  }

  /** The rows the mentions counts read, for a message stored with `found`. */
  recordMentions(serverId: number, messageId: number, author: string, found: Mentions): void {
    for (const target of targetsOf(found)) {
      this.stmt.addMention.run(serverId, target, messageId, author);
    }
  }

  /** Drops those rows again (an edit replaces them, a delete removes them). */
  dropMentions(serverId: number, messageId: number, stored: StoredMentions): void {
    const found = {
      mentions: stored.mentions === null ? [] : (JSON.parse(stored.mentions) as string[]),
      mention_room: stored.mention_room === 1,
    };
    for (const target of targetsOf(found)) this.stmt.dropMention.run(serverId, target, messageId);
  }

  /** The user's marker in the room: where they read up to, or where it starts. */
  marker(username: string, serverId: number): number {
    return this.markerOf(this.stmt.row.get(username, serverId), username, serverId);
  }

  level(username: string, serverId: number): NotifyLevel {
    return levelOf(this.stmt.row.get(username, serverId));
  }

  /** Whether the room is one of the user's: a public room joined, a private room or DM of theirs. */
  counted(username: string, room: Room): boolean {
    return this.isCounted(this.stmt.row.get(username, room.id), username, room);
  }

  /** The user's counts in the room; 0 and 0 when it is not one of their rooms. */
  counts(username: string, room: Room): UnreadCounts {
    const row = this.stmt.row.get(username, room.id);
    const lastRead = this.markerOf(row, username, room.id);
    if (!this.isCounted(row, username, room)) {
      return { server_id: room.id, unread: 0, mentions: 0, last_read: lastRead };
    }
    return this.countsFrom(username, room, lastRead);
  }

  /** The room as one of the user's (counts, level, DM), or undefined when it is not theirs. */
  roomUnread(username: string, room: Room): RoomUnread | undefined {
    const row = this.stmt.row.get(username, room.id);
    if (!this.isCounted(row, username, room)) return undefined;
    const counts = this.countsFrom(username, room, this.markerOf(row, username, room.id));
    return { ...counts, notify: levelOf(row), dm: room.dm };
  }

  /** Every room of the user's, by id. */
  userRooms(username: string): RoomUnread[] {
    return this.stmt.userRooms.all(username, username).flatMap(({ id }) => {
      const room = this.rooms.get(id, 'anyone');
      return (room && this.roomUnread(username, room)) ?? [];
    });
  }

  private countsFrom(username: string, room: Room, lastRead: number): UnreadCounts {
    const id = room.id;
    const found = this.stmt.counts.get(id, lastRead, username, id, username, lastRead, username);
    const unread = found?.unread ?? 0;
    // every message of a DM asks for its other member
    const mentions = room.dm ? unread : (found?.mentions ?? 0);
    return { server_id: id, unread, mentions, last_read: lastRead };
  }

  private markerOf(row: ReaderRow | undefined, username: string, serverId: number): number {
    return row?.last_read ?? this.stmt.startOf.get(serverId, username)?.id ?? 0;
  }

  private isCounted(row: ReaderRow | undefined, username: string, room: Room): boolean {
    if (room.private) return this.rooms.isMember(room.id, username);
    return row?.joined === 1;
  }

  /**
   * A member added to a private room starts reading it from its newest message; a marker
   * already past it stays (only forward).
   */
  startMarker(serverId: number, username: string): void {
    const newest = this.newest(serverId);
    if (newest > this.marker(username, serverId)) this.stmt.setRead.run(username, serverId, newest);
  }

  /** Applies one event; call inside a transaction. */
  write(event: ReaderEvent): ReaderApplyResult {
    switch (event.type) {
      case 'room_joined':
      case 'room_left': {
        const room = this.rooms.get(event.server_id, 'anyone');
        if (!room) return { ok: false, refusal: 'room_not_found' };
        if (event.type === 'room_joined') this.addReader(event.username);
        // private rooms and DMs are their members' by membership
        if (!room.private) {
          this.stmt.join.run(event.username, room.id, event.type === 'room_joined' ? 1 : 0);
        }
        return { ok: true };
      }
      case 'markers_moved':
        for (const marker of event.markers) {
          this.moveMarker(marker.username, marker.server_id, marker.id, event.join);
        }
        return { ok: true };
      case 'notify_set':
        if (!this.rooms.get(event.server_id, 'anyone')) {
          return { ok: false, refusal: 'room_not_found' };
        }
        this.stmt.setNotify.run(event.username, event.server_id, event.level);
        return { ok: true };
    }
  }

  /** Forward only; an id past the room's newest is its newest. `join`: a public room joins. */
  private moveMarker(username: string, serverId: number, id: number, join: boolean): void {
    const room = this.rooms.get(serverId, 'anyone');
    if (!room) return;
    this.addReader(username);
    if (join && !room.private) this.stmt.join.run(username, serverId, 1);
    const target = Math.min(id, this.newest(serverId));
    if (target > this.marker(username, serverId)) this.stmt.setRead.run(username, serverId, target);
  }
}

function levelOf(row: ReaderRow | undefined): NotifyLevel {
  return isNotifyLevel(row?.notify) ? row.notify : DEFAULT_NOTIFY;
}

/** The `message_mentions` targets of a message: its users, or '' once for the whole room. */
function targetsOf(found: Mentions): string[] {
  return found.mention_room ? [''] : found.mentions;
}
