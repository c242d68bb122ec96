/**
 * AUTH=jwt in NATS mode: two gateway processes and a history service sharing one SESSION_SECRET
 * and one JWT_SECRET. A token works on either gateway; a session made from it on one gateway and
 * ended there stops working on the other within the contract's 5 s, and its WebSocket there closes.
 */
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnChat, tempDir } from '../helpers/chat-server.ts';
import type { ChatProcess } from '../helpers/chat-server.ts';
import { ApiClient } from '../helpers/accounts.ts';
import { eventually } from '../helpers/eventually.ts';
import { TestNatsServer } from '../helpers/nats-server.ts';

const REVOKED_WITHIN_MS = 5000;
const JWT_SECRET = 'a shared secret of at least thirty-two bytes';

let nats: TestNatsServer;
let processes: ChatProcess[] = [];
let gatewayA: ChatProcess;
let gatewayB: ChatProcess;

function env(): Record<string, string> {
  return {
    NATS_URL: nats.url,
    DATA_DIR: tempDir(),
    AUTH: 'jwt',
    JWT_SECRET,
    SESSION_SECRET: 'one session secret for every process here',
    RATE_LIMIT: '0',
    NATS_REQUEST_TIMEOUT: '3s',
  };
}

function sign(sub: string): Promise<string> {
  return new SignJWT({ sub })
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime(Math.floor(Date.now() / 1000) + 600)
    .sign(new TextEncoder().encode(JWT_SECRET));
}

beforeAll(async () => {
  nats = await TestNatsServer.start();
  const history = await spawnChat(env(), ['history']);
  [gatewayA, gatewayB] = await Promise.all([
    spawnChat(env(), ['gateway']),
    spawnChat(env(), ['gateway']),
  ]);
  processes = [history, gatewayA, gatewayB];
  await eventually(
    () => Promise.all([gatewayA, gatewayB].map((g) => fetch(`${g.url}/readyz`))),
    (answers) => answers.every((answer) => answer.status === 200),
  );
}, 90_000);

afterAll(async () => {
  for (const process of processes) await process.stop('SIGKILL');
  await nats?.stop();
});

describe('JWT mode across gateways (NATS mode)', () => {
  it('takes a token on both gateways; a session ended on A is refused on B, its socket closed 4401', async () => {
    const token = await sign('zoe');
    for (const gateway of [gatewayA, gatewayB]) {
      const client = new ApiClient(gateway.url);
      client.bearer = token;
      expect((await client.get('/api/me')).body).toMatchObject({ username: 'zoe' });
    }
    const browser = new ApiClient(gatewayA.url);
    browser.bearer = token;
    expect((await browser.post('/api/auth/session')).status).toBe(204);
    browser.bearer = undefined;
    const onB = new ApiClient(gatewayB.url);
    onB.cookie = browser.cookie;
    expect((await onB.get('/api/me')).body).toMatchObject({ username: 'zoe' });
    const { client: socket } = await onB.join(1);

    const since = Date.now();
    expect((await browser.post('/api/auth/logout')).status).toBe(204);
    expect((await socket.waitClosed(REVOKED_WITHIN_MS + 1000)).code).toBe(4401);
    expect(Date.now() - since).toBeLessThan(REVOKED_WITHIN_MS);
    await eventually(
      () => onB.get('/api/me'),
      (answer) => answer.status === 401,
      REVOKED_WITHIN_MS,
    );
  });
});
