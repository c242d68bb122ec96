/**
 * Contract, "REST" and "WebSocket" 1.: a `history` frame is at most 1 MiB of JSON and a REST page
 * of messages at most 4 MiB, whatever the messages hold; tested with the largest legal content:
 * 4,000 × U+0001, which JSON escapes to 24 KB a message.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../src/domain/message.ts';
import { startTestChat } from '../helpers/chat-server.ts';
import type { TestChat } from '../helpers/chat-server.ts';
import { ChatClient } from '../helpers/ws-client.ts';
import { asTranscript, createRoom, readTranscript } from '../helpers/history.ts';

const MiB = 1024 * 1024;
const FRAME_MAX = 1 * MiB;
const PAGE_MAX = 4 * MiB;
const COUNT = 200;
/** Bounds for events under load (the machine is shared): generous, never a sleep. */
const WAIT_MS = 30_000;
const HEAVY = '\u0001'.repeat(4000);

let server: TestChat;
let room: number;
let ids: number[];
const clients: ChatClient[] = [];

/** The JSON size of the stored message `id` (all messages here have the same fields but id). */
const bytesOf = (like: Message, id: number) => Buffer.byteLength(JSON.stringify({ ...like, id }));

async function page(query: string): Promise<{ size: number; messages: Message[] }> {
  const response = await fetch(`${server.url}/api/servers/${room}/messages?${query}`);
  expect(response.status).toBe(200);
  const body = Buffer.from(await response.arrayBuffer());
  return { size: body.length, messages: JSON.parse(body.toString('utf8')) as Message[] };
}

/** Joins and returns the history frame with its size on the wire. */
async function joinMeasured(query: string) {
  const client = ChatClient.connect(`${server.wsUrl}/ws/${room}?username=reader${query}`);
  clients.push(client);
  const sizes: number[] = [];
  client.socket.on('message', (data: Buffer) => sizes.push(data.length));
  const history = await client.next('history', WAIT_MS);
  return { history, size: sizes[0]! };
}

beforeAll(async () => {
  // a big send buffer: this file is about the frame's size, not about slow clients
  server = await startTestChat({ RATE_LIMIT: '0', SEND_BUFFER_LIMIT: '64MiB' });
  room = await createRoom(server.url, 'heavy');
  const client = ChatClient.connect(`${server.wsUrl}/ws/${room}?username=writer`);
  clients.push(client);
  await client.next('presence', WAIT_MS);
  for (let i = 0; i < COUNT; i++) client.send({ type: 'message', text: HEAVY, client_id: `h${i}` });
  ids = [];
  for (let i = 0; i < COUNT; i++) {
    const answer = await client.until(
      (f) => (f.type === 'ack' || f.type === 'error') && f.client_id === `h${i}`,
      WAIT_MS,
    );
    expect(answer.type).toBe('ack');
    ids.push((answer as { id: number }).id);
  }
}, 180_000);

afterAll(async () => {
  for (const client of clients) client.close();
  await server.close();
});

describe('REST pages are at most 4 MiB of JSON', () => {
  it('with after=: the oldest that fit, fewer than limit; paging on gets everything once', async () => {
    const all: Message[] = [];
    for (let round = 0; round < COUNT; round++) {
      const after = all.at(-1)?.id ?? 0;
      const { size, messages } = await page(`after=${after}&limit=1000`);
      expect(size).toBeLessThanOrEqual(PAGE_MAX);
      if (messages.length === 0) break;
      const next = ids[all.length + messages.length];
      if (next !== undefined) {
        expect(messages.length).toBeLessThan(1000);
        // full: the next message would not have fitted
        expect(size + 1 + bytesOf(messages[0]!, next)).toBeGreaterThan(PAGE_MAX);
      }
      all.push(...messages);
    }
    expect(all.map((m) => m.id)).toEqual(ids);
    expect(all.every((m) => m.text === HEAVY)).toBe(true);
  });

  it('without after: the newest that fit; paging back with before= gets everything once', async () => {
    const all: Message[] = [];
    for (let round = 0; round < COUNT; round++) {
      const before = all[0]?.id;
      const { size, messages } = await page(
        before === undefined ? 'limit=1000' : `before=${before}&limit=1000`,
      );
      expect(size).toBeLessThanOrEqual(PAGE_MAX);
      if (messages.length === 0) break;
      all.unshift(...messages);
    }
    expect(all.map((m) => m.id)).toEqual(ids);
    const newest = await page('limit=1000');
    expect(newest.messages.map((m) => m.id)).toEqual(ids.slice(-newest.messages.length));
    const older = ids[ids.length - newest.messages.length - 1]!;
    expect(newest.size + 1 + bytesOf(newest.messages[0]!, older)).toBeGreaterThan(PAGE_MAX);
  });
});

describe('history frames are at most 1 MiB of JSON', () => {
  it('since=0: the oldest that fit and "more": true; REST after= gives the rest, nothing missing', async () => {
    const { history, size } = await joinMeasured('&since=0');
    expect(size).toBeLessThanOrEqual(FRAME_MAX);
    expect(history.more).toBe(true);
    const got = history.messages.map((m) => m.id);
    expect(got).toEqual(ids.slice(0, got.length));
    const next = ids[got.length]!;
    expect(size + 1 + bytesOf(history.messages[0]!, next)).toBeGreaterThan(FRAME_MAX);
    const rest: Message[] = [];
    for (let round = 0; round < COUNT && got.length + rest.length < ids.length; round++) {
      const after = rest.at(-1)?.id ?? got.at(-1)!;
      rest.push(...(await page(`after=${after}&limit=1000`)).messages);
    }
    expect([...got, ...rest.map((m) => m.id)]).toEqual(ids);
  });

  it('a fresh join: the newest of the last HISTORY_REPLAY (50) that fit', async () => {
    const { history, size } = await joinMeasured('');
    expect(size).toBeLessThanOrEqual(FRAME_MAX);
    const got = history.messages.map((m) => m.id);
    expect(got.length).toBeGreaterThan(0);
    expect(got.length).toBeLessThan(50);
    expect(got).toEqual(ids.slice(-got.length));
    expect(history.last_id).toBe(ids.at(-1));
    const older = ids[ids.length - got.length - 1]!;
    expect(size + 1 + bytesOf(history.messages[0]!, older)).toBeGreaterThan(FRAME_MAX);
  });
});

describe('transcript lines', () => {
  it('hold U+2028, U+2029 and U+0085 escaped, one line per message, equal to REST', async () => {
    const target = await createRoom(server.url, 'separators');
    const client = ChatClient.connect(`${server.wsUrl}/ws/${target}?username=sep`);
    clients.push(client);
    await client.next('presence', WAIT_MS);
    const texts = ['one\u2028two', 'three\u2029four', 'five\u0085six'];
    texts.forEach((text, i) => client.send({ type: 'message', text, client_id: `s${i}` }));
    await client.until((f) => f.type === 'ack' && f.client_id === 's2', WAIT_MS);
    const rest = (await (
      await fetch(`${server.url}/api/servers/${target}/messages`)
    ).json()) as Message[];
    expect(readTranscript(server.dataDir, target)).toEqual(asTranscript(rest));
    const file = path.join(server.dataDir, 'message_history', `server_${target}_history.jsonl`);
    const raw = fs.readFileSync(file, 'utf8');
    expect(raw.split(/\r\n|[\n\v\f\r\u0085\u2028\u2029]/).filter(Boolean)).toHaveLength(3);
  });
});
