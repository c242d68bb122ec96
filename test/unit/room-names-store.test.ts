/**
 * Room names in storage: every room is made through the history service (both modes), which
 * applies the name rules; the migration to the name rules keys the rooms of an older database
 * and keeps rooms whose names became one.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { ChatError } from '../../src/errors.ts';
import { HistoryService } from '../../src/history/history-service.ts';
import { migrate, SCHEMA_VERSION } from '../../src/store/migrations.ts';
import { tempDir } from '../helpers/chat-server.ts';
import { createRoomIn, publicRooms } from '../helpers/rooms.ts';

const open: HistoryService[] = [];
function service(dir = tempDir()): HistoryService {
  const history = new HistoryService(dir);
  open.push(history);
  return history;
}
afterEach(() => {
  for (const history of open.splice(0)) history.close();
});

const codeOf = (work: () => unknown): string | undefined => {
  try {
    work();
  } catch (error) {
    if (error instanceof ChatError) return error.code;
    throw error;
  }
  return undefined;
};

describe('rooms made through the history service', () => {
  it('stores names trimmed and NFC, and refuses a name equal to another after NFKC case folding', () => {
    const history = service();
    expect(createRoomIn(history, '  cafe\u0301 ').name).toBe('caf\u00e9');
    expect(codeOf(() => createRoomIn(history, 'CAFÉ'))).toBe('room_name_taken');
    expect(codeOf(() => createRoomIn(history, 'ｇｅｎｅｒａｌ'))).toBe('room_name_taken');
    expect(codeOf(() => createRoomIn(history, 'General'))).toBe('room_name_taken');
    expect(codeOf(() => createRoomIn(history, 'general\u200b'))).toBe('invalid_room_name');
    expect(publicRooms(history).map((room) => room.name)).toEqual(['general', 'café']);
  });
});

/**
 * A database as the build before the name rules left it: schema version 2 (no later table),
 * keys were `lower(name)`.
 */
function legacyDatabase(names: string[]): string {
  const dir = tempDir();
  const db = new Database(path.join(dir, 'chatroom.db'));
  migrate(db, 2);
  const insert = db.prepare(
    "INSERT INTO rooms (name, name_key, created_at) VALUES (?, lower(?), '2026-01-01T00:00:00.000Z')",
  );
  for (const name of names) insert.run(name, name);
  db.exec('UPDATE rooms SET name_key = lower(name)');
  db.pragma('user_version = 2');
  db.close();
  return dir;
}

describe('the migration to the name rules', () => {
  it('keys existing rooms, keeps rooms whose names became one, and lets the oldest hold the name', () => {
    // Distinct under the old lower-case key, one name under the new one.
    const dir = legacyDatabase([
      'Café',
      'cafe\u0301',
      'ｇｅｎｅｒａｌ',
      'Straße',
      'STRASSE',
      'solo',
    ]);
    const history = service(dir);
    const rooms = publicRooms(history);
    expect(rooms.map((room) => [room.id, room.name])).toEqual([
      [1, 'general'],
      [2, 'Café'],
      [3, 'caf\u00e9'], // put in NFC
      [4, 'ｇｅｎｅｒａｌ'],
      [5, 'Straße'],
      [6, 'STRASSE'],
      [7, 'solo'],
    ]);
    expect(history.rooms.duplicateNames().map((room) => room.id)).toEqual([3, 4, 6]);
    for (const taken of ['café', 'GENERAL', 'strasse', 'SOLO']) {
      expect(
        codeOf(() => createRoomIn(history, taken)),
        taken,
      ).toBe('room_name_taken');
    }
    expect(createRoomIn(history, 'new').id).toBe(8);

    // once migrated, a restart changes nothing
    history.close();
    open.pop();
    const again = service(dir);
    expect(publicRooms(again)).toEqual([...rooms, expect.objectContaining({ id: 8 })]);
    expect(again.rooms.duplicateNames().map((room) => room.id)).toEqual([3, 4, 6]);
    const db = new Database(path.join(dir, 'chatroom.db'), { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    db.close();
  });
});
