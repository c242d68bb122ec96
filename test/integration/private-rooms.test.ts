/**
 * Private rooms, direct messages and room management (accounts mode, embedded): who sees what,
 * who may change what, and a test for every refusal. A room one may not see answers exactly as
 * an unknown room does (404 room_not_found, close 4404), so that its existence does not leak.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Room } from '../../src/domain/rooms.ts';
import { ApiClient, startAccountsChat } from '../helpers/accounts.ts';
import type { AccountsChat } from '../helpers/accounts.ts';
import { startTestChat } from '../helpers/chat-server.ts';
import type { TestChat } from '../helpers/chat-server.ts';

let server: TestChat;
let admin: ApiClient;
let newUser: AccountsChat['newUser'];

beforeAll(async () => {
  ({ server, admin, newUser } = await startAccountsChat());
});

afterAll(async () => {
  await server.close();
});

const notFound = { status: 404, body: { code: 'room_not_found' } };

async function createPrivate(owner: ApiClient, name: string): Promise<Room> {
  const created = await owner.post('/api/servers', { name, private: true });
  expect(created.status).toBe(201);
  return created.body as Room;
}

const roomIds = async (client: ApiClient, query = '') =>
  ((await client.get(`/api/servers${query}`)).body as unknown as Room[]).map((room) => room.id);

describe('a private room', () => {
  it('is seen by its members and the admins only; to others every route is 404 and the socket 4404', async () => {
    const owner = await newUser('pia');
    const outsider = await newUser('olaf');
    const room = await createPrivate(owner, 'plans');
    expect(room).toMatchObject({ name: 'plans', private: true, dm: false, owner: 'pia' });
    expect(await roomIds(owner)).toContain(room.id);
    expect(await roomIds(admin)).toContain(room.id);
    expect(await roomIds(outsider)).not.toContain(room.id);

    for (const path of ['', '/messages', '/presence', '/members']) {
      expect(await outsider.get(`/api/servers/${room.id}${path}`), path).toMatchObject(notFound);
      expect((await owner.get(`/api/servers/${room.id}${path}`)).status, path).toBe(200);
    }
    expect(await admin.get(`/api/servers/${room.id}/members`)).toMatchObject({
      status: 200,
      body: ['pia'],
    });
    expect((await outsider.connect(room.id).waitClosed()).code).toBe(4404);
    expect(
      await outsider.post(`/api/servers/${room.id}/members`, { username: 'olaf' }),
    ).toMatchObject(notFound);
    expect(await outsider.call('PATCH', `/api/servers/${room.id}`, { name: 'x' })).toMatchObject(
      notFound,
    );
    expect(await outsider.call('DELETE', `/api/servers/${room.id}/members/pia`)).toMatchObject(
      notFound,
    );
  });

  it('takes members from its owner or an admin: 201, 200 again, 403 for other members, 404 for no user', async () => {
    const owner = await newUser('quinn');
    const member = await newUser('rita');
    await newUser('sam');
    const room = await createPrivate(owner, 'quiet corner');
    const add = (by: ApiClient, username: string) =>
      by.post(`/api/servers/${room.id}/members`, { username });

    expect(await add(owner, 'RITA')).toMatchObject({ status: 201, body: ['quinn', 'rita'] });
    expect(await add(owner, 'rita')).toMatchObject({ status: 200, body: ['quinn', 'rita'] });
    expect(await add(member, 'sam')).toMatchObject({ status: 403, body: { code: 'forbidden' } });
    expect(await add(owner, 'nobody')).toMatchObject({
      status: 404,
      body: { code: 'user_not_found' },
    });
    expect(await add(admin, 'sam')).toMatchObject({ status: 201 });
    expect(await owner.post(`/api/servers/${room.id}/members`, { username: 5 })).toMatchObject({
      status: 400,
      body: { code: 'bad_request' },
    });
    expect(await add(owner, '')).toMatchObject({ status: 400, body: { code: 'bad_request' } });
    // a member reads and writes
    const { client } = await member.join(room.id);
    await client.say('hi from rita');
    client.close();
    expect(await owner.post('/api/servers/1/members', { username: 'rita' })).toMatchObject({
      status: 400,
      body: { code: 'bad_request' },
    });
    expect(await owner.get('/api/servers/1/members')).toMatchObject({
      status: 400,
      body: { code: 'bad_request' },
    });
  });

  it('closes a removed member’s sockets to it with 4403 at once; the room is then 404 to them', async () => {
    const owner = await newUser('tess');
    const member = await newUser('uma');
    const other = await newUser('vic');
    const room = await createPrivate(owner, 'removals');
    await owner.post(`/api/servers/${room.id}/members`, { username: 'uma' });
    await owner.post(`/api/servers/${room.id}/members`, { username: 'vic' });
    const { client: inRoom } = await member.join(room.id);
    const { client: elsewhere } = await member.join(1);

    expect(await other.call('DELETE', `/api/servers/${room.id}/members/uma`)).toMatchObject({
      status: 403,
      body: { code: 'forbidden' },
    });
    expect((await owner.call('DELETE', `/api/servers/${room.id}/members/uma`)).status).toBe(204);
    expect(await inRoom.waitClosed()).toMatchObject({ code: 4403 });
    expect(await member.get(`/api/servers/${room.id}/messages`)).toMatchObject(notFound);
    expect((await member.connect(room.id).waitClosed()).code).toBe(4404);
    // the member's socket to another room stays open
    await elsewhere.say('still in general');
    elsewhere.close();
    expect(await owner.call('DELETE', `/api/servers/${room.id}/members/uma`)).toMatchObject({
      status: 404,
      body: { code: 'user_not_found' },
    });
    // a member leaves by themself
    expect((await other.call('DELETE', `/api/servers/${room.id}/members/vic`)).status).toBe(204);
    expect(await roomIds(other)).not.toContain(room.id);
  });

  it('has a name unique among the rooms its creator can see', async () => {
    const bob = await newUser('wes');
    const carol = await newUser('xena');
    await createPrivate(bob, 'secret');
    // carol cannot see bob's room: its name does not exist for her
    expect((await carol.post('/api/servers', { name: 'Secret' })).status).toBe(201);
    expect(await bob.post('/api/servers', { name: 'SECRET', private: true })).toMatchObject({
      status: 409,
      body: { code: 'room_name_taken' },
    });
    expect(await admin.post('/api/servers', { name: 'secret', private: true })).toMatchObject({
      status: 409,
    });
    expect(await bob.post('/api/servers', { name: 'x', private: 'yes' })).toMatchObject({
      status: 400,
      body: { code: 'bad_request' },
    });
  });
});

describe('direct messages', () => {
  it('open one room per pair, seen by its two members only (admins included), named by them', async () => {
    const yan = await newUser('yan');
    const zoe = await newUser('zoe');
    const third = await newUser('abe');
    const opened = await yan.post('/api/dms', { username: 'ZOE' });
    expect(opened).toMatchObject({
      status: 201,
      body: { name: null, private: true, dm: true, owner: null, members: ['yan', 'zoe'] },
    });
    const dm = opened.body as Room;
    expect(await zoe.post('/api/dms', { username: 'yan' })).toMatchObject({
      status: 200,
      body: { id: dm.id },
    });
    expect(await roomIds(zoe)).toContain(dm.id);
    for (const outsider of [third, admin]) {
      expect(await roomIds(outsider)).not.toContain(dm.id);
      expect(await outsider.get(`/api/servers/${dm.id}/messages`)).toMatchObject(notFound);
      expect((await outsider.connect(dm.id).waitClosed()).code).toBe(4404);
    }
    const { client: zoeSocket } = await zoe.join(dm.id);
    const { client: yanSocket } = await yan.join(dm.id);
    await yanSocket.say('psst');
    expect((await zoeSocket.next('message')).text).toBe('psst');
    zoeSocket.close();
    yanSocket.close();

    expect(await yan.get(`/api/servers/${dm.id}/members`)).toMatchObject({
      status: 200,
      body: ['yan', 'zoe'],
    });
    const forbidden = { status: 403, body: { code: 'forbidden' } };
    expect(await yan.post(`/api/servers/${dm.id}/members`, { username: 'abe' })).toMatchObject(
      forbidden,
    );
    expect(await yan.call('DELETE', `/api/servers/${dm.id}/members/zoe`)).toMatchObject(forbidden);
    expect(await yan.call('DELETE', `/api/servers/${dm.id}/members/yan`)).toMatchObject(forbidden);
    expect(await yan.call('PATCH', `/api/servers/${dm.id}`, { name: 'ours' })).toMatchObject(
      forbidden,
    );
    expect(await yan.call('PATCH', `/api/servers/${dm.id}`, { archived: true })).toMatchObject(
      forbidden,
    );
  });

  it('refuses oneself (400) and no user (404 user_not_found)', async () => {
    const solo = await newUser('solo');
    expect(await solo.post('/api/dms', { username: 'Solo' })).toMatchObject({
      status: 400,
      body: { code: 'bad_request' },
    });
    expect(await solo.post('/api/dms', { username: 'ghost' })).toMatchObject({
      status: 404,
      body: { code: 'user_not_found' },
    });
    expect(await solo.post('/api/dms', { username: 7 })).toMatchObject({
      status: 400,
      body: { code: 'bad_request' },
    });
  });
});

describe('room management', () => {
  it('renames and archives by the owner or an admin; an archived room is read-only and listed apart', async () => {
    const owner = await newUser('bea');
    const member = await newUser('cal');
    const created = await owner.post('/api/servers', { name: 'launch' });
    const room = created.body as Room;
    expect(room).toMatchObject({ owner: 'bea', private: false, archived: false });
    const patch = (by: ApiClient, body: unknown) =>
      by.call('PATCH', `/api/servers/${room.id}`, body);

    expect(await patch(owner, { name: 'Launch day' })).toMatchObject({
      status: 200,
      body: { id: room.id, name: 'Launch day' },
    });
    expect(await patch(member, { name: 'mine' })).toMatchObject({
      status: 403,
      body: { code: 'forbidden' },
    });
    expect(await patch(owner, { name: 'GENERAL' })).toMatchObject({
      status: 409,
      body: { code: 'room_name_taken' },
    });
    expect(await patch(owner, { name: 'a\u200bb' })).toMatchObject({
      status: 400,
      body: { code: 'invalid_room_name' },
    });
    expect(await patch(owner, {})).toMatchObject({ status: 400, body: { code: 'bad_request' } });
    expect(await patch(owner, { archived: 'yes' })).toMatchObject({
      status: 400,
      body: { code: 'bad_request' },
    });
    expect(await patch(owner, { owner: 'cal' })).toMatchObject({
      status: 403,
      body: { code: 'forbidden' },
    });
    expect(await patch(admin, { owner: 'nobody' })).toMatchObject({
      status: 404,
      body: { code: 'user_not_found' },
    });

    const { client: reader } = await member.join(room.id);
    expect(await patch(owner, { archived: true })).toMatchObject({
      status: 200,
      body: { archived: true },
    });
    expect(await roomIds(member)).not.toContain(room.id);
    expect(await roomIds(member, '?archived=true')).toEqual([room.id]);
    expect(await member.get('/api/servers?archived=maybe')).toMatchObject({ status: 400 });
    // read-only, from the moment the change is acknowledged; still readable
    reader.send({ type: 'message', text: 'too late', client_id: 'late' });
    expect(await reader.next('error')).toMatchObject({ code: 'forbidden', client_id: 'late' });
    expect((await member.get(`/api/servers/${room.id}/messages`)).status).toBe(200);

    // an admin gives it a new owner, who may manage it
    expect(await patch(admin, { owner: 'cal' })).toMatchObject({
      status: 200,
      body: { owner: 'cal' },
    });
    expect(await patch(member, { archived: false })).toMatchObject({ status: 200 });
    await reader.say('open again');
    reader.close();
  });
});

describe('open mode', () => {
  it('has no private rooms, DMs or room management: nobody is known', async () => {
    const open = await startTestChat({ AUTH: 'open' });
    try {
      const anyone = new ApiClient(open.url);
      const forbidden = { status: 403, body: { code: 'forbidden' } };
      expect(await anyone.post('/api/servers', { name: 'hidden', private: true })).toMatchObject(
        forbidden,
      );
      expect(await anyone.post('/api/dms', { username: 'bob' })).toMatchObject(forbidden);
      expect(await anyone.call('PATCH', '/api/servers/1', { archived: true })).toMatchObject(
        forbidden,
      );
      expect(await anyone.post('/api/servers/1/members', { username: 'bob' })).toMatchObject(
        forbidden,
      );
      expect((await anyone.post('/api/servers', { name: 'visible' })).body).toMatchObject({
        private: false,
        owner: null,
      });
    } finally {
      await open.close();
    }
  });
});
