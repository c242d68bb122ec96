/**
 * Accounts meet the every-mode protections (contract, "Identity and access", "Abuse limits"):
 * the rate limits count per user once signed in, else per client address; a cross-origin state
 * change carrying the session cookie is refused; the cookie is `Secure` behind a TLS proxy; and
 * usernames follow the name rules and their NFKC-key uniqueness.
 */
import { SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestChat } from '../helpers/chat-server.ts';
import type { TestChat } from '../helpers/chat-server.ts';
import { ApiClient } from '../helpers/accounts.ts';
import type { ApiAnswer } from '../helpers/accounts.ts';

const servers: TestChat[] = [];

async function start(env: Record<string, string>): Promise<TestChat> {
  const server = await startTestChat({ AUTH: 'accounts', REGISTRATION: 'open', ...env });
  servers.push(server);
  return server;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** A client whose requests come from `address` (through the trusted proxy, the test itself). */
function from(server: TestChat, address: string): ApiClient {
  const client = new ApiClient(server.url);
  client.headers = { 'x-forwarded-for': address };
  return client;
}

/** The same session, sent from another address. */
function elsewhere(client: ApiClient, address: string): ApiClient {
  const moved = from({ url: client.url } as TestChat, address);
  moved.cookie = client.cookie;
  return moved;
}

function expectRateLimited(answer: ApiAnswer, variable: string): void {
  expect(answer).toMatchObject({ status: 429, body: { code: 'rate_limited' } });
  expect(answer.body.message).toContain(variable);
  expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
}

let rooms = 0;
function createRoom(client: ApiClient): Promise<ApiAnswer> {
  rooms += 1;
  return client.post('/api/servers', { name: `room ${rooms}` });
}

// The test client is the proxy: it connects from 127.0.0.1.
const PROXY = { TRUST_PROXY: '127.0.0.1' };

describe('REST_RATE_LIMIT with accounts', () => {
  it('gives two users from one address a budget each, apart from the address’s', async () => {
    const server = await start({ ...PROXY, REST_RATE_LIMIT: '4', ROOM_CREATE_LIMIT: '0' });
    // two registrations: the address's requests 1 and 2
    const alice = from(server, '10.0.0.1');
    await alice.register('alice', 'alice password');
    const bob = from(server, '10.0.0.1');
    await bob.register('bob', 'bob password');
    for (let i = 1; i <= 4; i++)
      expect((await alice.get('/api/me')).status, `alice ${i}`).toBe(200);
    expectRateLimited(await alice.get('/api/me'), 'REST_RATE_LIMIT');
    for (let i = 1; i <= 4; i++) expect((await bob.get('/api/me')).status, `bob ${i}`).toBe(200);
    expectRateLimited(await bob.get('/api/me'), 'REST_RATE_LIMIT');
    // the address has used 2 of its 4: unauthenticated requests from it go on (to their 401)
    const stranger = from(server, '10.0.0.1');
    expect((await stranger.get('/api/me')).status).toBe(401);
    expect((await stranger.get('/api/me')).status).toBe(401);
    expectRateLimited(await stranger.get('/api/me'), 'REST_RATE_LIMIT');
  });

  it('counts one user from two addresses against one budget', async () => {
    const server = await start({ ...PROXY, REST_RATE_LIMIT: '4', ROOM_CREATE_LIMIT: '0' });
    const alice = from(server, '10.0.0.1');
    await alice.register('alice', 'alice password');
    const away = elsewhere(alice, '10.0.0.2');
    expect((await alice.get('/api/me')).status).toBe(200);
    expect((await away.get('/api/me')).status).toBe(200);
    expect((await alice.get('/api/me')).status).toBe(200);
    expect((await away.get('/api/me')).status).toBe(200);
    expectRateLimited(await elsewhere(alice, '10.0.0.3').get('/api/me'), 'REST_RATE_LIMIT');
    // the second address's own budget is untouched
    expect((await from(server, '10.0.0.2').get('/api/me')).status).toBe(401);
  });

  it('counts requests refused with 401 against their address', async () => {
    const server = await start({ REST_RATE_LIMIT: '2' });
    const stranger = new ApiClient(server.url);
    expect((await stranger.get('/api/servers')).status).toBe(401);
    expect((await stranger.get('/api/servers')).status).toBe(401);
    expectRateLimited(await stranger.get('/api/servers'), 'REST_RATE_LIMIT');
  });
});

describe('ROOM_CREATE_LIMIT with accounts', () => {
  it('gives two users from one address a budget each', async () => {
    const server = await start({ ...PROXY, ROOM_CREATE_LIMIT: '2' });
    const alice = from(server, '10.0.0.1');
    await alice.register('alice', 'alice password');
    const bob = from(server, '10.0.0.1');
    await bob.register('bob', 'bob password');
    expect((await createRoom(alice)).status).toBe(201);
    expect((await createRoom(alice)).status).toBe(201);
    expectRateLimited(await createRoom(alice), 'ROOM_CREATE_LIMIT');
    expect((await createRoom(bob)).status).toBe(201);
    expect((await createRoom(bob)).status).toBe(201);
    expectRateLimited(await createRoom(bob), 'ROOM_CREATE_LIMIT');
  });

  it('counts one user from two addresses against one budget', async () => {
    const server = await start({ ...PROXY, ROOM_CREATE_LIMIT: '2' });
    const alice = from(server, '10.0.0.1');
    await alice.register('alice', 'alice password');
    expect((await createRoom(alice)).status).toBe(201);
    expect((await createRoom(elsewhere(alice, '10.0.0.2'))).status).toBe(201);
    expectRateLimited(await createRoom(elsewhere(alice, '10.0.0.3')), 'ROOM_CREATE_LIMIT');
  });
});

describe('state changes from a foreign origin (CSRF) with accounts', () => {
  const FOREIGN = 'http://evil.example';

  it('refuses one that carries the session cookie with 403 origin_not_allowed', async () => {
    const server = await start({});
    const alice = new ApiClient(server.url);
    await alice.register('alice', 'alice password');
    alice.headers = { origin: FOREIGN };
    const refused = await alice.post('/api/servers', { name: 'forged' });
    expect(refused).toMatchObject({ status: 403, body: { code: 'origin_not_allowed' } });
    const logout = await alice.post('/api/auth/logout');
    expect(logout).toMatchObject({ status: 403, body: { code: 'origin_not_allowed' } });
    expect((await alice.call('DELETE', '/api/tokens/any')).status).toBe(403);
    // reading is no state change; nothing was created, the session did not end
    const listed = await alice.get('/api/servers');
    expect(listed.status).toBe(200);
    expect((listed.body as unknown as { name: string }[]).map((room) => room.name)).toEqual([
      'general',
    ]);
    // the gateway's own page may
    alice.headers = { origin: server.url };
    expect((await alice.post('/api/servers', { name: 'own page' })).status).toBe(201);
  });

  it('lets one through that carries a Bearer token and no cookie', async () => {
    const server = await start({});
    const alice = new ApiClient(server.url);
    await alice.register('alice', 'alice password');
    const token = (await alice.post('/api/tokens', { name: 'bot' })).body.token as string;
    const bot = new ApiClient(server.url);
    bot.bearer = token;
    bot.headers = { origin: FOREIGN };
    expect((await bot.post('/api/servers', { name: 'from a bot' })).status).toBe(201);
    // the cookie beside it makes it forgeable again
    bot.cookie = alice.cookie;
    expect((await bot.post('/api/servers', { name: 'with both' })).status).toBe(403);
  });

  it('refuses a foreign page signing a browser in or up, credentials or not', async () => {
    const server = await start({});
    await new ApiClient(server.url).register('alice', 'alice password');
    const page = new ApiClient(server.url);
    page.headers = { origin: FOREIGN };
    const login = await page.post('/api/auth/login', {
      username: 'alice',
      password: 'alice password',
    });
    expect(login).toMatchObject({ status: 403, body: { code: 'origin_not_allowed' } });
    expect(login.headers.get('set-cookie')).toBeNull();
    const register = await page.post('/api/auth/register', {
      username: 'mallory',
      password: 'mallory password',
    });
    expect(register).toMatchObject({ status: 403, body: { code: 'origin_not_allowed' } });
  });

  it('refuses POST /api/auth/session from a foreign page in JWT mode, Bearer or not', async () => {
    const secret = 'a shared secret of at least thirty-two bytes';
    const server = await start({ AUTH: 'jwt', JWT_SECRET: secret });
    const jwt = await new SignJWT({ sub: 'alice' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(Math.floor(Date.now() / 1000) + 600)
      .sign(new TextEncoder().encode(secret));
    const page = new ApiClient(server.url);
    page.bearer = jwt;
    page.headers = { origin: FOREIGN };
    expect((await page.post('/api/auth/session')).status).toBe(403);
    // the token itself works cross-origin elsewhere
    expect((await page.post('/api/servers', { name: 'jwt room' })).status).toBe(201);
    page.headers = {};
    expect((await page.post('/api/auth/session')).status).toBe(204);
  });
});

describe('the session cookie behind a TLS proxy', () => {
  const HTTPS = { 'x-forwarded-proto': 'https' };

  it('is Secure when the trusted proxy says the request came over https', async () => {
    const server = await start(PROXY);
    const alice = new ApiClient(server.url);
    alice.headers = HTTPS;
    const answer = await alice.post('/api/auth/register', {
      username: 'alice',
      password: 'alice password',
    });
    expect(answer.status).toBe(201);
    expect(answer.headers.get('set-cookie')).toMatch(/; Secure(;|$)/);
    const login = await alice.post('/api/auth/login', {
      username: 'alice',
      password: 'alice password',
    });
    expect(login.headers.get('set-cookie')).toMatch(/; Secure(;|$)/);
    // the same proxy forwarding plain http
    alice.headers = { 'x-forwarded-proto': 'http' };
    const plain = await alice.post('/api/auth/login', {
      username: 'alice',
      password: 'alice password',
    });
    expect(plain.headers.get('set-cookie')).not.toContain('Secure');
  });

  it('ignores X-Forwarded-Proto without TRUST_PROXY', async () => {
    const server = await start({});
    const alice = new ApiClient(server.url);
    alice.headers = HTTPS;
    const answer = await alice.post('/api/auth/register', {
      username: 'alice',
      password: 'alice password',
    });
    expect(answer.status).toBe(201);
    expect(answer.headers.get('set-cookie')).not.toContain('Secure');
  });
});

describe('usernames under the name rules', () => {
  it('are unique under the rooms’ NFKC case-folded key', async () => {
    const server = await start({});
    await new ApiClient(server.url).register('alice', 'alice password');
    await new ApiClient(server.url).register('Straße', 'strasse password');
    for (const taken of ['Alice', 'ＡＬＩＣＥ', 'STRASSE', 'strasse', 'STRAẞE']) {
      const answer = await new ApiClient(server.url).post('/api/auth/register', {
        username: taken,
        password: 'another password',
      });
      expect(answer, taken).toMatchObject({ status: 409, body: { code: 'username_taken' } });
    }
  });

  it('refuse a bidi override with 400 invalid_username', async () => {
    const server = await start({});
    const answer = await new ApiClient(server.url).post('/api/auth/register', {
      username: 'alice\u202egnp.exe',
      password: 'a good password',
    });
    expect(answer).toMatchObject({ status: 400, body: { code: 'invalid_username' } });
  });
});
