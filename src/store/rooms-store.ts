import type Database from 'better-sqlite3';
import { nameKey } from '../domain/names.ts';
import { canManage, canSee } from '../domain/rooms.ts';
import type { Room, RoomRefusal, RoomStateEvent, Viewer } from '../domain/rooms.ts';

/** How a room event was applied: the room (and members) it left, or why it was refused. */
export type RoomApplyResult =
  | { ok: true; room?: Room; members?: string[]; existed?: boolean }
  | { ok: false; refusal: RoomRefusal };

interface RoomRow {
  id: number;
  name: string | null;
  created_at: string;
  private: number;
  dm: number;
  archived: number;
  owner: string | null;
}

const ROOM_COLUMNS =
  'id, name, created_at, private, dm_key IS NOT NULL AS dm, archived, owner FROM rooms';
/** Rooms `?` (username) is a member of. */
const MEMBER_OF = 'id IN (SELECT server_id FROM room_members WHERE username = ?)';
/** Rooms a viewer sees, with parameters (admin 0/1, username). */
const VISIBLE = `(private = 0 OR (? = 1 AND dm_key IS NULL) OR ${MEMBER_OF})`;

const ROLLBACK = new Error('rolled back: a check only');

type Of<K extends RoomStateEvent['type']> = Extract<RoomStateEvent, { type: K }>;

/**
 * Rooms and their members in SQLite. Reads answer a viewer only what they may see (domain/rooms.ts);
 * every change is a `RoomStateEvent` written by `write` inside the caller's transaction, checked
 * against the stored state only (no clock), so that the same events in the same order give the
 * same rooms anywhere.
 */
export class RoomsStore {
  private readonly stmt;

