/**
 * Credentials that end: logout, password change, token revocation, a disabled user. Each is
 * refused on REST from then on, and the WebSockets it opened close at once (4401, or 4403 for a
 * disabled user).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestChat } from '../helpers/chat-server.ts';
import { ApiClient, startAccountsChat } from '../helpers/accounts.ts';
import type { AccountsChat } from '../helpers/accounts.ts';

let server: TestChat;
let admin: ApiClient;
let newUser: AccountsChat['newUser'];

beforeAll(async () => {
  ({ server, admin, newUser } = await startAccountsChat());
});

afterAll(async () => {
  await server.close();
});

/** Another session of the same user (another browser). */
async function signIn(username: string, password = 'a good password') {
  const client = new ApiClient(server.url);
  await client.login(username, password);
  return client;
}

async function tokenClient(owner: ApiClient, name = 'bot') {
  const created = await owner.post('/api/tokens', { name });
  expect(created.status).toBe(201);
  const bot = new ApiClient(server.url);
  bot.bearer = created.body.token as string;
  return { bot, id: created.body.id as string };
}

describe('logout', () => {
  it('ends that session: its cookie is cleared and refused, its WebSockets close 4401', async () => {
    const laptop = await newUser('amy');
    const phone = await signIn('amy');
    const oldCookie = laptop.cookie;
    const { client: laptopSocket } = await laptop.join(1);
    const { client: phoneSocket } = await phone.join(1);

    const answer = await laptop.post('/api/auth/logout');
    expect(answer.status).toBe(204);
    expect(answer.headers.get('set-cookie')).toMatch(/^chatroom_session=;.*Max-Age=0/i);
    expect((await laptopSocket.waitClosed()).code).toBe(4401);

    const replay = new ApiClient(server.url);
    replay.cookie = oldCookie;
    expect(await replay.get('/api/me')).toMatchObject({
      status: 401,
      body: { code: 'unauthenticated' },
    });
    expect((await replay.connect(1).waitClosed()).code).toBe(4401);
    // the other session goes on
    expect((await phone.get('/api/me')).status).toBe(200);
    await phoneSocket.say('still here');
    phoneSocket.close();
  });
});

describe('password change', () => {
  it('refuses 403 invalid_credentials for a wrong current password, 400 for a weak new one', async () => {
    const ben = await newUser('ben');
    expect(
      await ben.call('PUT', '/api/me/password', { current: 'wrong', new: 'whatever else' }),
    ).toMatchObject({ status: 403, body: { code: 'invalid_credentials' } });
    expect(
      await ben.call('PUT', '/api/me/password', { current: 'a good password', new: 'short' }),
    ).toMatchObject({ status: 400, body: { code: 'weak_password' } });
    expect(
      await ben.call('PUT', '/api/me/password', { current: 'a good password', new: 8 }),
    ).toMatchObject({ status: 400, body: { code: 'bad_request' } });
  });

  it('ends every other session and token; the session that made it goes on', async () => {
    const main = await newUser('cat');
    const other = await signIn('cat');
    const { bot } = await tokenClient(main);
    const { client: mainSocket } = await main.join(1);
    const { client: otherSocket } = await other.join(1);
    const { client: botSocket } = await bot.join(1);

    const changed = await main.call('PUT', '/api/me/password', {
      current: 'a good password',
      new: 'a better password',
    });
    expect(changed.status).toBe(204);
    expect(changed.headers.get('set-cookie')).toMatch(/^chatroom_session=v1\./);

    expect((await otherSocket.waitClosed()).code).toBe(4401);
    expect((await botSocket.waitClosed()).code).toBe(4401);
    expect((await other.get('/api/me')).status).toBe(401);
    expect((await bot.get('/api/me')).status).toBe(401);
    // the changing session: its REST calls and its open WebSocket go on
    expect((await main.get('/api/me')).status).toBe(200);
    await mainSocket.say('my socket is still open');

    expect(
      (
        await new ApiClient(server.url).post('/api/auth/login', {
          username: 'cat',
          password: 'a good password',
        })
      ).status,
    ).toBe(401);
    await signIn('cat', 'a better password');
    mainSocket.close();
  });
});

describe('personal access tokens', () => {
  it('are listed without their secret, work until revoked, and only their owner revokes them', async () => {
    const dan = await newUser('dan');
    const { bot, id } = await tokenClient(dan, 'deploy bot');
    const listed = await dan.get('/api/tokens');
    expect(listed.body).toEqual([{ id, name: 'deploy bot', created_at: expect.any(String) }]);
    expect(JSON.stringify(listed.body)).not.toContain(bot.bearer);
    expect((await bot.get('/api/me')).body).toMatchObject({ username: 'dan' });
    const { client: botSocket } = await bot.join(1);

    const eve = await newUser('eve');
    expect((await eve.call('DELETE', `/api/tokens/${id}`)).status).toBe(404);
    expect((await bot.get('/api/me')).status).toBe(200);

    expect((await dan.call('DELETE', `/api/tokens/${id}`)).status).toBe(204);
    expect((await botSocket.waitClosed()).code).toBe(4401);
    expect(await bot.get('/api/servers')).toMatchObject({
      status: 401,
      body: { code: 'unauthenticated' },
    });
    expect((await dan.get('/api/tokens')).body).toEqual([]);
  });

  it('refuses a token name that is empty, blank or of the wrong type', async () => {
    const fay = await newUser('fay');
    for (const name of ['', '   ', 'x'.repeat(101), 5]) {
      expect((await fay.post('/api/tokens', { name })).status, String(name)).toBe(400);
    }
  });
});

describe('disabled users', () => {
  it('are refused everywhere (4403 on their WebSockets) until enabled again', async () => {
    const gus = await newUser('gus');
    const { bot } = await tokenClient(gus);
    const { client: cookieSocket } = await gus.join(1);
    const { client: tokenSocket } = await bot.join(1);

    const disabled = await admin.call('PATCH', '/api/users/GUS', { disabled: true });
    expect(disabled).toMatchObject({ status: 200, body: { username: 'gus', disabled: true } });
    expect((await cookieSocket.waitClosed()).code).toBe(4403);
    expect((await tokenSocket.waitClosed()).code).toBe(4403);
    for (const client of [gus, bot]) {
      expect(await client.get('/api/me')).toMatchObject({
        status: 403,
        body: { code: 'user_disabled' },
      });
      expect((await client.connect(1).waitClosed()).code).toBe(4403);
    }
    // the right password says so; a wrong one says nothing more than for anyone
    expect(
      await new ApiClient(server.url).post('/api/auth/login', {
        username: 'gus',
        password: 'a good password',
      }),
    ).toMatchObject({ status: 403, body: { code: 'user_disabled' } });
    expect(
      await new ApiClient(server.url).post('/api/auth/login', {
        username: 'gus',
        password: 'a wrong password',
      }),
    ).toMatchObject({ status: 401, body: { code: 'invalid_credentials' } });

    expect(await admin.call('PATCH', '/api/users/gus', { disabled: false })).toMatchObject({
      status: 200,
      body: { disabled: false },
    });
    expect((await gus.get('/api/me')).status).toBe(200);
    const { client: back } = await bot.join(1);
    await back.say('back again');
    back.close();
  });
});
