import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HistoryService } from '../../src/history/history-service.ts';
import { tempDir } from '../helpers/chat-server.ts';
import { createRoomIn, publicRooms } from '../helpers/rooms.ts';

const open: HistoryService[] = [];
function service(dir = tempDir()) {
  const history = new HistoryService(dir);
  open.push(history);
  return { history, dir };
}
afterEach(() => {
  for (const history of open.splice(0)) history.close();
});

const ts = '2026-11-24T00:00:00.000Z';
const draft = (text: string, clientId?: string, serverId = 1) => ({
  draft: { serverId, username: 'alice', text, clientId },
  ts,
});

describe('history service on SQLite', () => {
  it('creates room general with id 1 and keeps it across reopen (migrations run once)', () => {
    const { history, dir } = service();
    expect(publicRooms(history).map((r) => [r.id, r.name])).toEqual([[1, 'general']]);
    createRoomIn(history, 'Second');
    history.close();
    const again = service(dir).history;
    expect(publicRooms(again).map((r) => r.name)).toEqual(['general', 'Second']);
  });

  it('numbers messages in order and finds a client_id only within the dedupe window', () => {
    const { history } = service();
    const [a, b, dup] = history.appendDrafts(
      [draft('one', 'x'), draft('two'), draft('three', 'x')],
      '2026-01-01T00:00:00.000Z',
    );
    expect(a).toMatchObject({ duplicate: false, id: 1 });
    expect(b).toMatchObject({ duplicate: false, id: 2 });
    expect(dup).toEqual({ duplicate: true, id: 1 });
    const [outside] = history.appendDrafts([draft('again', 'x')], '2027-01-01T00:00:00.000Z');
    expect(outside).toMatchObject({ duplicate: false, id: 3 });
  });

  it('answers replays: latest N, since, more and reset', () => {
    const { history } = service();
    history.appendDrafts(
      Array.from({ length: 10 }, (_, i) => draft(`m${i + 1}`)),
      ts,
    );
    const fresh = history.replay({ serverId: 1, replayCount: 3, sinceLimit: 4, maxBytes: 1e6 });
    expect(fresh).toMatchObject({ lastId: 10, more: false, reset: false });
    expect(fresh.messages.map((m) => m.id)).toEqual([8, 9, 10]);
    const since = history.replay({
      serverId: 1,
      since: 2,
      replayCount: 3,
      sinceLimit: 4,
      maxBytes: 1e6,
    });
    expect(since.messages.map((m) => m.id)).toEqual([3, 4, 5, 6]);
    expect(since.more).toBe(true);
    const exact = history.replay({
      serverId: 1,
      since: 6,
      replayCount: 3,
      sinceLimit: 4,
      maxBytes: 1e6,
    });
    expect(exact.messages.map((m) => m.id)).toEqual([7, 8, 9, 10]);
    expect(exact.more).toBe(false);
    const reset = history.replay({
      serverId: 1,
      since: 11,
      replayCount: 3,
      sinceLimit: 4,
      maxBytes: 1e6,
    });
    expect(reset).toMatchObject({ reset: true, lastId: 10 });
    expect(
      history.replay({ serverId: 1, replayCount: 0, sinceLimit: 4, maxBytes: 1e6 }).messages,
    ).toEqual([]);
  });
});

describe('transcripts', () => {
  function lines(dir: string, room: number) {
    const file = path.join(dir, 'message_history', `server_${room}_history.jsonl`);
    return fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { id: number }).id);
  }

  it('writes each message once, in id order, per room', () => {
    const { history, dir } = service();
    const room = createRoomIn(history, 'other').id;
    history.appendDrafts([draft('a'), draft('b', undefined, room), draft('c')], ts);
    history.appendDrafts([draft('c', 'dup'), draft('c', 'dup')], ts);
    expect(lines(dir, 1)).toEqual([1, 3, 4]);
    expect(lines(dir, room)).toEqual([2]);
  });

  it('recovers from a missing tail, a torn line and a missing file; a whole transcript is left alone', () => {
    const { history, dir } = service();
    const room = createRoomIn(history, 'other').id;
    history.appendDrafts(
      Array.from({ length: 5 }, (_, i) => draft(`m${i}`)),
      ts,
    );
    history.appendDrafts([draft('x', undefined, room)], ts);
    const file = path.join(dir, 'message_history', 'server_1_history.jsonl');
    const text = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, text.split('\n').slice(0, 2).join('\n') + '\n{"id":3,"ser');
    fs.rmSync(path.join(dir, 'message_history', `server_${room}_history.jsonl`));
    history.close();

    const reopened = service(dir).history;
    expect(reopened.recoverTranscripts()).toEqual(
      new Map([
        [1, 3],
        [room, 1],
      ]),
    );
    expect(lines(dir, 1)).toEqual([1, 2, 3, 4, 5]);
    expect(lines(dir, room)).toEqual([6]);
    expect(fs.readFileSync(file, 'utf8')).toBe(text);
    expect(reopened.recoverTranscripts().size).toBe(0);
  });
});
