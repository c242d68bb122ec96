/**
 * The README's bot example ("Client library") works as written: run by Node as its own process
 * against a real server, it answers `!ping` in #general.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { ROOT, startTestChat, tempDir } from '../helpers/chat-server.ts';
import type { TestChat } from '../helpers/chat-server.ts';
import { ApiClient } from '../helpers/accounts.ts';
import { ChatClient } from '../helpers/ws-client.ts';

/** The first js code block of the README section on the client library. */
function readmeExample(): string {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.split('\n## Client library (src/web/connection.js)\n')[1];
  const code = section && /```js\n([\s\S]*?)```/.exec(section)?.[1];
  if (!code) throw new Error('no js example in the README section "Client library"');
  return code;
}

let chat: TestChat | undefined;
let bot: ChildProcess | undefined;
let alice: ChatClient | undefined;

afterEach(async () => {
  bot?.kill('SIGKILL');
  alice?.close();
  await chat?.close();
});

it("the README's bot joins #general and answers !ping", async () => {
  chat = await startTestChat();
  alice = (await ChatClient.join(`${chat.wsUrl}/ws/1?username=alice`)).client;
  await runBot(chat, alice, {});
});

it("the README's bot signs in with its token (CHAT_TOKEN) in accounts mode", async () => {
  chat = await startTestChat({ AUTH: 'accounts', REGISTRATION: 'open' });
  const admin = new ApiClient(chat.url);
  await admin.register('alice', 'alice password');
  const owner = new ApiClient(chat.url);
  await owner.register('pingbot', 'pingbot password');
  const token = await owner.post('/api/tokens', { name: 'the README bot' });
  expect(token.status).toBe(201);
  alice = (await admin.join(1)).client;
  await runBot(chat, alice, { CHAT_TOKEN: String(token.body.token) });
});

/** Runs the README's bot against `chat` and checks that it answers alice's `!ping`. */
async function runBot(chat: TestChat, alice: ChatClient, env: Record<string, string>) {
  // Run where it was written (the repository's root), from a file of its own elsewhere.
  const ws = pathToFileURL(createRequire(import.meta.url).resolve('ws')).href;
  const connection = pathToFileURL(path.join(ROOT, 'src/web/connection.js')).href;
  const code = readmeExample()
    .replace("from 'ws'", `from '${ws}'`)
    .replace("from './src/web/connection.js'", `from '${connection}'`);
  expect(code).toContain(connection);
  const file = path.join(tempDir('chatroom-bot-'), 'pingbot.mjs');
  fs.writeFileSync(file, code);
  let output = '';
  bot = spawn(process.execPath, [file], {
    env: { ...process.env, CHAT_URL: chat.url, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  bot.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  bot.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));

  try {
    await alice.until((f) => f.type === 'join' && f.username === 'pingbot', 20_000, 'the bot');
    alice.send({ type: 'message', text: '!ping', client_id: 'p1' });
    const answer = await alice.until(
      (f) => f.type === 'message' && f.username === 'pingbot',
      20_000,
      "the bot's answer",
    );
    expect(answer).toMatchObject({ server_id: 1, text: 'pong, alice' });
  } catch (error) {
    throw new Error(`the bot said: ${output}`, { cause: error });
  }
}
