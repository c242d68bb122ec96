/**
 * A password (or a token) never reaches the log or any file under DATA_DIR: the server runs as a
 * process at LOG_LEVEL=trace, registers, signs in, fails to sign in, changes the password, makes a
 * token and uses it (in the header and in a WebSocket URL); then every file under DATA_DIR and
 * everything the process printed is searched for them.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnChat, tempDir } from '../helpers/chat-server.ts';
import type { ChatProcess } from '../helpers/chat-server.ts';
import { ApiClient } from '../helpers/accounts.ts';
import { ChatClient } from '../helpers/ws-client.ts';
import { filesUnder } from '../helpers/history.ts';

const running: ChatProcess[] = [];
afterEach(async () => {
  for (const chat of running.splice(0)) await chat.stop('SIGKILL');
});

/** The files (and the log) that hold any of the secrets, as text or as base64. */
function holders(dataDir: string, log: string, secrets: string[]): string[] {
  const found: string[] = [];
  const sources = filesUnder(dataDir).map((file) => ({ name: file, bytes: fs.readFileSync(file) }));
  sources.push({ name: 'the log', bytes: Buffer.from(log) });
  for (const { name, bytes } of sources) {
    for (const secret of secrets) {
      for (const form of [secret, Buffer.from(secret).toString('base64')]) {
        if (bytes.includes(Buffer.from(form))) found.push(`${name}: ${secret}`);
      }
    }
  }
  return found;
}

describe('secrets at rest', () => {
  it('keeps passwords and tokens out of the log and of every file under DATA_DIR', async () => {
    const dataDir = tempDir();
    const chat = await spawnChat({ DATA_DIR: dataDir, AUTH: 'accounts', LOG_LEVEL: 'trace' });
    running.push(chat);
    const first = `first-${randomUUID()}`;
    const second = `second-${randomUUID()}`;
    const alice = new ApiClient(chat.url);
    await alice.register('alice', first);
    expect(
      (await alice.post('/api/auth/login', { username: 'alice', password: `${first}x` })).status,
    ).toBe(401);
    await alice.login('alice', first);
    // a refused body is not logged either
    expect(
      (await alice.post('/api/auth/login', { username: 'alice', password: first, extra: 1 }))
        .status,
    ).toBe(400);
    expect(
      (await alice.call('PUT', '/api/me/password', { current: first, new: second })).status,
    ).toBe(204);
    const created = await alice.post('/api/tokens', { name: 'bot' });
    const token = created.body.token as string;
    const bot = new ApiClient(chat.url);
    bot.bearer = token;
    expect((await bot.get('/api/me')).status).toBe(200);
    const { client } = await ChatClient.join(
      `${chat.wsUrl}/ws/1?access_token=${encodeURIComponent(token)}`,
    );
    await client.say('hello');
    client.close();
    const cookie = alice.cookie!.split('=')[1]!;

    expect(chat.output()).toContain('incoming request');
    expect(holders(dataDir, chat.output(), [first, second, token, cookie])).toEqual([]);
    expect(await chat.stop('SIGTERM')).toBe(0);
    expect(holders(dataDir, chat.output(), [first, second, token, cookie])).toEqual([]);
    // the key that signs sessions is the owner's alone
    expect(fs.statSync(path.join(dataDir, 'session.key')).mode & 0o777).toBe(0o600);
  });
});
