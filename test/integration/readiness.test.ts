/**
 * Contract, REST: `/readyz` is `200` when bus and storage answer — storage answers when it can
 * take a write, not only a read. A real read-only database: `chattr +i` on its files (the tests
 * run as root, so permissions would not stop a write; the immutable flag does, even on files
 * SQLite holds open).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnChat, startTestChat, tempDir } from '../helpers/chat-server.ts';
import type { ChatProcess, TestChat } from '../helpers/chat-server.ts';
import { TestNatsServer } from '../helpers/nats-server.ts';
import { ChatClient } from '../helpers/ws-client.ts';
import { eventually } from '../helpers/eventually.ts';

/** Bounds for events under load (the machine is shared): generous, never a sleep. */
const WAIT_MS = 30_000;

const undo: Array<() => void> = [];
const running: Array<{ close(): Promise<unknown> }> = [];

afterEach(async () => {
  for (const step of undo.splice(0)) step();
  for (const thing of running.splice(0).reverse()) await thing.close();
});

/** Makes the database's files immutable until the returned function (or the test's end). */
function makeReadOnly(dataDir: string): () => void {
  const files = ['chatroom.db', 'chatroom.db-wal'].map((f) => path.join(dataDir, f));
  execFileSync('chattr', ['+i', ...files]);
  let done = false;
  const release = () => {
    if (done) return;
    done = true;
    execFileSync('chattr', ['-i', ...files]);
  };
  undo.push(release);
  return release;
}

async function readyz(url: string): Promise<number> {
  return (await fetch(`${url}/readyz`)).status;
}

describe('/readyz checks what a write needs', { timeout: 120_000 }, () => {
  it('embedded mode: 503 while the database is read-only, 200 again once it is writable', async () => {
    const chat: TestChat = await startTestChat({ RATE_LIMIT: '0' });
    running.push(chat);
    const client = ChatClient.connect(`${chat.wsUrl}/ws/1?username=alice`);
    running.push({ close: () => Promise.resolve(client.close()) });
    await client.next('presence', WAIT_MS);
    expect(await readyz(chat.url)).toBe(200);

    const release = makeReadOnly(chat.dataDir);
    const answer = await fetch(`${chat.url}/readyz`);
    expect(answer.status).toBe(503);
    expect(await answer.json()).toMatchObject({ storage: false });
    // it is not a false alarm: a message cannot be stored now, reads still work
    client.send({ type: 'message', text: 'during', client_id: 'ro-1' });
    expect(await client.next('error', WAIT_MS)).toMatchObject({
      code: 'unavailable',
      client_id: 'ro-1',
    });
    expect((await fetch(`${chat.url}/api/servers/1/messages`)).status).toBe(200);

    release();
    expect(await readyz(chat.url)).toBe(200);
    client.send({ type: 'message', text: 'during', client_id: 'ro-1' });
    expect(await client.next('ack', WAIT_MS)).toMatchObject({ client_id: 'ro-1' });
  });

  it('NATS mode: the history service reports it, and the gateway answers 503 until it is writable', async () => {
    const nats = await TestNatsServer.start();
    running.push({ close: () => nats.stop() });
    const dataDir = tempDir();
    const chat: ChatProcess = await spawnChat({ NATS_URL: nats.url, DATA_DIR: dataDir });
    running.push({ close: () => chat.stop('SIGKILL') });
    await eventually(
      () => readyz(chat.url),
      (status) => status === 200,
      WAIT_MS,
    );

    const release = makeReadOnly(dataDir);
    await eventually(
      () => readyz(chat.url),
      (status) => status === 503,
      WAIT_MS,
    );
    release();
    await eventually(
      () => readyz(chat.url),
      (status) => status === 200,
      WAIT_MS,
    );
  });
});
