/**
 * Accounts in NATS mode, end to end: a nats-server of the test's own, one history service and two
 * gateways, each a real process with AUTH=accounts and one SESSION_SECRET, sharing nothing but
 * NATS_URL. A session or token that ends on one gateway stops working on the other within the
 * contract's 5 s, and the WebSockets it opened there close (4401, 4403 for a disabled user).
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAdmin, spawnChat, tempDir } from '../helpers/chat-server.ts';
import type { ChatProcess } from '../helpers/chat-server.ts';
import { ApiClient } from '../helpers/accounts.ts';
import { eventually } from '../helpers/eventually.ts';
import {
  natsAccountsEnv,
  onGateway as on,
  registeredOn as registered,
} from '../helpers/nats-chat.ts';
import { filesUnder } from '../helpers/history.ts';
import { TestNatsServer } from '../helpers/nats-server.ts';
import type { ChatClient } from '../helpers/ws-client.ts';

/** The contract's bound on revocation across gateways. */
const REVOKED_WITHIN_MS = 5000;
const SECRET = randomUUID() + randomUUID();

let nats: TestNatsServer;
let history: ChatProcess;
let gatewayA: ChatProcess;
let gatewayB: ChatProcess;
let admin: ApiClient;
const historyDir = tempDir();
const gatewayDirs = [tempDir(), tempDir()] as const;
const sockets: ChatClient[] = [];

const env = (dataDir: string) => natsAccountsEnv(nats.url, dataDir, SECRET);

const startHistory = () => spawnChat(env(historyDir), ['history']);

async function readyz(gateway: ChatProcess): Promise<number> {
  return (await fetch(`${gateway.url}/readyz`)).status;
}

async function joined(client: ApiClient): Promise<ChatClient> {
  const { client: socket } = await client.join(1);
  sockets.push(socket);
  return socket;
}

/** Waits for the close the contract promises within 5 s of `since`; answers its code. */
async function closedWithin(socket: ChatClient, since: number): Promise<number> {
  const { code } = await socket.waitClosed(REVOKED_WITHIN_MS + 1000);
  expect(Date.now() - since).toBeLessThan(REVOKED_WITHIN_MS);
  return code;
}

/** Waits until a REST call answers `status`, within the contract's 5 s. */
function answersWithin(client: ApiClient, status: number) {
  return eventually(
    () => client.get('/api/me'),
    (answer) => answer.status === status,
    REVOKED_WITHIN_MS,
  );
}

beforeAll(async () => {
  nats = await TestNatsServer.start();
  history = await startHistory();
  [gatewayA, gatewayB] = await Promise.all([
    spawnChat(env(gatewayDirs[0]), ['gateway']),
    spawnChat(env(gatewayDirs[1]), ['gateway']),
  ]);
  await eventually(
    () => Promise.all([readyz(gatewayA), readyz(gatewayB)]),
    (s) => s.every((c) => c === 200),
  );
  admin = await registered(gatewayA, 'root');
}, 90_000);

afterAll(async () => {
  for (const socket of sockets) socket.close();
  for (const process of [gatewayA, gatewayB, history]) await process?.stop('SIGKILL');
  await nats?.stop();
});

