/** AUTH=jwt: tokens signed by the operator's backend (HS256 secret, or RS256/ES256/EdDSA key). */
import { generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestChat, tempDir } from '../helpers/chat-server.ts';
import type { TestChat } from '../helpers/chat-server.ts';
import { ApiClient } from '../helpers/accounts.ts';
import { ChatClient } from '../helpers/ws-client.ts';

const SECRET = 'a shared secret of at least thirty-two bytes';
const now = () => Math.floor(Date.now() / 1000);

async function sign(
  claims: Record<string, unknown>,
  key: Uint8Array | KeyObject = new TextEncoder().encode(SECRET),
  alg = 'HS256',
  /** null: no `exp` claim */
  exp: number | null = now() + 600,
): Promise<string> {
  const jwt = new SignJWT(claims).setProtectedHeader({ alg });
  if (exp !== null) jwt.setExpirationTime(exp);
  return jwt.sign(key);
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function bearer(url: string, token: string): ApiClient {
  const client = new ApiClient(url);
  client.bearer = token;
  return client;
}

/** A public key's PEM in a file, as JWT_PUBLIC_KEY names it. */
function publicKeyFile(publicKey: KeyObject): string {
  const file = path.join(tempDir(), 'jwt.pub.pem');
  fs.writeFileSync(file, publicKey.export({ type: 'spki', format: 'pem' }));
  return file;
}

describe('JWT mode with an HS256 secret', () => {
  let server: TestChat;
  beforeAll(async () => {
    server = await startTestChat({ AUTH: 'jwt', JWT_SECRET: SECRET });
  });
  afterAll(async () => {
    await server.close();
  });

  it('takes a valid token: the user is its sub, admin as its claim says', async () => {
    const answer = await bearer(server.url, await sign({ sub: 'alice', admin: true })).get(
      '/api/me',
    );
    expect(answer).toMatchObject({ status: 200, body: { username: 'alice', admin: true } });
    const plain = await bearer(server.url, await sign({ sub: 'bob' })).get('/api/me');
    expect(plain.body).toMatchObject({ username: 'bob', admin: false });
    // the user exists from the first token: a later token finds the same account
    const later = await bearer(server.url, await sign({ sub: 'bob' })).get('/api/me');
    expect(later.body.created_at).toBe(plain.body.created_at);
  });

  it('refuses 401 an expired token, one without exp, a bad signature, alg none, a bad sub', async () => {
    const valid = await sign({ sub: 'alice' });
    const [header, payload] = valid.split('.') as [string, string];
    const refused = {
      expired: await sign({ sub: 'alice' }, undefined, 'HS256', now() - 60),
      'no exp': await sign({ sub: 'alice' }, undefined, 'HS256', null),
      'no sub': await sign({ name: 'alice' }),
      'bad signature': await sign(
        { sub: 'alice' },
        new TextEncoder().encode('another secret, also long enough!'),
      ),
      tampered: `${header}.${base64url({ sub: 'root', exp: now() + 600 })}.${valid.split('.')[2]}`,
      'alg none': `${base64url({ alg: 'none', typ: 'JWT' })}.${payload}.`,
      'invalid sub': await sign({ sub: 'evil\u202etxt' }),
      'untrimmed sub': await sign({ sub: ' alice' }),
      'admin not a boolean': await sign({ sub: 'alice', admin: 'yes' }),
      malformed: 'not.a.jwt',
    };
    for (const [what, token] of Object.entries(refused)) {
      const answer = await bearer(server.url, token).get('/api/servers');
      expect(answer, what).toMatchObject({ status: 401, body: { code: 'unauthenticated' } });
      const socket = ChatClient.connect(
        `${server.wsUrl}/ws/1?access_token=${encodeURIComponent(token)}`,
      );
      expect((await socket.waitClosed()).code, what).toBe(4401);
    }
  });

  it('has no account routes: 404 with a token or without (the 404 wins over 401)', async () => {
    const client = bearer(server.url, await sign({ sub: 'alice', admin: true }));
    const anonymous = new ApiClient(server.url);
    for (const [method, route] of [
      ['POST', '/api/auth/register'],
      ['POST', '/api/auth/login'],
      ['PUT', '/api/me/password'],
      ['POST', '/api/tokens'],
      ['GET', '/api/tokens'],
      ['DELETE', '/api/tokens/x'],
      ['POST', '/api/invites'],
      ['DELETE', '/api/invites/x'],
      ['PATCH', '/api/users/alice'],
    ] as const) {
      for (const caller of [client, anonymous]) {
        const body = method === 'GET' || method === 'DELETE' ? undefined : {};
        expect((await caller.call(method, route, body)).status, `${method} ${route}`).toBe(404);
      }
    }
  });

  it('POST /api/auth/session makes a cookie that ends at the token’s exp, for REST and WebSocket', async () => {
    const exp = now() + 600;
    const browser = bearer(server.url, await sign({ sub: 'carol' }, undefined, 'HS256', exp));
    const answer = await browser.post('/api/auth/session');
    expect(answer.status).toBe(204);
    const cookie = answer.headers.get('set-cookie')!;
    expect(cookie).toContain('HttpOnly');
    const maxAge = Number(/Max-Age=(\d+)/.exec(cookie)![1]);
    expect(maxAge).toBeGreaterThan(590);
    expect(maxAge).toBeLessThanOrEqual(600);
    browser.bearer = undefined;
    expect((await browser.get('/api/me')).body).toMatchObject({ username: 'carol' });
    const { client, presence } = await browser.join(1, 'username=mallory');
    expect(presence.users).toEqual(['carol']);
    expect(await client.say('hello')).toMatchObject({ type: 'ack' });

    // without a bearer JWT (the cookie alone) there is nothing to make a session of
    expect((await browser.post('/api/auth/session')).status).toBe(401);
    // signing out ends that session, and its socket
    expect((await browser.post('/api/auth/logout')).status).toBe(204);
    expect((await client.waitClosed()).code).toBe(4401);
  });

  it('closes a WebSocket with 4401 when its token expires while it is open', async () => {
    const exp = now() + 3;
    const token = await sign({ sub: 'dave' }, undefined, 'HS256', exp);
    const { client } = await ChatClient.join(`${server.wsUrl}/ws/1?access_token=${token}`);
    const closed = await client.waitClosed(8000);
    expect(closed.code).toBe(4401);
    // at the expiry, not before it
    expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000 - 50);
  });

  it('posts as the token’s sub whatever ?username= says', async () => {
    const { client } = await bearer(server.url, await sign({ sub: 'erin' })).join(
      1,
      'username=mallory',
    );
    const ack = await client.say('who am I');
    const frame = await client.until((f) => f.type === 'message' && f.id === ack.id);
    expect(frame).toMatchObject({ username: 'erin' });
    client.close();
  });
});