  constructor(
    private readonly db: Database.Database,
    /** A user became a member of a room they were not a member of (not its creator). */
    private readonly onNewMember: (serverId: number, username: string) => void = () => undefined,
  ) {
    this.stmt = {
      room: db.prepare<[number], RoomRow>(`SELECT ${ROOM_COLUMNS} WHERE id = ?`),
      publicRooms: db.prepare<[number], RoomRow>(
        `SELECT ${ROOM_COLUMNS} WHERE private = 0 AND archived = ? ORDER BY id`,
      ),
      visibleRooms: db.prepare<[number, number, string], RoomRow>(
        `SELECT ${ROOM_COLUMNS} WHERE archived = ? AND ${VISIBLE} ORDER BY id`,
      ),
      roomIds: db.prepare<[], { id: number }>('SELECT id FROM rooms ORDER BY id'),
      readableIds: db.prepare<[number, string], { id: number }>(
        `SELECT id FROM rooms WHERE ${VISIBLE}`,
      ),
      readableNamed: db.prepare<[string, number, string], { id: number }>(
        `SELECT id FROM rooms WHERE name_key = ? AND ${VISIBLE}`,
      ),
      roomCount: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM rooms'),
      archivedIds: db.prepare<[], { id: number }>('SELECT id FROM rooms WHERE archived = 1'),
      // keys made unique by the name-rules migration: `key NUL id` (migrations.ts)
      duplicateNames: db.prepare<[], RoomRow>(
        `SELECT ${ROOM_COLUMNS} WHERE instr(name_key, char(0)) > 0 ORDER BY id`,
      ),
      nameSeen: db.prepare<[string, number, number, string], { id: number }>(
        `SELECT id FROM rooms WHERE name_key = ? AND id != ? AND ${VISIBLE} LIMIT 1`,
      ),
      insertRoom: db.prepare<
        [string | null, string | null, string, number, string | null, string | null]
      >(
        'INSERT INTO rooms (name, name_key, created_at, private, dm_key, owner) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      dmByKey: db.prepare<[string], { id: number }>('SELECT id FROM rooms WHERE dm_key = ?'),
      rename: db.prepare<[string, string, number]>(
        'UPDATE rooms SET name = ?, name_key = ? WHERE id = ?',
      ),
      setArchived: db.prepare<[number, number]>('UPDATE rooms SET archived = ? WHERE id = ?'),
      setOwner: db.prepare<[string | null, number]>('UPDATE rooms SET owner = ? WHERE id = ?'),
      isMember: db.prepare<[number, string], { one: number }>(
        'SELECT 1 AS one FROM room_members WHERE server_id = ? AND username = ?',
      ),
      members: db.prepare<[number], { username: string }>(
        'SELECT username FROM room_members WHERE server_id = ? ORDER BY username',
      ),
      addMember: db.prepare<[number, string]>(
        'INSERT OR IGNORE INTO room_members (server_id, username) VALUES (?, ?)',
      ),
      removeMember: db.prepare<[number, string]>(
        'DELETE FROM room_members WHERE server_id = ? AND username = ?',
      ),
      user: db.prepare<[string], { username: string }>(
        'SELECT username FROM users WHERE name_key = ?',
      ),
    };
  }

  /**
   * The rooms a viewer sees (undefined: the anonymous viewer of open mode, public rooms only),
   * archived ones or the others, by id.
   */
  list(viewer: Viewer | undefined, archived: boolean): Room[] {
    const flag = archived ? 1 : 0;
    const rows = viewer
      ? this.stmt.visibleRooms.all(flag, viewer.admin ? 1 : 0, viewer.username)
      : this.stmt.publicRooms.all(flag);
    return rows.map((row) => this.toRoom(row));
  }

  /** The room, if `viewer` may see it; `'anyone'`: whatever it is (storage's own use). */
  get(id: number, viewer: Viewer | undefined | 'anyone'): Room | undefined {
    const row = this.stmt.room.get(id);
    if (!row) return undefined;
    const room = this.toRoom(row);
    if (viewer === 'anyone') return room;
    return canSee(room, viewer, viewer !== undefined && this.isMember(id, viewer.username))
      ? room
      : undefined;
  }

  /**
   * The ids of the rooms a viewer may read (undefined: open mode's anonymous viewer), archived
   * ones included; with `name`, only those of that name (after folding, as names are unique).
   */
  readableIds(viewer: Viewer | undefined, name?: string): number[] {
    const admin = viewer?.admin ? 1 : 0;
    // nobody is a member of anything as NUL: the anonymous viewer reads public rooms only
    const username = viewer?.username ?? '\u0000';
    const rows =
      name === undefined
        ? this.stmt.readableIds.all(admin, username)
        : this.stmt.readableNamed.all(nameKey(name), admin, username);
    return rows.map((row) => row.id);
  }

  ids(): number[] {
    return this.stmt.roomIds.all().map((row) => row.id);
  }

  count(): number {
    return this.stmt.roomCount.get()?.n ?? 0;
  }

  archivedIds(): number[] {
    return this.stmt.archivedIds.all().map((row) => row.id);
  }

  /**
   * Rooms made before the name rules whose names became one with an older room's (a composed
   * and a decomposed `café`): kept as they were, but their name can no longer be created.
   */
  duplicateNames(): Room[] {
    return this.stmt.duplicateNames.all().map((row) => this.toRoom(row));
  }

  /** Sorted by code point (SQLite compares UTF-8 bytes: the same order). */
  members(id: number): string[] {
    return this.stmt.members.all(id).map((row) => row.username);
  }

  isMember(id: number, username: string): boolean {
    return this.stmt.isMember.get(id, username) !== undefined;
  }

  /** The stored name of the user whose name folds to this one's key, if any. */
  userNamed(name: string): string | undefined {
    return this.stmt.user.get(nameKey(name))?.username;
  }

  /** Whether a room other than `except` that `viewer` sees has this name (after folding). */
  nameTaken(name: string, viewer: Viewer | undefined, except = 0): boolean {
    const key = nameKey(name);
    if (!viewer) return this.stmt.nameSeen.get(key, except, 0, '\u0000') !== undefined;
    return this.stmt.nameSeen.get(key, except, viewer.admin ? 1 : 0, viewer.username) !== undefined;
  }

  /**
   * What applying the event now would answer, without keeping it (its transaction is rolled
   * back): the check made before an event is published, by the very code that applies it.
   */
  check(event: RoomStateEvent): RoomApplyResult {
    let result: RoomApplyResult | undefined;
    try {
      this.db.transaction(() => {
        result = this.write(event);
        throw ROLLBACK;
      })();
    } catch (error) {
      if (error !== ROLLBACK) throw error;
    }
    return result as RoomApplyResult;
  }

  /** Applies one event; call inside a transaction (nothing is written when it is refused). */
  write(event: RoomStateEvent): RoomApplyResult {
    switch (event.type) {
      case 'room_created':
        return this.create(event);
      case 'room_updated':
        return this.update(event);
      case 'member_added':
        return this.addMember(event);
      case 'member_removed':
        return this.removeMember(event);
      case 'dm_opened':
        return this.openDm(event);
    }
  }

  private create(event: Of<'room_created'>): RoomApplyResult {
    const owner =
      event.owner === null ? undefined : { username: event.owner, admin: event.by_admin };
    if (this.nameTaken(event.name, owner)) return { ok: false, refusal: 'room_name_taken' };
    const info = this.insertRoom(event.name, event.created_at, event.private, null, event.owner);
    const id = Number(info.lastInsertRowid);
    if (event.private && event.owner !== null) this.stmt.addMember.run(id, event.owner);
    return { ok: true, room: this.get(id, 'anyone') as Room };
  }

  private update(event: Of<'room_updated'>): RoomApplyResult {
    const by = { username: event.by, admin: event.by_admin };
    const room = this.get(event.server_id, by);
    if (!room) return { ok: false, refusal: 'room_not_found' };
    if (!canManage(room, by)) return { ok: false, refusal: 'forbidden' };
    let owner: string | undefined;
    if (event.owner !== undefined) {
      if (!event.by_admin) return { ok: false, refusal: 'forbidden' };
      owner = this.userNamed(event.owner);
      if (owner === undefined) return { ok: false, refusal: 'user_not_found' };
    }
    if (event.name !== undefined && this.nameTaken(event.name, by, room.id)) {
      return { ok: false, refusal: 'room_name_taken' };
    }
    if (event.name !== undefined) this.stmt.rename.run(event.name, nameKey(event.name), room.id);
    if (event.archived !== undefined) this.stmt.setArchived.run(event.archived ? 1 : 0, room.id);
    if (owner !== undefined) {
      this.stmt.setOwner.run(owner, room.id);
      if (room.private && !this.isMember(room.id, owner)) {
        this.onNewMember(room.id, owner);
        this.stmt.addMember.run(room.id, owner);
      }
    }
    return { ok: true, room: this.get(room.id, 'anyone') as Room };
  }

  private addMember(event: Of<'member_added'>): RoomApplyResult {
    const by = { username: event.by, admin: event.by_admin };
    const room = this.get(event.server_id, by);
    if (!room) return { ok: false, refusal: 'room_not_found' };
    if (!room.private) return { ok: false, refusal: 'public_room' };
    if (!canManage(room, by)) return { ok: false, refusal: 'forbidden' };
    const username = this.userNamed(event.username);
    if (username === undefined) return { ok: false, refusal: 'user_not_found' };
    const existed = this.isMember(room.id, username);
    if (!existed) this.onNewMember(room.id, username);
    this.stmt.addMember.run(room.id, username);
    return { ok: true, room, members: this.members(room.id), existed };
  }

  private removeMember(event: Of<'member_removed'>): RoomApplyResult {
    const by = { username: event.by, admin: event.by_admin };
    const room = this.get(event.server_id, by);
    if (!room) return { ok: false, refusal: 'room_not_found' };
    if (!room.private) return { ok: false, refusal: 'public_room' };
    if (event.username !== event.by && !canManage(room, by)) {
      return { ok: false, refusal: 'forbidden' };
    }
    if (room.dm) return { ok: false, refusal: 'forbidden' };
    if (this.stmt.removeMember.run(room.id, event.username).changes === 0) {
      return { ok: false, refusal: 'not_a_member' };
    }
    // an owner who leaves gives the room up: the admins manage it from then on
    if (room.owner === event.username) this.stmt.setOwner.run(null, room.id);
    return { ok: true, room, members: this.members(room.id) };
  }

  private openDm(event: Of<'dm_opened'>): RoomApplyResult {
    const [first, second] = event.usernames.map((name) => this.userNamed(name));
    if (first === undefined || second === undefined) {
      return { ok: false, refusal: 'user_not_found' };
    }
    if (first === second) return { ok: false, refusal: 'dm_with_oneself' };
    const dmKey = [nameKey(first), nameKey(second)].sort().join('\u0000');
    const found = this.stmt.dmByKey.get(dmKey);
    if (found) return { ok: true, room: this.get(found.id, 'anyone') as Room, existed: true };
    const id = Number(this.insertRoom(null, event.created_at, true, dmKey, null).lastInsertRowid);
    this.stmt.addMember.run(id, first);
    this.stmt.addMember.run(id, second);
    return { ok: true, room: this.get(id, 'anyone') as Room, existed: false };
  }

  private insertRoom(
    name: string | null,
    createdAt: string,
    isPrivate: boolean,
    dmKey: string | null,
    owner: string | null,
  ): Database.RunResult {
    return this.stmt.insertRoom.run(
      name,
      name === null ? null : nameKey(name),
      createdAt,
      isPrivate ? 1 : 0,
      dmKey,
      owner,
    );
  }

  private toRoom(row: RoomRow): Room {
    const room: Room = {
      id: row.id,
      name: row.name,
      created_at: row.created_at,
      private: row.private === 1,
      dm: row.dm === 1,
      archived: row.archived === 1,
      owner: row.owner,
    };
    if (room.dm) room.members = this.members(room.id);
    return room;
  }
}
