/** AUTH=accounts in embedded mode: registration, sign-in, sessions, and every refusal. */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CredentialCodec } from '../../src/gateway/auth/credentials.ts';
import { startTestChat } from '../helpers/chat-server.ts';
import type { TestChat } from '../helpers/chat-server.ts';
import { ApiClient, startAccountsChat } from '../helpers/accounts.ts';
import type { AccountsChat } from '../helpers/accounts.ts';
import { ChatClient } from '../helpers/ws-client.ts';

interface OpenApi {
  components: { securitySchemes: unknown };
  paths: Record<string, Record<string, { security?: unknown; responses: object }>>;
}

let server: TestChat;
let admin: ApiClient;
let invite: string;
let newUser: AccountsChat['newUser'];

beforeAll(async () => {
  ({ server, admin, invite, newUser } = await startAccountsChat());
});

afterAll(async () => {
  await server.close();
});

describe('registration', () => {
  it('makes the first account the admin, without an invite, and signs it in', async () => {
    const fresh = await startTestChat({ AUTH: 'accounts' });
    try {
      const first = new ApiClient(fresh.url);
      const answer = await first.post('/api/auth/register', {
        username: 'founder',
        password: 'first password',
      });
      expect(answer.status).toBe(201);
      expect(answer.body).toEqual({
        username: 'founder',
        admin: true,
        disabled: false,
        created_at: expect.stringMatching(/Z$/),
      });
      const cookie = answer.headers.get('set-cookie')!;
      expect(cookie).toMatch(/^chatroom_session=v1\.[\w-]+\.[\w-]+;/);
      expect(cookie).toContain('HttpOnly');
      expect(cookie).toContain('SameSite=Lax');
      expect(cookie).toContain('Path=/');
      expect(cookie).toContain(`Max-Age=${30 * 24 * 3600}`);
      // the request came over plain http
      expect(cookie).not.toContain('Secure');
      expect((await first.get('/api/me')).body).toMatchObject({ username: 'founder', admin: true });

      const second = await new ApiClient(fresh.url).post('/api/auth/register', {
        username: 'second',
        password: 'second password',
      });
      expect(second).toMatchObject({ status: 403, body: { code: 'invite_required' } });
      const empty = await new ApiClient(fresh.url).post('/api/auth/register', {
        username: 'second',
        password: 'second password',
        invite: '',
      });
      expect(empty).toMatchObject({ status: 403, body: { code: 'invite_required' } });
    } finally {
      await fresh.close();
    }
  });

  it('takes an invite for any number of registrations; the new users are not admins', async () => {
    const bob = new ApiClient(server.url);
    expect(await bob.register('bob', 'bob password', invite)).toMatchObject({ admin: false });
    const carol = new ApiClient(server.url);
    expect(await carol.register('carol', 'carol password', invite)).toMatchObject({
      username: 'carol',
      admin: false,
    });
  });

  it('refuses 403 invalid_invite for an unknown or revoked code', async () => {
    const unknown = await new ApiClient(server.url).post('/api/auth/register', {
      username: 'dave',
      password: 'dave password',
      invite: 'not-a-code',
    });
    expect(unknown).toMatchObject({ status: 403, body: { code: 'invalid_invite' } });
    const revoked = (await admin.post('/api/invites')).body.code as string;
    expect((await admin.call('DELETE', `/api/invites/${revoked}`)).status).toBe(204);
    const refused = await new ApiClient(server.url).post('/api/auth/register', {
      username: 'dave',
      password: 'dave password',
      invite: revoked,
    });
    expect(refused).toMatchObject({ status: 403, body: { code: 'invalid_invite' } });
    expect((await admin.call('DELETE', '/api/invites/nope')).status).toBe(404);
  });

  it('refuses 400 invalid_username by the name rules', async () => {
    for (const username of [
      '',
      '   ',
      'x'.repeat(33),
      'zero\u200bwidth',
      'bidi\u202eevil',
      'line\u2028break',
      'bell\u0007',
      'lone\ud800',
    ]) {
      const answer = await new ApiClient(server.url).post('/api/auth/register', {
        username,
        password: 'long enough',
        invite,
      });
      expect(answer, JSON.stringify(username)).toMatchObject({
        status: 400,
        body: { code: 'invalid_username' },
      });
    }
  });

  it('stores a username trimmed and NFC-normalised', async () => {
    const client = new ApiClient(server.url);
    expect(await client.register('  Zoe\u0301  ', 'zoe password', invite)).toMatchObject({
      username: 'Zo\u00e9',
    });
  });

  it('refuses 400 weak_password below 8 or above 256 characters', async () => {
    for (const password of ['short', '1234567', 'x'.repeat(257)]) {
      const answer = await new ApiClient(server.url).post('/api/auth/register', {
        username: 'weakling',
        password,
        invite,
      });
      expect(answer).toMatchObject({ status: 400, body: { code: 'weak_password' } });
    }
  });

  it('refuses 409 username_taken for the same name after NFKC case folding', async () => {
    await newUser('Erin');
    for (const username of ['Erin', 'erin', 'ERIN', '\uff25\uff52\uff49\uff4e']) {
      const answer = await new ApiClient(server.url).post('/api/auth/register', {
        username,
        password: 'another password',
        invite,
      });
      expect(answer, username).toMatchObject({ status: 409, body: { code: 'username_taken' } });
    }
  });

  it('refuses 400 bad_request for a field of the wrong type', async () => {
    for (const body of [
      { username: 42, password: 'long enough' },
      { username: 'frank', password: 12345678 },
      { username: 'frank', password: 'long enough', invite: 7 },
      { username: 'frank', password: 'long enough', extra: true },
    ]) {
      const answer = await new ApiClient(server.url).post('/api/auth/register', body);
      expect(answer).toMatchObject({ status: 400, body: { code: 'bad_request' } });
    }
  });
});