describe('JWT mode with a public key', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  let server: TestChat;
  beforeAll(async () => {
    server = await startTestChat({ AUTH: 'jwt', JWT_PUBLIC_KEY: publicKeyFile(rsa.publicKey) });
  });
  afterAll(async () => {
    await server.close();
  });

  it('takes RS256 tokens signed with the private half', async () => {
    const token = await sign({ sub: 'alice' }, rsa.privateKey, 'RS256');
    expect((await bearer(server.url, token).get('/api/me')).body).toMatchObject({
      username: 'alice',
    });
  });

  it('refuses an HS256 token signed with the public key’s PEM text, and alg none', async () => {
    const pem = rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const confused = await sign({ sub: 'alice', admin: true }, new TextEncoder().encode(pem));
    expect((await bearer(server.url, confused).get('/api/me')).status).toBe(401);
    const none = `${base64url({ alg: 'none' })}.${base64url({ sub: 'alice', exp: now() + 60 })}.`;
    expect((await bearer(server.url, none).get('/api/me')).status).toBe(401);
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const foreign = await sign({ sub: 'alice' }, other.privateKey, 'RS256');
    expect((await bearer(server.url, foreign).get('/api/me')).status).toBe(401);
  });

  it.each([
    ['ES256', generateKeyPairSync('ec', { namedCurve: 'prime256v1' })],
    ['EdDSA', generateKeyPairSync('ed25519')],
  ] as const)('takes %s tokens from a key of that type', async (alg, pair) => {
    const other = await startTestChat({
      AUTH: 'jwt',
      JWT_PUBLIC_KEY: publicKeyFile(pair.publicKey),
    });
    try {
      const token = await sign({ sub: 'alice' }, pair.privateKey, alg);
      expect((await bearer(other.url, token).get('/api/me')).status).toBe(200);
      const rs = await sign({ sub: 'alice' }, rsa.privateKey, 'RS256');
      expect((await bearer(other.url, rs).get('/api/me')).status).toBe(401);
    } finally {
      await other.close();
    }
  });
});