describe('sessions across gateways (NATS mode)', () => {
  it('the first account is the admin, and a session from A works on B', async () => {
    expect((await admin.get('/api/me')).body).toMatchObject({ username: 'root', admin: true });
    expect((await on(gatewayB, admin).get('/api/me')).body).toMatchObject({ username: 'root' });
  });

  it('logout on A: the cookie is refused on B and its WebSocket there closes 4401, within 5 s', async () => {
    const amy = await registered(gatewayA, 'amy');
    const amyOnB = on(gatewayB, amy);
    const socket = await joined(amyOnB);
    const other = await joined(on(gatewayB, await registered(gatewayB, 'amos')));
    expect((await amyOnB.get('/api/me')).status).toBe(200);

    const since = Date.now();
    expect((await amy.post('/api/auth/logout')).status).toBe(204);
    expect(await closedWithin(socket, since)).toBe(4401);
    expect((await answersWithin(amyOnB, 401)).body).toMatchObject({ code: 'unauthenticated' });
    // nobody else's socket closed
    await other.say('still here');
  });

  it('password change on A: the user’s other sessions and tokens end on B; the changing one goes on', async () => {
    const ben = await registered(gatewayA, 'ben');
    const elsewhere = new ApiClient(gatewayB.url);
    await elsewhere.login('ben', 'a good password');
    const bot = new ApiClient(gatewayB.url);
    bot.bearer = (await elsewhere.post('/api/tokens', { name: 'bot' })).body.token as string;
    const elsewhereSocket = await joined(elsewhere);
    const botSocket = await joined(bot);
    const benOnB = on(gatewayB, ben);
    const benSocket = await joined(benOnB);

    const since = Date.now();
    const changed = await ben.call('PUT', '/api/me/password', {
      current: 'a good password',
      new: 'a better password',
    });
    expect(changed.status).toBe(204);
    expect(await closedWithin(elsewhereSocket, since)).toBe(4401);
    expect(await closedWithin(botSocket, since)).toBe(4401);
    await answersWithin(elsewhere, 401);
    await answersWithin(bot, 401);
    // the session that made the change: its socket on B stays open, its cookie works there
    await benSocket.say('my session goes on');
    expect((await on(gatewayB, ben).get('/api/me')).status).toBe(200);
    await new ApiClient(gatewayB.url).login('ben', 'a better password');
  });

  it('disable on A: the user’s sockets on B close 4403 and B refuses them 403, within 5 s', async () => {
    const gus = await registered(gatewayB, 'gus');
    const bot = new ApiClient(gatewayB.url);
    bot.bearer = (await gus.post('/api/tokens', { name: 'bot' })).body.token as string;
    const cookieSocket = await joined(gus);
    const tokenSocket = await joined(bot);

    const since = Date.now();
    expect((await admin.call('PATCH', '/api/users/gus', { disabled: true })).body).toMatchObject({
      username: 'gus',
      disabled: true,
    });
    expect(await closedWithin(cookieSocket, since)).toBe(4403);
    expect(await closedWithin(tokenSocket, since)).toBe(4403);
    expect((await answersWithin(gus, 403)).body).toMatchObject({ code: 'user_disabled' });

    expect((await admin.call('PATCH', '/api/users/gus', { disabled: false })).status).toBe(200);
    await answersWithin(gus, 200);
  });

  it('a token revoked on A is refused on B and its socket there closes 4401, within 5 s', async () => {
    const dan = await registered(gatewayA, 'dan');
    const created = await dan.post('/api/tokens', { name: 'deploy' });
    const bot = new ApiClient(gatewayB.url);
    bot.bearer = created.body.token as string;
    expect((await bot.get('/api/me')).body).toMatchObject({ username: 'dan' });
    const socket = await joined(bot);

    const since = Date.now();
    expect((await dan.call('DELETE', `/api/tokens/${created.body.id as string}`)).status).toBe(204);
    expect(await closedWithin(socket, since)).toBe(4401);
    await answersWithin(bot, 401);
  });

  it('of two concurrent registrations of one name on A and B, exactly one wins', async () => {
    for (let round = 0; round < 3; round++) {
      const answers = await Promise.all(
        [gatewayA, gatewayB].map((gateway, i) =>
          new ApiClient(gateway.url).post('/api/auth/register', {
            username: i === 0 ? `twin${round}` : `TWIN${round}`,
            password: `password of ${i}`,
          }),
        ),
      );
      expect(answers.map((a) => a.status).sort()).toEqual([201, 409]);
      expect(answers.find((a) => a.status === 409)?.body).toMatchObject({
        code: 'username_taken',
      });
    }
  });
});

/** `chatroom admin ARGS` in NATS mode, with a DATA_DIR of its own (it must not need one). */
function operator(args: string[], stdin?: string) {
  return runAdmin(env(tempDir()), args, stdin);
}

