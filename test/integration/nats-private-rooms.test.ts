/**
 * Private rooms, DMs and room management in NATS mode: a nats-server of the test's own, one
 * history service and two gateways (processes sharing nothing but NATS_URL). A member removed on
 * A has their socket on B closed with 4403, and an archive on A makes B refuse messages, both
 * within the contract's 5 s; every change to rooms is a stream event, so a history service that
 * starts from an empty DATA_DIR rebuilds the same rooms and members from the stream alone.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Room } from '../../src/domain/rooms.ts';
import { spawnChat, tempDir } from '../helpers/chat-server.ts';
import type { ChatProcess } from '../helpers/chat-server.ts';
import { ApiClient } from '../helpers/accounts.ts';
import { eventually } from '../helpers/eventually.ts';
import {
  natsAccountsEnv,
  onGateway as on,
  registeredOn as registered,
} from '../helpers/nats-chat.ts';
import { TestNatsServer } from '../helpers/nats-server.ts';
import type { ChatClient } from '../helpers/ws-client.ts';

const WITHIN_MS = 5000;
const SECRET = randomUUID() + randomUUID();

let nats: TestNatsServer;
let history: ChatProcess;
let gatewayA: ChatProcess;
let gatewayB: ChatProcess;
let historyDir = tempDir();
const sockets: ChatClient[] = [];

const env = (dataDir: string) =>
  natsAccountsEnv(nats.url, dataDir, SECRET, { ROOM_CREATE_LIMIT: '0' });

async function ready(): Promise<void> {
  await eventually(
    () =>
      Promise.all([gatewayA, gatewayB].map(async (g) => (await fetch(`${g.url}/readyz`)).status)),
    (statuses) => statuses.every((status) => status === 200),
  );
}

async function joined(client: ApiClient, room: number): Promise<ChatClient> {
  const { client: socket } = await client.join(room);
  sockets.push(socket);
  return socket;
}

beforeAll(async () => {
  nats = await TestNatsServer.start();
  history = await spawnChat(env(historyDir), ['history']);
  [gatewayA, gatewayB] = await Promise.all([
    spawnChat(env(tempDir()), ['gateway']),
    spawnChat(env(tempDir()), ['gateway']),
  ]);
  await ready();
  await registered(gatewayA, 'root');
}, 90_000);

afterAll(async () => {
  for (const socket of sockets) socket.close();
  for (const process of [gatewayA, gatewayB, history]) await process?.stop('SIGKILL');
  await nats?.stop();
});

describe('private rooms across gateways (NATS mode)', () => {
  it('a member removed on A: their socket on B closes 4403 within 5 s, and B answers 404', async () => {
    const owner = await registered(gatewayA, 'olga');
    const member = await registered(gatewayB, 'mia');
    const created = await owner.post('/api/servers', { name: 'board', private: true });
    expect(created.status).toBe(201);
    const room = created.body as Room;
    expect(
      await on(gatewayB, owner).post(`/api/servers/${room.id}/members`, { username: 'mia' }),
    ).toMatchObject({ status: 201, body: ['mia', 'olga'] });
    const socket = await joined(member, room.id);
    const outsider = await registered(gatewayB, 'otto');
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
    const owner = await registered(gatewayA, 'ada');
    const room = (await owner.post('/api/servers', { name: 'retro' })).body as Room;
    const socket = await joined(on(gatewayB, owner), room.id);
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
    const user = await registered(gatewayA, 'twin');
    for (let round = 0; round < 3; round++) {
      const answers = await Promise.all(
        [gatewayA, gatewayB].map((gateway, i) =>
          on(gateway, user).post('/api/servers', {
            name: i === 0 ? `twin room ${round}` : `TWIN ROOM ${round}`,
          }),
        ),
      );
      expect(answers.map((a) => a.status).sort()).toEqual([201, 409]);
    }
  });

  it('a DM opened on A is the one B answers, to its two members only', async () => {
    const una = await registered(gatewayA, 'una');
    const vik = await registered(gatewayB, 'vik');
    const opened = await una.post('/api/dms', { username: 'vik' });
    expect(opened).toMatchObject({ status: 201, body: { dm: true, members: ['una', 'vik'] } });
    const dm = opened.body as Room;
    expect(await vik.post('/api/dms', { username: 'una' })).toMatchObject({
      status: 200,
      body: { id: dm.id },
    });
    const admin = new ApiClient(gatewayB.url);
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
    const before = roomsState(historyDir);
    expect(before.rooms.length).toBeGreaterThan(4);
    history.child.kill('SIGKILL');
    await history.exited;
    historyDir = tempDir();
    history = await spawnChat(env(historyDir), ['history']);
    await ready();
    // answered once applied: everything before it in the stream is applied too
    const probe = await registered(gatewayA, 'probe');
    expect((await probe.get('/api/servers')).status).toBe(200);
    const after = roomsState(historyDir);
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
