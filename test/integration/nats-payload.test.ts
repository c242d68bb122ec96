/**
 * Every message chatroom puts on NATS fits the server's `max_payload`, whatever users put in it
 * (issue 7, section 7): history answers travel in parts, gateway heartbeats are split, and
 * `/metrics` counts rooms instead of listing them. Real nats-servers (one with a small
 * `max_payload`, one at the default 1 MiB), real processes, real sockets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Message } from '../../src/domain/message.ts';
import { spawnChat, tempDir } from '../helpers/chat-server.ts';
import type { ChatProcess } from '../helpers/chat-server.ts';
import { eventually } from '../helpers/eventually.ts';
import { TestNatsServer } from '../helpers/nats-server.ts';
import type { TestNatsOptions } from '../helpers/nats-server.ts';
import { ChatClient } from '../helpers/ws-client.ts';
import { createRoom } from '../helpers/history.ts';

const SMALL_PAYLOAD = 16 * 1024;
const clients: ChatClient[] = [];
const processes: ChatProcess[] = [];

function env(nats: TestNatsServer, extra: Record<string, string> = {}): Record<string, string> {
  return {
    NATS_URL: nats.url,
    DATA_DIR: tempDir(),
    RATE_LIMIT: '0',
    ROOM_CREATE_LIMIT: '0',
    REST_RATE_LIMIT: '0',
    CONNECTIONS_PER_ADDRESS: '0',
    PRESENCE_HEARTBEAT: '200ms',
    PRESENCE_TTL: '10s',
    NATS_REQUEST_TIMEOUT: '5s',
    ...extra,
  };
}

async function start(nats: TestNatsServer, role: 'gateway' | 'history', extra = {}) {
  const started = await spawnChat(env(nats, extra), [role]);
  processes.push(started);
  return started;
}

async function ready(gateway: ChatProcess): Promise<void> {
  await eventually(
    async () => (await fetch(`${gateway.url}/readyz`)).status,
    (status) => status === 200,
    60_000,
  );
}

async function join(gateway: ChatProcess, room: number, username: string) {
  const url = `${gateway.wsUrl}/ws/${room}?username=${encodeURIComponent(username)}`;
  const client = ChatClient.connect(url);
  clients.push(client);
  // generous: a loaded machine may take a while to serve many joins at once
  const history = await client.next('history', 30_000);
  await client.next('presence', 30_000);
  return { client, history };
}

/** Sends every text (without waiting in between), then waits for every ack. */
async function sendAll(client: ChatClient, texts: string[]): Promise<void> {
  const ids = texts.map((_, i) => `bulk-${i}-${Math.random().toString(36).slice(2)}`);
  texts.forEach((text, i) => client.send({ type: 'message', text, client_id: ids[i] }));
  for (const clientId of ids) {
    const ack = await client.until(
      (f) => (f.type === 'ack' || f.type === 'error') && f.client_id === clientId,
      30_000,
      `the ack of ${clientId}`,
    );
    expect(ack.type).toBe('ack');
  }
}

async function getJson<T>(url: string): Promise<{ status: number; body: T }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  return { status: response.status, body: (await response.json()) as T };
}

function alive(process: ChatProcess): boolean {
  return process.child.exitCode === null && process.child.signalCode === null;
}

/** The history frame of a fresh join is the newest messages of the room, whole and in order. */
function expectTail(replayed: Message[], stored: Message[], replayCount: number): void {
  expect(replayed.length).toBeGreaterThan(0);
  expect(replayed.length).toBeLessThanOrEqual(replayCount);
  expect(replayed).toEqual(stored.slice(stored.length - replayed.length));
}

/** A nats-server, a history service and a gateway, started for the tests of one describe. */
function chatOn(options: TestNatsOptions) {
  const chat = {} as { nats: TestNatsServer; history: ChatProcess; gateway: ChatProcess };
  beforeAll(async () => {
    chat.nats = await TestNatsServer.start(options);
    chat.history = await start(chat.nats, 'history');
    chat.gateway = await start(chat.nats, 'gateway');
    await ready(chat.gateway);
  }, 180_000);
  afterAll(async () => {
    await chat.nats?.stop();
  });
  return chat;
}

/** A new room holding `texts`, sent through the gateway; returns it and its stored messages. */
async function roomWith(gateway: ChatProcess, name: string, texts: string[]) {
  const room = await createRoom(gateway.url, name);
  const { client } = await join(gateway, room, 'writer');
  await sendAll(client, texts);
  const page = await getJson<Message[]>(`${gateway.url}/api/servers/${room}/messages?limit=1000`);
  expect(page.status).toBe(200);
  expect(page.body.map((m) => m.text)).toEqual(texts);
  expect(page.body.every((m, i) => i === 0 || m.id > page.body[i - 1]!.id)).toBe(true);
  return { room, stored: page.body };
}

