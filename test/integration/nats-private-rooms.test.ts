/**
 * Private rooms, DMs and room management in NATS mode: a nats-server of the test's own, one
 * history service and two gateways (processes sharing nothing but NATS_URL). A member removed on
 * A has their socket on B closed with 4403, and an archive on A makes B refuse messages, both
 * within the contract's 5 s; every change to rooms is a stream event, so a history service that
 * starts from an empty DATA_DIR rebuilds the same rooms and members from the stream alone.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Room } from '../../src/domain/rooms.ts';
import { ApiClient } from '../helpers/accounts.ts';
import { eventually } from '../helpers/eventually.ts';
import { TwoGateways, on, registered } from '../helpers/nats-gateways.ts';

const WITHIN_MS = 5000;

let cluster: TwoGateways;
const joined = (client: ApiClient, room: number) => cluster.joined(client, room);

beforeAll(async () => {
  cluster = await TwoGateways.start();
}, 90_000);

afterAll(() => cluster?.stop());

describe('private rooms across gateways (NATS mode)', () => {
  it('a member removed on A: their socket on B closes 4403 within 5 s, and B answers 404', async () => {
    const owner = await registered(cluster.gatewayA, 'olga');
    const member = await registered(cluster.gatewayB, 'mia');
    const created = await owner.post('/api/servers', { name: 'board', private: true });
    expect(created.status).toBe(201);
    const room = created.body as Room;
    expect(
      await on(cluster.gatewayB, owner).post(`/api/servers/${room.id}/members`, {
        username: 'mia',
      }),
    ).toMatchObject({ status: 201, body: ['mia', 'olga'] });
    const socket = await joined(member, room.id);
    const outsider = await registered(cluster.gatewayB, 'otto');
    expect((await outsider.get(`/api/servers/${room.id}`)).status).toBe(404);
    expect((await outsider.connect(room.id).waitClosed()).code).toBe(4404);

    const since = Date.now();
    expect((await owner.call('DELETE', `/api/servers/${room.id}/members/mia`)).status).toBe(204);
    expect((await socket.waitClosed(WITHIN_MS + 1000)).code).toBe(4403);
    expect(Date.now() - since).toBeLessThan(WITHIN_MS);
    expect(await member.get(`/api/servers/${room.id}/messages`)).toMatchObject({
      status: 404,
      body: { code: 'room_not_found' },
    });
  });

  it('an archive on A makes B refuse messages to the room within 5 s; unarchived, they pass again', async () => {
    const owner = await registered(cluster.gatewayA, 'ada');
    const room = (await owner.post('/api/servers', { name: 'retro' })).body as Room;
    const socket = await joined(on(cluster.gatewayB, owner), room.id);
    await socket.say('before');
    const since = Date.now();
    expect((await owner.call('PATCH', `/api/servers/${room.id}`, { archived: true })).status).toBe(
      200,
    );
    // one message at a time until B knows: the contract bounds how long that takes
    let refused = false;
    for (let i = 0; !refused && Date.now() - since < WITHIN_MS; i++) {
      socket.send({ type: 'message', text: `try ${i}`, client_id: `try-${i}` });
      const answer = await socket.until(
        (f) => (f.type === 'ack' || f.type === 'error') && f.client_id === `try-${i}`,
      );
      refused = answer.type === 'error' && answer.code === 'forbidden';
    }
    expect(refused).toBe(true);
    expect((await owner.call('PATCH', `/api/servers/${room.id}`, { archived: false })).status).toBe(
      200,
    );
    await eventually(
      async () => {
        socket.send({ type: 'message', text: 'again', client_id: 'again' });
        return socket.until(
          (f) => (f.type === 'ack' || f.type === 'error') && f.client_id === 'again',
        );
      },
      (answer) => answer.type === 'ack',
      WITHIN_MS,
    );
  });

  it('of two creations of one room name on A and B at once, exactly one wins', async () => {
    const user = await registered(cluster.gatewayA, 'twin');
    for (let round = 0; round < 3; round++) {
      const answers = await Promise.all(
        [cluster.gatewayA, cluster.gatewayB].map((gateway, i) =>
          on(gateway, user).post('/api/servers', {
            name: i === 0 ? `twin room ${round}` : `TWIN ROOM ${round}`,
          }),
        ),
      );
      expect(answers.map((a) => a.status).sort()).toEqual([201, 409]);
    }
  });

  it('a DM opened on A is the one B answers, to its two members only', async () => {
    const una = await registered(cluster.gatewayA, 'una');
    const vik = await registered(cluster.gatewayB, 'vik');
    const opened = await una.post('/api/dms', { username: 'vik' });
    expect(opened).toMatchObject({ status: 201, body: { dm: true, members: ['una', 'vik'] } });
    const dm = opened.body as Room;
    expect(await vik.post('/api/dms', { username: 'una' })).toMatchObject({
      status: 200,
      body: { id: dm.id },
    });
    const admin = new ApiClient(cluster.gatewayB.url);
    await admin.login('root', 'a good password');
    expect((await admin.get(`/api/servers/${dm.id}`)).status).toBe(404);
  });
});

/** The rooms, members and users as a history service's SQLite holds them. */
function roomsState(dir: string) {
  const db = new Database(path.join(dir, 'chatroom.db'), { readonly: true });
  try {
    return {
      rooms: db.prepare('SELECT * FROM rooms ORDER BY id').all(),
      members: db.prepare('SELECT * FROM room_members ORDER BY server_id, username').all(),
      users: db
        .prepare('SELECT username, admin, disabled, created_at FROM users ORDER BY username')
        .all(),
    };
  } finally {
    db.close();
  }
}

describe('rooms are stream events (SCALE-OUT.md)', () => {
  it('a history service from an empty DATA_DIR rebuilds the same rooms and members from the stream', async () => {
    const before = roomsState(cluster.historyDir);
    expect(before.rooms.length).toBeGreaterThan(4);
    await cluster.restartHistory();
    // answered once applied: everything before it in the stream is applied too
    const probe = await registered(cluster.gatewayA, 'probe');
    expect((await probe.get('/api/servers')).status).toBe(200);
    const after = roomsState(cluster.historyDir);
    // room general (id 1) is the schema's own, made by each store when it is created
    const seedless = (rooms: unknown[]) =>
      rooms.map((room) => {
        const { id, created_at, ...rest } = room as { id: number; created_at: string };
        return id === 1 ? { id, ...rest } : { id, created_at, ...rest };
      });
    expect(seedless(after.rooms)).toEqual(seedless(before.rooms));
    expect(after.members).toEqual(before.members);
    expect(after.users.filter((u) => (u as { username: string }).username !== 'probe')).toEqual(
      before.users,
    );
  });
});
