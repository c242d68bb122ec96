/**
 * Contract, "Mentions, read markers, unread counts", in NATS mode: a nats-server of the test's
 * own, one history service and two gateways (processes sharing nothing but NATS_URL). A user's
 * two sockets are on different gateways: a message sent on A reaches both as an `unread` frame,
 * reading on A clears B's within 2 s, and a `mention` frame reaches the user on B with the
 * message's mentions (which the live message frame in NATS mode does not carry: see the README).
 * Markers, levels and joined rooms are stream events: a history service that starts from an
 * empty DATA_DIR rebuilds them from the stream alone.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Room } from '../../src/domain/rooms.ts';
import type { ApiClient } from '../helpers/accounts.ts';
import { TwoGateways, on, registered } from '../helpers/nats-gateways.ts';
import { listed, unreadOf } from '../helpers/unread.ts';

let cluster: TwoGateways;
const joined = (client: ApiClient, room: number) => cluster.joined(client, room);

beforeAll(async () => {
  cluster = await TwoGateways.start();
}, 90_000);

afterAll(() => cluster?.stop());

describe('unread counts across gateways (NATS mode)', () => {
  it('a user’s sockets on A and B both get the count; reading on A clears B’s within 2 s', async () => {
    const ivy = await registered(cluster.gatewayA, 'ivy');
    const sam = await registered(cluster.gatewayB, 'sam');
    const room = (await sam.post('/api/servers', { name: 'across' })).body as Room;
    const onA = await joined(ivy, room.id);
    const onB = await joined(on(cluster.gatewayB, ivy), 1);
    const sender = await joined(sam, room.id);
    const { id } = await sender.say('hello from B');
    await unreadOf(onB, room.id, (f) => f.unread === 1);
    await unreadOf(onA, room.id, (f) => f.unread === 1);
    onA.send({ type: 'read', id });
    expect(await unreadOf(onB, room.id, (f) => f.unread === 0, 2000)).toEqual({
      type: 'unread',
      server_id: room.id,
      unread: 0,
      mentions: 0,
      last_read: id,
    });
    expect(await listed(on(cluster.gatewayB, ivy), room.id)).toMatchObject({
      unread: 0,
      last_read: id,
    });
  });

  it('a mention on A reaches the user on B with the message’s mentions; DMs and level all too', async () => {
    const kai = await registered(cluster.gatewayA, 'kai');
    const lea = await registered(cluster.gatewayB, 'lea');
    const room = (await kai.post('/api/servers', { name: 'shout' })).body as Room;
    const kaiSocket = await joined(kai, room.id);
    await joined(lea, room.id);
    const leaElsewhere = await joined(lea, 1);
    const { id } = await kaiSocket.say('@LEA and @room, see kai@example.com');
    const live = await kaiSocket.next('message');
    // the gateway that sends the live frame does not know the users
    expect(live.mentions).toBeUndefined();
    expect(await leaElsewhere.next('mention')).toMatchObject({
      server_id: room.id,
      reason: 'mention',
      message: { id, mentions: ['lea'], mention_room: true },
    });
    const stored = await lea.get(`/api/servers/${room.id}/messages/${id}`);
    expect(stored.body).toMatchObject({ mentions: ['lea'], mention_room: true });
    await unreadOf(leaElsewhere, room.id, (f) => f.mentions === 1);

    expect(
      (await lea.call('PUT', `/api/servers/${room.id}/notify`, { level: 'all' })).body,
    ).toMatchObject({ notify: 'all' });
    const { id: plain } = await kaiSocket.say('no names here');
    expect(await leaElsewhere.next('mention')).toMatchObject({
      reason: 'all',
      message: { id: plain },
    });
    const dm = (await kai.post('/api/dms', { username: 'lea' })).body as Room;
    const dmSocket = await joined(kai, dm.id);
    const { id: whisper } = await dmSocket.say('psst');
    expect(await leaElsewhere.next('mention')).toMatchObject({
      reason: 'dm',
      message: { id: whisper },
    });
    expect(kaiSocket.frames.filter((f) => f.type === 'mention')).toEqual([]);

    kaiSocket.send({ type: 'edit', id, text: 'now for @kai', client_id: 'e' });
    expect(await kaiSocket.next('edit')).toMatchObject({ mentions: ['kai'] });
    await unreadOf(leaElsewhere, room.id, (f) => f.mentions === 0);
  });

  it('PUT …/read on B answers the counts as of the move; refusals as in embedded mode', async () => {
    const uma = await registered(cluster.gatewayA, 'uma');
    const reader = await registered(cluster.gatewayB, 'vic');
    const room = (await uma.post('/api/servers', { name: 'marks' })).body as Room;
    const socket = await joined(uma, room.id);
    const first = await socket.say('one');
    await socket.say('two');
    expect(
      await reader.call('PUT', `/api/servers/${room.id}/read`, { id: first.id }),
    ).toMatchObject({ status: 200, body: { server_id: room.id, last_read: first.id, unread: 1 } });
    expect((await reader.call('PUT', `/api/servers/${room.id}/read`, { id: '1' })).status).toBe(
      400,
    );
    expect((await reader.call('PUT', '/api/servers/999999/read', { id: 1 })).body.code).toBe(
      'room_not_found',
    );
    expect(
      (await reader.call('PUT', `/api/servers/${room.id}/notify`, { level: 'loud' })).status,
    ).toBe(400);
    expect((await reader.call('DELETE', `/api/servers/${room.id}/membership`)).status).toBe(204);
    expect((await listed(reader, room.id)).unread).toBe(0);
  });
});

/** Readers, markers and levels as a history service's SQLite holds them. */
function readersState(dir: string) {
  const db = new Database(path.join(dir, 'chatroom.db'), { readonly: true });
  try {
    return {
      readers: db.prepare('SELECT * FROM readers ORDER BY username').all(),
      rooms: db.prepare('SELECT * FROM room_readers ORDER BY username, server_id').all(),
      mentions: db.prepare('SELECT * FROM message_mentions ORDER BY message_id, target').all(),
    };
  } finally {
    db.close();
  }
}

describe('markers are stream events (SCALE-OUT.md)', () => {
  it('a history service from an empty DATA_DIR rebuilds the same readers, markers, levels and mentions', async () => {
    const before = readersState(cluster.historyDir);
    expect(before.rooms.length).toBeGreaterThan(3);
    await cluster.restartHistory();
    const probe = await registered(cluster.gatewayA, 'probe');
    expect((await probe.get('/api/servers')).status).toBe(200);
    const after = readersState(cluster.historyDir);
    expect(after.rooms).toEqual(before.rooms);
    expect(after.mentions).toEqual(before.mentions);
    expect(after.readers.filter((r) => (r as { username: string }).username !== 'probe')).toEqual(
      before.readers,
    );
  });
});
