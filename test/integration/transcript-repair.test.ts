/**
 * A transcript write that fails after the SQLite commit (a full disk, a path taken by a
 * directory, an immutable file): what is committed is still acked and delivered, and the
 * transcript is repaired from SQLite once writing works again, without a restart. Embedded and
 * NATS mode, each a real process with real faults on its DATA_DIR.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnChat, tempDir } from '../helpers/chat-server.ts';
import type { ChatProcess } from '../helpers/chat-server.ts';
import { TestNatsServer } from '../helpers/nats-server.ts';
import { ChatClient } from '../helpers/ws-client.ts';
import { asTranscript, allMessages, createRoom, readTranscript } from '../helpers/history.ts';
import { eventually } from '../helpers/eventually.ts';

interface Obstacle {
  /** The room has messages (and an open transcript) before the fault. */
  prefilled: boolean;
  place(file: string): void;
  remove(file: string): void;
}

const FULL = 'a symlink to /dev/full (writes fail with ENOSPC)';
const IMMUTABLE = 'an immutable file, chattr +i (writes on the open file fail with EPERM)';

const OBSTACLES: Record<string, Obstacle> = {
  [FULL]: {
    prefilled: false,
    place: (file) => fs.symlinkSync('/dev/full', file),
    remove: (file) => fs.rmSync(file),
  },
  'a directory (opening fails with EISDIR)': {
    prefilled: false,
    place: (file) => fs.mkdirSync(file),
    remove: (file) => fs.rmdirSync(file),
  },
  [IMMUTABLE]: {
    prefilled: true,
    place: (file) => execFileSync('chattr', ['+i', file]),
    remove: (file) => execFileSync('chattr', ['-i', file]),
  },
};

/** Bounds for events under load (the machine is shared): generous, never a sleep. */
const WAIT_MS = 30_000;

const running: Array<ChatProcess | TestNatsServer> = [];
const clients: ChatClient[] = [];
const cleanups: Array<() => void> = [];

afterEach(async () => {
  for (const undo of cleanups.splice(0)) undo();
  for (const client of clients.splice(0)) client.close();
  for (const thing of running.splice(0).reverse()) {
    await (thing instanceof TestNatsServer ? thing.stop() : thing.stop('SIGKILL'));
  }
});

async function join(chat: ChatProcess, room: number, username: string) {
  const client = ChatClient.connect(`${chat.wsUrl}/ws/${room}?username=${username}`);
  clients.push(client);
  const history = await client.next('history', WAIT_MS);
  await client.next('presence', WAIT_MS);
  return { client, history };
}

function countLines(output: string, text: string): number {
  return output.split('\n').filter((line) => line.includes(text)).length;
}

/**
 * Breaks the room's transcript, sends messages in flight, checks they are acked and delivered
 * and in REST, removes the obstacle and checks the transcript catches up exactly.
 */
async function sendThroughFault(chat: ChatProcess, dataDir: string, obstacle: Obstacle) {
  const room = await createRoom(chat.url, `fault-${Math.random().toString(36).slice(2)}`);
  const file = path.join(dataDir, 'message_history', `server_${room}_history.jsonl`);
  const { client: sender } = await join(chat, room, 'sender');
  const { client: reader } = await join(chat, room, 'reader');
  if (obstacle.prefilled) {
    for (let i = 0; i < 3; i++) sender.send({ type: 'message', text: `before ${i}` });
    await reader.messages(3, WAIT_MS);
    await eventually(
      () => readTranscript(dataDir, room).length,
      (n) => n === 3,
      WAIT_MS,
    );
  }
  obstacle.place(file);
  let placed = true;
  cleanups.push(() => {
    if (placed) obstacle.remove(file);
  });

  const count = 12;
  for (let i = 0; i < count; i++) {
    sender.send({ type: 'message', text: `during ${i}`, client_id: `d${i}` });
  }
  const acks: number[] = [];
  for (let i = 0; i < count; i++) {
    const answer = await sender.until(
      (f) => (f.type === 'ack' || f.type === 'error') && f.client_id === `d${i}`,
      WAIT_MS,
    );
    expect(answer.type).toBe('ack');
    acks.push((answer as { id: number }).id);
  }
  const delivered = await reader.messages(count, WAIT_MS);
  expect(delivered.map((m) => m.id)).toEqual(acks);
  // NATS mode: the history service persists from the stream a moment after the ack
  const stored = await eventually(
    () => allMessages(chat.url, room),
    (m) => m.length >= count + (obstacle.prefilled ? 3 : 0),
    WAIT_MS,
  );
  expect(stored.slice(-count).map((m) => m.id)).toEqual(acks);
  // a client joining now gets the committed messages in its replay
  const { history } = await join(chat, room, 'late');
  expect(history.messages.slice(-count).map((m) => m.id)).toEqual(acks);

  obstacle.remove(file);
  placed = false;
  await eventually(
    () => readTranscript(dataDir, room),
    (lines) => lines.length === stored.length,
    WAIT_MS,
  );
  expect(readTranscript(dataDir, room)).toEqual(asTranscript(stored));

  // and it is written as usual again
  sender.send({ type: 'message', text: 'after the repair', client_id: 'after' });
  const after = (await sender.until(
    (f) => f.type === 'ack' && f.client_id === 'after',
    WAIT_MS,
  )) as { id: number };
  await eventually(
    () => readTranscript(dataDir, room).length,
    (n) => n === stored.length + 1,
    WAIT_MS,
  );
  expect(readTranscript(dataDir, room)).toEqual(asTranscript(await allMessages(chat.url, room)));
  expect(readTranscript(dataDir, room).at(-1)!.id).toBe(after.id);
  // the failure and the repair are logged once each, not once per message
  expect(countLines(chat.output(), 'transcript write failed')).toBe(1);
  expect(countLines(chat.output(), 'transcript repaired')).toBe(1);
}

describe(
  'a transcript that cannot be written after the SQLite commit',
  { timeout: 120_000 },
  () => {
    it.each(Object.keys(OBSTACLES))(
      'embedded mode, transcript path is %s: acks, delivers, and repairs the transcript from SQLite',
      async (name) => {
        const dataDir = tempDir();
        const chat = await spawnChat({ DATA_DIR: dataDir, RATE_LIMIT: '0' });
        running.push(chat);
        await sendThroughFault(chat, dataDir, OBSTACLES[name]!);
      },
    );

    it.each([FULL, IMMUTABLE])(
      'NATS mode, transcript path is %s: acks, delivers, never rewrites the committed batch, repairs',
      async (name) => {
        const nats = await TestNatsServer.start();
        running.push(nats);
        const dataDir = tempDir();
        const chat = await spawnChat({
          NATS_URL: nats.url,
          DATA_DIR: dataDir,
          RATE_LIMIT: '0',
          NATS_REQUEST_TIMEOUT: '3s',
        });
        running.push(chat);
        await sendThroughFault(chat, dataDir, OBSTACLES[name]!);
        expect(chat.output()).not.toContain('UNIQUE constraint failed');
      },
    );
  },
);