describe('registration policy', () => {
  it('REGISTRATION=closed: 403 registration_closed after the first account, invite or not', async () => {
    const closed = await startTestChat({ AUTH: 'accounts', REGISTRATION: 'closed' });
    try {
      const owner = new ApiClient(closed.url);
      await owner.register('owner', 'owner password');
      const code = (await owner.post('/api/invites')).body.code as string;
      for (const body of [
        { username: 'guest', password: 'guest password' },
        { username: 'guest', password: 'guest password', invite: code },
        // a closed server does not tell which names exist
        { username: 'owner', password: 'guest password' },
      ]) {
        const answer = await new ApiClient(closed.url).post('/api/auth/register', body);
        expect(answer).toMatchObject({ status: 403, body: { code: 'registration_closed' } });
      }
    } finally {
      await closed.close();
    }
  });

  it('REGISTRATION=open: anyone may register', async () => {
    const open = await startTestChat({ AUTH: 'accounts', REGISTRATION: 'open' });
    try {
      await new ApiClient(open.url).register('owner', 'owner password');
      const guest = await new ApiClient(open.url).register('guest', 'guest password');
      expect(guest).toMatchObject({ username: 'guest', admin: false });
    } finally {
      await open.close();
    }
  });
});

describe('sign-in', () => {
  it('answers the user and a session cookie', async () => {
    await newUser('gina', 'gina password');
    const client = new ApiClient(server.url);
    const answer = await client.post('/api/auth/login', {
      username: ' GINA ',
      password: 'gina password',
    });
    expect(answer).toMatchObject({ status: 200, body: { username: 'gina', admin: false } });
    expect(answer.headers.get('set-cookie')).toMatch(/^chatroom_session=v1\./);
    expect((await client.get('/api/me')).body).toMatchObject({ username: 'gina' });
  });

  it('answers 401 invalid_credentials alike for an unknown user and a wrong password', async () => {
    await newUser('hank', 'hank password');
    const unknown = await new ApiClient(server.url).post('/api/auth/login', {
      username: 'nobody-here',
      password: 'hank password',
    });
    const wrong = await new ApiClient(server.url).post('/api/auth/login', {
      username: 'hank',
      password: 'not his password',
    });
    expect(unknown.status).toBe(401);
    expect(wrong.status).toBe(401);
    expect(unknown.body).toEqual(wrong.body);
    expect(wrong.body).toMatchObject({ code: 'invalid_credentials' });
    expect(wrong.headers.get('set-cookie')).toBeNull();
  });
});

