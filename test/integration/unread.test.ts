/**
 * Contract, "Mentions, read markers, unread counts" (accounts mode, embedded): the `mentions`
 * of messages, where read markers start and how they move, the counts, the `unread` frames a
 * user's every socket gets whatever its room (two devices: reading on one clears the other's
 * count within 2 s), `mention` frames and their reasons, notification levels, leaving a public
 * room, and every refusal.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../src/domain/message.ts';
import type { Room } from '../../src/domain/rooms.ts';
import { ApiClient, startAccountsChat } from '../helpers/accounts.ts';
import type { AccountsChat } from '../helpers/accounts.ts';
import { startTestChat } from '../helpers/chat-server.ts';
import type { TestChat } from '../helpers/chat-server.ts';
import { ChatClient } from '../helpers/ws-client.ts';
import { listed, unreadOf } from '../helpers/unread.ts';
import type { MentionFrame } from '../helpers/unread.ts';

let server: TestChat;
let admin: ApiClient;
let newUser: AccountsChat['newUser'];
const sockets: ChatClient[] = [];

beforeAll(async () => {
  ({ server, admin, newUser } = await startAccountsChat({
    ROOM_CREATE_LIMIT: '0',
    REST_RATE_LIMIT: '0',
  }));
});

afterAll(async () => {
  for (const socket of sockets) socket.close();
  await server.close();
});

let names = 0;
const fresh = (prefix: string) => `${prefix}${++names}`;

async function joined(client: ApiClient, room: number): Promise<ChatClient> {
  const { client: socket } = await client.join(room);
  sockets.push(socket);
  return socket;
}

async function createRoom(owner: ApiClient, isPrivate = false): Promise<Room> {
  const created = await owner.post('/api/servers', { name: fresh('room'), private: isPrivate });
  expect(created.status).toBe(201);
  return created.body as Room;
}

const read = (client: ApiClient, roomId: number, id: unknown) =>
  client.call('PUT', `/api/servers/${roomId}/read`, { id });

describe('mentions of a message', () => {
  it('are in REST, the live frame and the mention frame, sorted, and never in the transcript', async () => {
    const [ann, bea] = [await newUser(fresh('ann')), await newUser(fresh('bea'))];
    const room = await createRoom(ann);
    const beaName = (await bea.get('/api/me')).body.username as string;
    const annName = (await ann.get('/api/me')).body.username as string;
    const annSocket = await joined(ann, room.id);
    await joined(bea, room.id);
    await annSocket.say(`@${beaName.toUpperCase()} and @${annName}, see bob@example.com`);
    const live = await annSocket.next('message');
    expect(live.mentions).toEqual([annName, beaName].sort());
    expect(live.mention_room).toBeUndefined();
    const [stored] = (await ann.get(`/api/servers/${room.id}/messages`)).body as unknown as [
      Message,
    ];
    expect(stored.mentions).toEqual(live.mentions);

    await annSocket.say('@everyone lunch');
    expect((await annSocket.next('message')).mention_room).toBe(true);
    const transcript = fs.readFileSync(
      path.join(server.dataDir, 'message_history', `server_${room.id}_history.jsonl`),
      'utf8',
    );
    expect(transcript).not.toMatch(/mention/);
  });

  it('in a private room name only its members, and an edit finds them anew', async () => {
    const owner = await newUser(fresh('own'));
    const member = await newUser(fresh('mem'));
    const outsider = await newUser(fresh('out'));
    const [ownerName, memberName, outsiderName] = await Promise.all(
      [owner, member, outsider].map(async (c) => (await c.get('/api/me')).body.username as string),
    );
    const room = await createRoom(owner, true);
    await owner.post(`/api/servers/${room.id}/members`, { username: memberName });
    const socket = await joined(owner, room.id);
    await socket.say(`@${outsiderName} @${memberName} hi`);
    const message = await socket.next('message');
    expect(message.mentions).toEqual([memberName]);
    socket.send({ type: 'edit', id: message.id, text: `now @${ownerName} only`, client_id: 'e1' });
    const edit = await socket.next('edit');
    expect(edit.mentions).toEqual([ownerName]);
    socket.send({ type: 'edit', id: message.id, text: 'nobody', client_id: 'e2' });
    expect((await socket.next('edit')).mentions).toBeUndefined();
    const one = await owner.get(`/api/servers/${room.id}/messages/${message.id}`);
    expect(one.body.mentions).toBeUndefined();
  });
});

describe('read markers', () => {
  it('start at the newest id when the user appears, at 0 in rooms made later, and at the newest when added', async () => {
    const before = await createRoom(admin);
    const adminSocket = await joined(admin, before.id);
    const { id: newest } = await adminSocket.say('before the user');
    const user = await newUser(fresh('new'));
    const username = (await user.get('/api/me')).body.username as string;
    expect((await listed(user, before.id)).last_read).toBe(newest);

    const later = await createRoom(admin);
    const laterSocket = await joined(admin, later.id);
    await laterSocket.say('after the user');
    expect((await listed(user, later.id)).last_read).toBe(0);

    const secret = await createRoom(admin, true);
    const secretSocket = await joined(admin, secret.id);
    const { id: secretNewest } = await secretSocket.say('before the add');
    await admin.post(`/api/servers/${secret.id}/members`, { username });
    expect(await listed(user, secret.id)).toMatchObject({ last_read: secretNewest, unread: 0 });

    const dm = (await admin.post('/api/dms', { username })).body as Room;
    expect(await listed(user, dm.id)).toMatchObject({ last_read: 0, unread: 0 });
  });

  it('only move forward, and an id past the newest is the newest', async () => {
    const reader = await newUser(fresh('rd'));
    const room = await createRoom(admin);
    const socket = await joined(admin, room.id);
    const ids = [];
    for (const text of ['one', 'two', 'three']) ids.push((await socket.say(text)).id);
    expect(await read(reader, room.id, ids[1])).toMatchObject({
      status: 200,
      body: { server_id: room.id, last_read: ids[1], unread: 1, mentions: 0 },
    });
    expect((await read(reader, room.id, ids[0])).body.last_read).toBe(ids[1]);
    expect((await read(reader, room.id, 0)).body.last_read).toBe(ids[1]);
    expect((await read(reader, room.id, Number.MAX_SAFE_INTEGER)).body).toMatchObject({
      last_read: ids[2],
      unread: 0,
    });
  });
});

describe('counts', () => {
  it('leave out the user’s own and deleted messages; mentions count @user, @room and DMs', async () => {
    const reader = await newUser(fresh('cnt'));
    const readerName = (await reader.get('/api/me')).body.username as string;
    const room = await createRoom(admin);
    await read(reader, room.id, 0); // joins the room's counted rooms
    const mine = await joined(reader, room.id);
    const theirs = await joined(admin, room.id);
    await mine.say('my own');
    await theirs.say('plain');
    await theirs.say(`@${readerName} look`);
    await theirs.say('@room look');
    const { id: gone } = await theirs.say(`@${readerName} deleted soon`);
    theirs.send({ type: 'delete', id: gone, client_id: 'd1' });
    await theirs.next('delete');
    expect(await listed(reader, room.id)).toMatchObject({ unread: 3, mentions: 2 });

    const dm = (await admin.post('/api/dms', { username: readerName })).body as Room;
    const dmSocket = await joined(admin, dm.id);
    await dmSocket.say('one');
    await dmSocket.say('two');
    expect(await listed(reader, dm.id)).toMatchObject({ unread: 2, mentions: 2 });
  });

  it('stop at 1000', async () => {
    const reader = await newUser(fresh('cap'));
    const readerName = (await reader.get('/api/me')).body.username as string;
    const room = await createRoom(admin);
    await read(reader, room.id, 0);
    const socket = await joined(admin, room.id);
    for (let i = 0; i < 1001; i++) socket.send({ type: 'message', text: `@${readerName} ${i}` });
    await socket.messages(1001, 20_000);
    expect(await listed(reader, room.id)).toMatchObject({ unread: 1000, mentions: 1000 });
  });

  it('cover only a user’s rooms: a public room counts once opened, until left', async () => {
    const user = await newUser(fresh('lv'));
    const room = await createRoom(admin);
    const socket = await joined(admin, room.id);
    await socket.say('before joining');
    expect(await listed(user, room.id)).toMatchObject({ unread: 0, notify: 'mentions' });
    const mine = await joined(user, room.id);
    await socket.say('after joining');
    // the room was made after the user: its marker starts at 0
    expect((await listed(user, room.id)).unread).toBe(2);
    expect(await user.call('DELETE', `/api/servers/${room.id}/membership`)).toMatchObject({
      status: 204,
    });
    expect((await listed(user, room.id)).unread).toBe(0);
    mine.close();
    await joined(user, room.id);
    expect((await listed(user, room.id)).unread).toBe(2);
  });
});

describe('unread frames', () => {
  it('reach every socket of the user whatever its room; reading on one device clears the other within 2 s', async () => {
    const user = await newUser(fresh('two'));
    const room = await createRoom(admin);
    const phone = await joined(user, room.id);
    const laptop = await joined(user, 1);
    const sender = await joined(admin, room.id);
    const { id } = await sender.say('hello');
    await unreadOf(laptop, room.id, (f) => f.unread === 1);
    await unreadOf(phone, room.id, (f) => f.unread === 1);
    phone.send({ type: 'read', id });
    const cleared = await unreadOf(laptop, room.id, (f) => f.unread === 0, 2000);
    expect(cleared).toEqual({
      type: 'unread',
      server_id: room.id,
      unread: 0,
      mentions: 0,
      last_read: id,
    });
  });

  it('come at most once per room per second per connection, the last one current', async () => {
    const user = await newUser(fresh('burst'));
    const room = await createRoom(admin);
    await joined(user, room.id);
    const watcher = await joined(user, 1);
    const sender = await joined(admin, room.id);
    for (let i = 0; i < 30; i++) sender.send({ type: 'message', text: `m${i}` });
    await sender.messages(30);
    await unreadOf(watcher, room.id, (f) => f.unread === 30);
    const times = watcher.frames.filter((f) => f.type === 'unread' && f.server_id === room.id);
    expect(times.length).toBeLessThan(30);
  });

  it('come when a message is deleted, and when the user is added to a room', async () => {
    const user = await newUser(fresh('add'));
    const username = (await user.get('/api/me')).body.username as string;
    const room = await createRoom(admin, true);
    const watcher = await joined(user, 1);
    const sender = await joined(admin, room.id);
    const { id } = await sender.say('before the add');
    await admin.post(`/api/servers/${room.id}/members`, { username });
    await unreadOf(watcher, room.id, (f) => f.unread === 0 && f.last_read === id);
    const { id: second } = await sender.say('after the add');
    await unreadOf(watcher, room.id, (f) => f.unread === 1);
    sender.send({ type: 'delete', id: second, client_id: 'd' });
    await unreadOf(watcher, room.id, (f) => f.unread === 0);
  });
});

describe('mention frames', () => {
  it('go to the mentioned user (mention), the other DM member (dm) and level all (all), never the sender, once each', async () => {
    const [ann, bea, cid] = [
      await newUser(fresh('ma')),
      await newUser(fresh('mb')),
      await newUser(fresh('mc')),
    ];
    const [annName, beaName] = await Promise.all(
      [ann, bea].map(async (c) => (await c.get('/api/me')).body.username as string),
    );
    const room = await createRoom(ann);
    const annSocket = await joined(ann, room.id);
    const beaSocket = await joined(bea, 1);
    await joined(bea, room.id);
    const cidSocket = await joined(cid, 1);
    await joined(cid, room.id);
    expect(await cid.call('PUT', `/api/servers/${room.id}/notify`, { level: 'all' })).toMatchObject(
      { status: 200, body: { server_id: room.id, notify: 'all', unread: 0 } },
    );

    const { id } = await annSocket.say(`@${beaName} and @${annName}`);
    const toBea = await beaSocket.next('mention');
    expect(toBea).toMatchObject({ server_id: room.id, reason: 'mention', message: { id } });
    expect(toBea.message.mentions).toEqual([annName, beaName].sort());
    expect(await cidSocket.next('mention')).toMatchObject({ reason: 'all', message: { id } });

    const dm = (await ann.post('/api/dms', { username: beaName })).body as Room;
    const dmSocket = await joined(ann, dm.id);
    const { id: dmId } = await dmSocket.say('psst');
    expect(await beaSocket.next('mention')).toMatchObject({ reason: 'dm', message: { id: dmId } });
    await unreadOf(beaSocket, dm.id, (f) => f.mentions === 1);
    const mentionsToBea = beaSocket.frames.filter((f): f is MentionFrame => f.type === 'mention');
    expect(mentionsToBea.map((f) => f.message.id)).toEqual([id, dmId]);
    expect(annSocket.frames.filter((f) => f.type === 'mention')).toEqual([]);
  });
});

describe('refusals', () => {
  it('PUT …/read: 400 for an id that is not a plain non-negative integer, 404 for a room one may not see', async () => {
    const user = await newUser(fresh('ref'));
    for (const id of ['5', -1, 1.5, null, true]) {
      expect((await read(user, 1, id)).body.code, String(id)).toBe('bad_request');
    }
    expect((await user.call('PUT', '/api/servers/1/read', {})).status).toBe(400);
    expect((await user.call('PUT', '/api/servers/1/read', { id: 1, x: 1 })).status).toBe(400);
    expect((await read(user, 999_999, 1)).body.code).toBe('room_not_found');
    const secret = await createRoom(admin, true);
    expect((await read(user, secret.id, 1)).body.code).toBe('room_not_found');
  });

  it('PUT …/notify: 400 for a level that is not all, mentions or none; 404 for a hidden room', async () => {
    const user = await newUser(fresh('nt'));
    for (const level of ['loud', 1, null, 'ALL']) {
      const answer = await user.call('PUT', '/api/servers/1/notify', { level });
      expect(answer.body.code, String(level)).toBe('bad_request');
    }
    const secret = await createRoom(admin, true);
    const hidden = await user.call('PUT', `/api/servers/${secret.id}/notify`, { level: 'all' });
    expect(hidden.body.code).toBe('room_not_found');
  });

  it('DELETE …/membership: 400 for a private room, 404 for a hidden one', async () => {
    const user = await newUser(fresh('dl'));
    const own = await createRoom(user, true);
    expect((await user.call('DELETE', `/api/servers/${own.id}/membership`)).body.code).toBe(
      'bad_request',
    );
    const secret = await createRoom(admin, true);
    expect((await user.call('DELETE', `/api/servers/${secret.id}/membership`)).body.code).toBe(
      'room_not_found',
    );
  });

  it('every new route: 401 without credentials, 403 from a foreign browser origin with the cookie', async () => {
    const anonymous = new ApiClient(server.url);
    const user = await newUser(fresh('sec'));
    const foreign = new ApiClient(server.url);
    foreign.cookie = user.cookie;
    foreign.headers = { origin: 'https://evil.example' };
    for (const [method, path, body] of [
      ['PUT', '/api/servers/1/read', { id: 1 }],
      ['PUT', '/api/servers/1/notify', { level: 'all' }],
      ['DELETE', '/api/servers/1/membership', undefined],
    ] as const) {
      expect((await anonymous.call(method, path, body)).body.code, path).toBe('unauthenticated');
      expect((await foreign.call(method, path, body)).body.code, path).toBe('origin_not_allowed');
    }
  });

  it('a read frame with an id that is not a non-negative integer is bad_request, and the socket stays', async () => {
    const user = await newUser(fresh('rf'));
    const socket = await joined(user, 1);
    for (const id of ['5', -1, 1.5, undefined]) {
      socket.send({ type: 'read', id });
      expect(await socket.next('error')).toMatchObject({ code: 'bad_request' });
    }
    socket.send({ type: 'ping' });
    await socket.next('pong');
  });
});

describe('open mode', () => {
  let open: TestChat;
  beforeAll(async () => {
    open = await startTestChat({ RATE_LIMIT: '0' });
  });
  afterAll(async () => {
    await open.close();
  });

  it('names the reader with ?username=: counts only with it, 400 without it where one is needed; Bob and bob are two users', async () => {
    const bob = await ChatClient.join(`${open.wsUrl}/ws/1?username=bob`);
    const Bob = await ChatClient.join(`${open.wsUrl}/ws/1?username=Bob`);
    const amy = await ChatClient.join(`${open.wsUrl}/ws/1?username=amy`);
    sockets.push(bob.client, Bob.client, amy.client);
    await amy.client.say('@BOB hi');
    expect((await amy.client.next('message')).mentions).toEqual(['Bob', 'bob']);
    await bob.client.next('mention');
    await Bob.client.next('mention');

    const anonymous = new ApiClient(open.url);
    const [general] = (await anonymous.get('/api/servers')).body as unknown as Room[];
    expect(general).not.toHaveProperty('unread');
    const [counted] = (await anonymous.get('/api/servers?username=bob')).body as unknown as Room[];
    expect(counted).toMatchObject({ unread: 1, mentions: 1, notify: 'mentions' });
    expect((await anonymous.call('PUT', '/api/servers/1/read', { id: 1 })).body.code).toBe(
      'bad_request',
    );
    expect(
      (await anonymous.call('PUT', '/api/servers/1/notify', { level: 'none' })).body.code,
    ).toBe('bad_request');
    expect((await anonymous.call('DELETE', '/api/servers/1/membership')).body.code).toBe(
      'bad_request',
    );
    expect(
      (await anonymous.call('PUT', '/api/servers/1/read?username=%E2%80%8B', { id: 1 })).body.code,
    ).toBe('bad_request');
    const marked = await anonymous.call('PUT', '/api/servers/1/read?username=bob', { id: 1 });
    expect(marked).toMatchObject({ status: 200, body: { unread: 0, last_read: 1 } });
    const [after] = (await anonymous.get('/api/servers?username=Bob')).body as unknown as Room[];
    expect(after).toMatchObject({ unread: 1 });
  });
});