afterAll(async () => {
  for (const client of clients) client.close();
  for (const process of processes) await process.stop('SIGKILL');
});

describe(`a nats-server with max_payload ${SMALL_PAYLOAD} bytes`, () => {
  const chat = chatOn({ maxPayload: SMALL_PAYLOAD });

  it('answers a message page and a replay many times larger than max_payload, complete', async () => {
    const texts = Array.from({ length: 60 }, (_, i) => `${i}:`.padEnd(4000, 'x'));
    const { room, stored } = await roomWith(chat.gateway, 'big pages', texts);
    const fresh = await join(chat.gateway, room, 'reader');
    expectTail(fresh.history.messages, stored, 50);
    expect(fresh.history.last_id).toBe(stored[stored.length - 1]!.id);
    expect(alive(chat.history)).toBe(true);
    expect(alive(chat.gateway)).toBe(true);
  }, 120_000);

  it('lists more rooms than one NATS message holds, and /metrics counts them without listing them', async () => {
    const { gateway } = chat;
    const names = Array.from(
      { length: 60 },
      (_, i) => '😀'.repeat(60) + String(i).padStart(4, '0'),
    );
    for (const name of names) await createRoom(gateway.url, name);

    const rooms = await getJson<Array<{ id: number; name: string }>>(`${gateway.url}/api/servers`);
    expect(rooms.status).toBe(200);
    expect(rooms.body.map((r) => r.name).filter((name) => names.includes(name))).toEqual(names);
    expect(new Set(rooms.body.map((r) => r.id)).size).toBe(rooms.body.length);

    // watch which history operations a scrape asks for
    const watcher: NatsConnection = await connect({ servers: chat.nats.url });
    const asked: string[] = [];
    const watch = watcher.subscribe('chatroom.history.*', {
      callback: (_error, msg) => {
        asked.push(msg.subject);
      },
    });
    await watcher.flush();
    const metrics = await fetch(`${gateway.url}/metrics`);
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    await watcher.flush();
    watch.unsubscribe();
    await watcher.close();
    expect(Number(/^chatroom_rooms (\d+)$/m.exec(text)?.[1])).toBe(rooms.body.length);
    expect(asked).toContain('chatroom.history.room_count');
    expect(asked).not.toContain('chatroom.history.rooms');
    expect(alive(chat.history)).toBe(true);
  }, 120_000);

  it('carries a gateway presence heartbeat larger than max_payload in parts', async () => {
    const { gateway } = chat;
    const room = await createRoom(gateway.url, 'crowded');
    const names = Array.from(
      { length: 200 },
      (_, i) => '😀'.repeat(28) + String(i).padStart(4, '0'),
    );
    const crowd: ChatClient[] = [];
    for (let i = 0; i < names.length; i += 20) {
      const joined = await Promise.all(names.slice(i, i + 20).map((n) => join(gateway, room, n)));
      crowd.push(...joined.map((j) => j.client));
    }
    // a gateway that starts now knows these users only from the first gateway's heartbeat
    const late = await start(chat.nats, 'gateway');
    await ready(late);
    const presence = (at: ChatProcess) =>
      getJson<string[]>(`${at.url}/api/servers/${room}/presence`);
    const sorted = [...names].sort();
    const seen = await eventually(
      () => presence(late),
      (answer) => answer.status === 200 && answer.body.length === names.length,
      30_000,
    );
    expect(seen.body).toEqual(sorted);
    // the first gateway sent that heartbeat and runs on
    expect(alive(gateway)).toBe(true);
    expect((await presence(gateway)).body).toEqual(sorted);

    // users who leave stay gone through the heartbeats that follow
    for (const client of crowd.slice(0, 10)) client.close();
    const staying = names.slice(10).sort();
    await eventually(
      () => presence(late),
      (answer) => JSON.stringify(answer.body) === JSON.stringify(staying),
      30_000,
    );
  }, 240_000);
});

describe('a nats-server at the default max_payload (1 MiB)', () => {
  const chat = chatOn({});

  it('replays 60 messages of 4,000 U+0001 (1.4 MB of JSON) to every fresh join', async () => {
    const texts = Array.from({ length: 60 }, () => '\u0001'.repeat(4000));
    const { room, stored } = await roomWith(chat.gateway, 'control characters', texts);
    for (const username of ['first visit', 'second visit']) {
      const fresh = await join(chat.gateway, room, username);
      expectTail(fresh.history.messages, stored, 50);
      expect(fresh.history.last_id).toBe(stored[stored.length - 1]!.id);
    }
    expect(alive(chat.history)).toBe(true);
  }, 120_000);

  it('answers a page of 280 messages of 4,000 characters (1.1 MB of JSON) whole', async () => {
    const texts = Array.from({ length: 280 }, (_, i) => `${i}:`.padEnd(4000, 'y'));
    await roomWith(chat.gateway, 'a full page', texts);
    expect(alive(chat.history)).toBe(true);
  }, 120_000);
});