describe('credentials on REST', () => {
  it('answers 401 unauthenticated on every /api/ route but register and login', async () => {
    const document = (await admin.get('/openapi.json')).body as {
      paths: Record<string, Record<string, unknown>>;
    };
    const anonymous = new ApiClient(server.url);
    const checked: string[] = [];
    for (const [path, operations] of Object.entries(document.paths)) {
      if (!path.startsWith('/api/')) continue;
      for (const method of Object.keys(operations)) {
        const route = `${method.toUpperCase()} ${path}`;
        if (route === 'POST /api/auth/register' || route === 'POST /api/auth/login') continue;
        const concrete = path.replace(/\{[^}]+\}/g, '1');
        const body = ['post', 'put', 'patch'].includes(method) ? {} : undefined;
        const answer = await anonymous.call(method.toUpperCase(), concrete, body);
        expect(answer, route).toMatchObject({ status: 401, body: { code: 'unauthenticated' } });
        checked.push(route);
      }
    }
    expect(checked).toEqual(
      expect.arrayContaining([
        'GET /api/servers',
        'POST /api/servers',
        'GET /api/servers/{id}/messages',
        'GET /api/me',
        'PUT /api/me/password',
        'POST /api/auth/logout',
        'POST /api/tokens',
        'DELETE /api/tokens/{id}',
        'POST /api/invites',
        'PATCH /api/users/{username}',
      ]),
    );
  });

  it('refuses a forged, tampered or foreign cookie and a bad bearer token', async () => {
    const client = await newUser('ivan');
    const [name, value] = client.cookie!.split('=') as [string, string];
    const [version, payload, mac] = value.split('.') as [string, string, string];
    const forged = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), u: 'root' }),
    ).toString('base64url');
    for (const cookie of [
      `${name}=${version}.${forged}.${mac}`,
      `${name}=${version}.${payload}.${mac.slice(0, -2)}AA`,
      `${name}=garbage`,
    ]) {
      const answer = await fetch(`${server.url}/api/me`, { headers: { cookie } });
      expect(answer.status, cookie).toBe(401);
    }
    for (const authorization of ['Bearer chr_nope.nope', 'Basic cm9vdDpyb290', `Bearer ${value}`]) {
      const answer = await fetch(`${server.url}/api/me`, { headers: { authorization } });
      expect(answer.status, authorization).toBe(401);
    }
  });

  it('keeps 404 for unknown routes, and the docs, health and page public', async () => {
    const anonymous = new ApiClient(server.url);
    expect((await anonymous.get('/api/nope')).status).toBe(404);
    for (const path of ['/', '/healthz', '/readyz', '/metrics', '/openapi.json', '/docs']) {
      expect((await anonymous.get(path)).status, path).toBe(200);
    }
  });

  it('describes the security schemes and the new routes in the OpenAPI document', async () => {
    const document = (await admin.get('/openapi.json')).body as OpenApi;
    expect(document.components.securitySchemes).toEqual({
      cookieAuth: { type: 'apiKey', in: 'cookie', name: 'chatroom_session' },
      bearerAuth: { type: 'http', scheme: 'bearer' },
    });
    expect(document.paths['/api/servers']!.get!.security).toEqual([
      { cookieAuth: [] },
      { bearerAuth: [] },
    ]);
    expect(document.paths['/api/servers']!.get!.responses).toHaveProperty('401');
    expect(document.paths['/api/auth/login']!.post!.security).toEqual([]);
    expect(Object.keys(document.paths['/api/auth/login']!.post!.responses)).toEqual(
      expect.arrayContaining(['200', '401', '403', '429']),
    );
    for (const path of [
      '/api/auth/register',
      '/api/auth/logout',
      '/api/me',
      '/api/me/password',
      '/api/tokens',
      '/api/tokens/{id}',
      '/api/invites',
      '/api/invites/{code}',
      '/api/users/{username}',
      '/api/servers/{id}/members',
      '/api/servers/{id}/members/{username}',
      '/api/dms',
    ]) {
      expect(document.paths[path], path).toBeDefined();
    }
    // every state change names its refusal of foreign browser origins
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        if (!path.startsWith('/api/') || method === 'get') continue;
        const responses = operation.responses as Record<string, { description?: string }>;
        expect(responses['403']?.description, `${method} ${path}`).toContain(
          '`origin_not_allowed`',
        );
      }
    }
    expect(document.paths['/api/auth/session']).toBeUndefined();
    // each error of identity and access is named where a route answers it
    const described = JSON.stringify(
      Object.values(document.paths).flatMap((operations) =>
        Object.values(operations).flatMap((operation) =>
          Object.values(operation.responses as Record<string, { description?: string }>).map(
            (answer) => answer.description,
          ),
        ),
      ),
    );
    for (const code of [
      'unauthenticated',
      'invalid_credentials',
      'invite_required',
      'invalid_invite',
      'registration_closed',
      'invalid_username',
      'weak_password',
      'username_taken',
      'user_disabled',
      'user_not_found',
      'forbidden',
      'rate_limited',
      'room_not_found',
      'room_name_taken',
    ]) {
      expect(described, code).toContain(`\`${code}\``);
    }
  });
});