describe('operator commands in NATS mode', () => {
  it('ask the history service: reset-password ends the user’s sessions on every gateway', async () => {
    const sam = await registered(gatewayA, 'sam');
    const socket = await joined(on(gatewayB, sam));
    const run = await operator(['reset-password', 'SAM', '--stdin'], 'a brand new password\n');
    // the change is made when the command answers (starting the command is not part of it)
    const since = Date.now();
    expect(run).toMatchObject({ code: 0, stdout: expect.stringContaining('password of sam set') });
    expect(await closedWithin(socket, since)).toBe(4401);
    await answersWithin(on(gatewayB, sam), 401);
    await new ApiClient(gatewayB.url).login('sam', 'a brand new password');

    const invite = await operator(['invite']);
    expect(invite.code).toBe(0);
    const code = /invite code: (\S+)/.exec(invite.stdout)![1]!;
    // the history service holds it: the admin revokes it through a gateway (unknown: 404)
    expect((await admin.call('DELETE', `/api/invites/${code}`)).status).toBe(204);
    expect((await admin.call('DELETE', `/api/invites/${code}x`)).status).toBe(404);
    expect((await operator(['reset-password', 'nobody'])).code).toBe(2);
  });
});

interface Counts {
  users: number;
  tokens: number;
  invites: number;
  feed: number;
  applied: number;
}

function counts(): Counts {
  const db = new Database(path.join(historyDir, 'chatroom.db'), { readonly: true });
  try {
    const one = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
    return {
      users: one('SELECT count(*) AS n FROM users'),
      tokens: one('SELECT count(*) AS n FROM tokens'),
      invites: one('SELECT count(*) AS n FROM invites'),
      feed: one('SELECT count(*) AS n FROM access_feed'),
      applied: one('SELECT applied_seq AS n FROM stream_position'),
    };
  } finally {
    db.close();
  }
}

describe('the history service keeps accounts and its position across kill -9', () => {
  it('applies no access event twice after a restart', async () => {
    const kim = await registered(gatewayA, 'kim');
    const laptop = new ApiClient(gatewayB.url);
    await laptop.login('kim', 'a good password');
    await kim.post('/api/tokens', { name: 'bot' });
    const oldCookie = on(gatewayB, laptop);
    // the stream's last events are access events, after every message
    expect((await laptop.post('/api/auth/logout')).status).toBe(204);
    const before = counts();

    history.child.kill('SIGKILL');
    await history.exited;
    expect(counts()).toEqual(before);
    history = await startHistory();
    await eventually(
      () => Promise.all([readyz(gatewayA), readyz(gatewayB)]),
      (s) => s.every((c) => c === 200),
    );
    // answered once applied: everything before it in the stream is applied too
    expect((await admin.post('/api/invites')).status).toBe(201);
    const after = counts();
    expect(after).toEqual({
      ...before,
      invites: before.invites + 1,
      applied: expect.any(Number) as number,
    });
    expect(after.applied).toBeGreaterThan(before.applied);
    expect((await on(gatewayA, kim).get('/api/me')).status).toBe(200);
    expect((await oldCookie.get('/api/me')).status).toBe(401);
    await new ApiClient(gatewayB.url).login('kim', 'a good password');
  });
});

describe('passwords at rest in NATS mode', () => {
  it('never reach a file under any DATA_DIR or the stream’s store, nor a log', async () => {
    const first = `first-${randomUUID()}`;
    const second = `second-${randomUUID()}`;
    const lee = await registered(gatewayA, 'lee', first);
    await new ApiClient(gatewayB.url).login('lee', first);
    expect(
      (await on(gatewayB, lee).call('PUT', '/api/me/password', { current: first, new: second }))
        .status,
    ).toBe(204);
    await new ApiClient(gatewayA.url).login('lee', second);

    const files = [historyDir, ...gatewayDirs, nats.storeDir].flatMap(filesUnder);
    expect(files.some((file) => file.includes('chatroom.db'))).toBe(true);
    expect(files.some((file) => file.startsWith(nats.storeDir))).toBe(true);
    const holders = files.filter((file) => {
      const bytes = fs.readFileSync(file);
      return [first, second].some((secret) => bytes.includes(Buffer.from(secret)));
    });
    expect(holders).toEqual([]);
    const logs = [history, gatewayA, gatewayB].map((p) => p.output()).join('\n');
    expect(logs).not.toContain(first);
    expect(logs).not.toContain(second);
  });
});
