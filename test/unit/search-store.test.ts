/**
 * The search index in storage: the migration that adds it indexes the messages already stored
 * (not the deleted ones), and the triggers keep it with every insert, edit and delete, in the
 * writing transaction.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChangeRequest } from '../../src/domain/changes.ts';
import type { Viewer } from '../../src/domain/rooms.ts';
import { HistoryService } from '../../src/history/history-service.ts';
import { migrate, SCHEMA_VERSION } from '../../src/store/migrations.ts';
import { tempDir } from '../helpers/chat-server.ts';

const open: HistoryService[] = [];
afterEach(() => {
  for (const history of open.splice(0)) history.close();
});

function service(dir = tempDir()): HistoryService {
  const history = new HistoryService(dir);
  open.push(history);
  return history;
}

const found = (history: HistoryService, q: string, viewer: Viewer | null = null) =>
  history.search({ q, viewer, limit: 100 }).results.map((hit) => hit.message.id);

describe('the migration that adds the search index', () => {
  it('indexes the messages already stored, leaving the deleted ones out', () => {
    const dir = tempDir();
    const db = new Database(path.join(dir, 'chatroom.db'));
    migrate(db, SCHEMA_VERSION - 1);
    const insert = db.prepare(
      "INSERT INTO messages (id, server_id, username, text, ts, seq, deleted) VALUES (?, 1, ?, ?, '2026-01-01T00:00:00.000Z', ?, ?)",
    );
    insert.run(1, 'ann', 'an old café message', 1, 0);
    insert.run(2, 'bob', '', 2, 1);
    insert.run(3, 'bob', 'another old one', 3, 0);
    db.close();

    const history = service(dir);
    expect(found(history, 'cafe')).toEqual([1]);
    expect(found(history, 'old')).toEqual([3, 1]);
    expect(found(history, 'from:bob')).toEqual([3]);
  });
});

describe('the index', () => {
  it('follows inserts, edits and deletes, and answers what the viewer may read', () => {
    const history = service();
    const ts = new Date().toISOString();
    const [first, second] = history.appendDrafts(
      [
        { draft: { serverId: 1, username: 'ann', text: 'alpha beta' }, ts },
        { draft: { serverId: 1, username: 'bob', text: 'beta gamma' }, ts },
      ],
      ts,
    ) as Array<{ id: number }>;
    expect(found(history, 'beta')).toEqual([second!.id, first!.id]);
    const edit: ChangeRequest = {
      kind: 'edit',
      serverId: 1,
      id: first!.id,
      username: 'ann',
      text: 'delta',
    };
    expect(history.applyChange(edit, ts).kind).toBe('applied');
    expect(found(history, 'beta')).toEqual([second!.id]);
    expect(found(history, 'delta')).toEqual([first!.id]);
    const erase: ChangeRequest = {
      kind: 'delete',
      serverId: 1,
      id: second!.id,
      username: 'bob',
      admin: false,
    };
    expect(history.applyChange(erase, ts).kind).toBe('applied');
    expect(found(history, 'beta')).toEqual([]);
    expect(found(history, 'from:bob')).toEqual([]);
    // a viewer who may read nothing but public rooms still finds what is public
    expect(found(history, 'delta', { username: 'zed', admin: false })).toEqual([first!.id]);
  });
});