describe('session lifetime', () => {
  const DAY = 24 * 3_600_000;

  it('renews a cookie a day old (same session), not a fresh one, and refuses an expired one', async () => {
    await newUser('olga');
    const key = fs.readFileSync(path.join(server.dataDir, 'session.key'), 'utf8').trim();
    const codec = new CredentialCodec(Buffer.from(key));
    const now = Date.now();
    const session = { sid: 'olga-1', username: 'olga', admin: false, fixedExpiry: false };
    const dayOld = codec.issueSession({
      ...session,
      issuedAt: now - 2 * DAY,
      expiresAt: now + 28 * DAY,
    });
    const answer = await fetch(`${server.url}/api/me`, {
      headers: { cookie: `chatroom_session=${dayOld}` },
    });
    expect(answer.status).toBe(200);
    const renewed = /^chatroom_session=([^;]+);.*Max-Age=(\d+)/.exec(
      answer.headers.get('set-cookie') ?? '',
    );
    expect(renewed).not.toBeNull();
    expect(Number(renewed![2])).toBe(30 * 24 * 3600);
    const claims = codec.readSession(renewed![1]!, Date.now());
    expect(claims).toMatchObject({ sid: 'olga-1', username: 'olga' });
    expect(claims!.issuedAt).toBeGreaterThanOrEqual(now);

    const fresh = codec.issueSession({ ...session, issuedAt: now, expiresAt: now + 30 * DAY });
    const again = await fetch(`${server.url}/api/me`, {
      headers: { cookie: `chatroom_session=${fresh}` },
    });
    expect(again.status).toBe(200);
    expect(again.headers.get('set-cookie')).toBeNull();

    const expired = codec.issueSession({
      ...session,
      issuedAt: now - 31 * DAY,
      expiresAt: now - DAY,
    });
    const refused = await fetch(`${server.url}/api/me`, {
      headers: { cookie: `chatroom_session=${expired}` },
    });
    expect(refused.status).toBe(401);
  });

  it('reads the cookie beside an Authorization header of another scheme (a proxy’s Basic)', async () => {
    const pia = await newUser('pia');
    const answer = await fetch(`${server.url}/api/me`, {
      headers: { cookie: pia.cookie!, authorization: 'Basic cHJveHk6cGFzcw==' },
    });
    expect(answer.status).toBe(200);
  });
});

describe('admin routes', () => {
  it('answer 403 forbidden to non-admins', async () => {
    const jane = await newUser('jane');
    for (const [method, path, body] of [
      ['POST', '/api/invites', {}],
      ['DELETE', `/api/invites/${invite}`, undefined],
      ['PATCH', '/api/users/root', { disabled: true }],
    ] as const) {
      const answer = await jane.call(method, path, body);
      expect(answer, `${method} ${path}`).toMatchObject({
        status: 403,
        body: { code: 'forbidden' },
      });
    }
  });

  it('answer 404 user_not_found for an unknown user, and refuse disabling oneself', async () => {
    expect(await admin.call('PATCH', '/api/users/nobody', { disabled: true })).toMatchObject({
      status: 404,
      body: { code: 'user_not_found' },
    });
    expect(await admin.call('PATCH', '/api/users/root', { disabled: true })).toMatchObject({
      status: 403,
      body: { code: 'forbidden' },
    });
    expect(await admin.call('PATCH', '/api/users/root', { disabled: 'yes' })).toMatchObject({
      status: 400,
      body: { code: 'bad_request' },
    });
  });
});

describe('WebSocket credentials', () => {
  it('closes 4401 without credentials, before the room and username checks', async () => {
    for (const path of ['/ws/1', '/ws/1?username=alice', '/ws/abc', '/ws/999?since=x']) {
      const client = ChatClient.connect(server.wsUrl + path);
      expect((await client.waitClosed()).code, path).toBe(4401);
    }
    const bad = ChatClient.connect(`${server.wsUrl}/ws/1?access_token=chr_x.y`);
    expect((await bad.waitClosed()).code).toBe(4401);
  });

  it('with credentials: 4404 for an unknown room, then 4400 for a bad since', async () => {
    const kate = await newUser('kate');
    expect((await kate.connect('abc').waitClosed()).code).toBe(4404);
    expect((await kate.connect(424242).waitClosed()).code).toBe(4404);
    expect((await kate.connect(1, 'since=x').waitClosed()).code).toBe(4400);
  });

  it('takes the cookie, a bearer header or ?access_token=, and ignores ?username=', async () => {
    const alice = await newUser('alice');
    const token = (await alice.post('/api/tokens', { name: 'script' })).body.token as string;
    const viaCookie = await alice.join(1, 'username=mallory');
    const bot = new ApiClient(server.url);
    bot.bearer = token;
    const viaBearer = await bot.join(1, 'username=mallory');
    const viaQuery = await ChatClient.join(
      `${server.wsUrl}/ws/1?username=mallory&access_token=${encodeURIComponent(token)}`,
    );
    for (const { client, presence } of [viaCookie, viaBearer, viaQuery]) {
      expect(presence.users).toContain('alice');
      expect(presence.users).not.toContain('mallory');
      const ack = await client.say('it is me');
      const frame = await client.until((f) => f.type === 'message' && f.id === ack.id);
      expect(frame).toMatchObject({ username: 'alice', text: 'it is me' });
    }
    // typing frames name the credentials' user too
    const listener = await newUser('listener');
    const { client: watcher } = await listener.join(1);
    viaBearer.client.send({ type: 'typing' });
    expect(await watcher.next('typing')).toEqual({ type: 'typing', username: 'alice' });
    const messages = (await admin.get('/api/servers/1/messages')).body as Array<{
      username: string;
    }>;
    expect(messages.map((m) => m.username)).not.toContain('mallory');
    for (const client of [viaCookie, viaBearer, viaQuery, { client: watcher }]) {
      client.client.close();
    }
  });
});
