/**
 * NATS mode end to end: a nats-server of the test's own, one history service and two gateways,
 * each a real process with its own DATA_DIR, sharing nothing but NATS_URL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnChat, tempDir } from '../helpers/chat-server.ts';
import type { ChatProcess } from '../helpers/chat-server.ts';
import { TestNatsServer } from '../helpers/nats-server.ts';
import { ChatClient } from '../helpers/ws-client.ts';
import { asTranscript, allMessages, readTranscript } from '../helpers/history.ts';
import { eventually } from '../helpers/eventually.ts';

let nats: TestNatsServer;
let history: ChatProcess;
let gatewayA: ChatProcess;
let gatewayB: ChatProcess;
const historyDir = tempDir();
const clients: ChatClient[] = [];

function env(dataDir: string): Record<string, string> {
  return {
    NATS_URL: nats.url,
    DATA_DIR: dataDir,
    RATE_LIMIT: '0',
    PRESENCE_HEARTBEAT: '200ms',
    PRESENCE_TTL: '1500ms',
    NATS_REQUEST_TIMEOUT: '2s',
  };
}

const startHistory = () => spawnChat(env(historyDir), ['history']);
const startGateway = () => spawnChat(env(tempDir()), ['gateway']);

async function join(gateway: ChatProcess, room: number, username: string, since?: number) {
  const query = since === undefined ? '' : `&since=${since}`;
  const joined = await ChatClient.join(`${gateway.wsUrl}/ws/${room}?username=${username}${query}`);
  clients.push(joined.client);
  return joined;
}

async function json<T>(url: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const response = await fetch(url, init);
  return { status: response.status, body: (await response.json()) as T };
}

async function createRoom(gateway: ChatProcess, name: string): Promise<number> {
  const { status, body } = await json<{ id: number }>(`${gateway.url}/api/servers`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  expect(status).toBe(201);
  return body.id;
}

async function readyz(gateway: ChatProcess): Promise<number> {
  return (await fetch(`${gateway.url}/readyz`)).status;
}

beforeAll(async () => {
  nats = await TestNatsServer.start();
  history = await startHistory();
  [gatewayA, gatewayB] = await Promise.all([startGateway(), startGateway()]);
  await eventually(
    () => Promise.all([readyz(gatewayA), readyz(gatewayB)]),
    (s) => s.every((c) => c === 200),
  );
}, 60_000);

afterAll(async () => {
  for (const client of clients) client.close();
  for (const process of [gatewayA, gatewayB, history]) await process?.stop('SIGKILL');
  await nats?.stop();
});

describe('two gateways and a history service behave as one chat', () => {
  it('serves the same rooms, history and presence through both gateways', async () => {
    const room = await createRoom(gatewayA, 'shared');
    expect((await json(`${gatewayB.url}/api/servers`)).body).toEqual(
      (await json(`${gatewayA.url}/api/servers`)).body,
    );
    expect(
      (
        await json(`${gatewayB.url}/api/servers`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'SHARED' }),
        })
      ).status,
    ).toBe(409);

    const { client: alice } = await join(gatewayA, room, 'alice');
    const { client: bob, presence } = await join(gatewayB, room, 'bob');
    expect(presence.users).toEqual(['alice', 'bob']);
    expect(await alice.next('join')).toEqual({ type: 'join', username: 'bob' });

    const ack = await alice.say('hello across gateways');
    expect((await bob.next('message')).id).toBe(ack.id);
    bob.send({ type: 'typing' });
    expect(await alice.next('typing')).toEqual({ type: 'typing', username: 'bob' });

    const viaA = await allMessages(gatewayA.url, room);
    expect(await allMessages(gatewayB.url, room)).toEqual(viaA);
    expect(viaA.map((m) => m.text)).toEqual(['hello across gateways']);
    for (const gateway of [gatewayA, gatewayB]) {
      expect((await json(`${gateway.url}/api/servers/${room}/presence`)).body).toEqual([
        'alice',
        'bob',
      ]);
    }
    await eventually(
      () => readTranscript(historyDir, room),
      (lines) => lines.length === 1,
    );

    bob.close();
    expect(await alice.next('leave')).toEqual({ type: 'leave', username: 'bob' });
    expect((await json(`${gatewayA.url}/api/servers/${room}/presence`)).body).toEqual(['alice']);
  });

  it('gives every client on both gateways the same order and ids while 3 senders interleave', async () => {
    const room = await createRoom(gatewayA, 'interleave');
    const readers = [
      (await join(gatewayA, room, 'readerA')).client,
      (await join(gatewayB, room, 'readerB')).client,
    ];
    const senders = [
      (await join(gatewayA, room, 's1')).client,
      (await join(gatewayB, room, 's2')).client,
      (await join(gatewayA, room, 's3')).client,
    ];
    const perSender = 150;
    for (let i = 0; i < perSender; i++) {
      senders.forEach((sender, s) =>
        sender.send({ type: 'message', text: `s${s} #${i}`, client_id: `s${s}-${i}` }),
      );
    }
    const total = perSender * senders.length;
    const seen = await Promise.all(
      [...readers, ...senders].map(async (client) =>
        (await client.messages(total, 20_000)).map((m) => `${m.id}:${m.text}`),
      ),
    );
    for (const other of seen.slice(1)) expect(other).toEqual(seen[0]);
    const ids = seen[0]!.map((entry) => Number(entry.split(':')[0]));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    const stored = await eventually(
      () => allMessages(gatewayB.url, room),
      (m) => m.length === total,
    );
    expect(stored.map((m) => `${m.id}:${m.text}`)).toEqual(seen[0]);
    expect(
      await eventually(
        () => readTranscript(historyDir, room),
        (lines) => lines.length === total,
      ),
    ).toEqual(asTranscript(stored));
  });

  it('loses and repeats nothing for clients joining the other gateway while messages flow', async () => {
    const room = await createRoom(gatewayA, 'join-while-sending');
    const { client: writer } = await join(gatewayA, room, 'writer');
    const total = 300;
    const joiners: Array<Promise<{ client: ChatClient; seen: number[] }>> = [];
    for (let i = 0; i < total; i++) {
      writer.send({ type: 'message', text: `flow ${i}`, client_id: `f${i}` });
      if (i % 60 === 30) {
        joiners.push(
          join(gatewayB, room, `j${i}`).then(({ client, history }) => ({
            client,
            seen: history.messages.map((m) => m.id),
          })),
        );
      }
    }
    const last = await writer.until(
      (f) => f.type === 'ack' && f.client_id === `f${total - 1}`,
      20_000,
    );
    const lastId = (last as { id: number }).id;
    const all = (
      await eventually(
        () => allMessages(gatewayB.url, room),
        (m) => m.length === total,
      )
    ).map((m) => m.id);
    for (const joined of await Promise.all(joiners)) {
      const seen = [...joined.seen];
      while (seen[seen.length - 1] !== lastId)
        seen.push((await joined.client.next('message', 10_000)).id);
      const from = all.indexOf(seen[0] ?? all[0]!);
      expect(seen).toEqual(all.slice(from));
    }
  });

  it('keeps a user with tabs on both gateways present until the last tab closes', async () => {
    const room = await createRoom(gatewayA, 'two-tabs');
    const { client: watcher } = await join(gatewayA, room, 'watcher');
    const { client: tabOnB } = await join(gatewayB, room, 'dana');
    expect(await watcher.next('join')).toEqual({ type: 'join', username: 'dana' });
    const { client: tabOnA } = await join(gatewayA, room, 'dana');
    tabOnB.close();
    await tabOnB.closed;
    // a message sent after the close arrives after any leave the close could have caused
    const marker = await tabOnA.say('still here');
    await watcher.until((f) => f.type === 'message' && f.id === marker.id);
    expect(watcher.frames.filter((f) => f.type === 'leave' || f.type === 'join')).toHaveLength(1);
    for (const gateway of [gatewayA, gatewayB]) {
      expect((await json(`${gateway.url}/api/servers/${room}/presence`)).body).toEqual([
        'dana',
        'watcher',
      ]);
    }
    tabOnA.close();
    expect(await watcher.next('leave')).toEqual({ type: 'leave', username: 'dana' });
  });

  it('keeps idempotent client_id resends across gateways', async () => {
    const room = await createRoom(gatewayA, 'dedupe');
    const { client: onA } = await join(gatewayA, room, 'carol');
    const { client: onB } = await join(gatewayB, room, 'carol');
    const first = await onA.say('once', 'carol-1');
    expect((await onB.say('twice?', 'carol-1')).id).toBe(first.id);
    const stored = await eventually(
      () => allMessages(gatewayA.url, room),
      (m) => m.length >= 1,
    );
    expect(stored.map((m) => m.text)).toEqual(['once']);
  });
});

describe('failures', () => {
  it('after kill -9 of the history service mid-stream, sends are still acked and history catches up exactly once', async () => {
    const room = await createRoom(gatewayA, 'history-crash');
    const { client: sender } = await join(gatewayA, room, 'sender');
    const total = 600;
    for (let i = 0; i < total; i++)
      sender.send({ type: 'message', text: `h${i}`, client_id: `h${i}` });
    await sender.until((f) => f.type === 'ack' && f.client_id === 'h150', 20_000);
    history.child.kill('SIGKILL');
    await history.exited;
    // the stream takes messages while the history service is down
    const lastAck = await sender.until(
      (f) => f.type === 'ack' && f.client_id === `h${total - 1}`,
      20_000,
    );
    const more = await sender.say('sent while history is down');
    expect(more.id).toBeGreaterThan((lastAck as { id: number }).id);

    // joins and REST need history: 1013 and 503 meanwhile
    const refused = ChatClient.connect(`${gatewayB.wsUrl}/ws/${room}?username=late`);
    clients.push(refused);
    expect((await refused.waitClosed(10_000)).code).toBe(1013);
    const rest = await fetch(`${gatewayB.url}/api/servers/${room}/messages`);
    expect(rest.status).toBe(503);
    expect(((await rest.json()) as { message: string }).message).toEqual(expect.any(String));
    expect(await readyz(gatewayB)).toBe(503);

    history = await startHistory();
    const stored = await eventually(
      () => allMessages(gatewayB.url, room),
      (m) => m.length === total + 1,
    );
    expect(stored.map((m) => m.text)).toEqual([
      ...Array.from({ length: total }, (_, i) => `h${i}`),
      'sent while history is down',
    ]);
    expect(readTranscript(historyDir, room)).toEqual(asTranscript(stored));
    const { history: replay } = await join(gatewayB, room, 'late');
    expect(replay.messages.map((m) => m.id)).toEqual(stored.slice(-50).map((m) => m.id));
    expect(await readyz(gatewayB)).toBe(200);
  });

  it('lets clients of a killed gateway reconnect to the other with since= and miss nothing; its presence expires', async () => {
    const room = await createRoom(gatewayA, 'gateway-crash');
    const spare = await startGateway();
    const { client: watcher } = await join(gatewayA, room, 'watcher');
    const { client: moving, history: first } = await join(spare, room, 'mover');
    expect(await watcher.next('join')).toEqual({ type: 'join', username: 'mover' });
    let lastSeen = first.last_id;
    const ack = await watcher.say('before the crash');
    lastSeen = (await moving.next('message')).id;
    expect(lastSeen).toBe(ack.id);

    spare.child.kill('SIGKILL');
    await spare.exited;
    const sentMeanwhile: number[] = [];
    for (let i = 0; i < 20; i++) sentMeanwhile.push((await watcher.say(`while away ${i}`)).id);
    // the dead gateway's user leaves within PRESENCE_TTL (1.5 s here)
    expect(await watcher.next('leave', 5000)).toEqual({ type: 'leave', username: 'mover' });

    const { client: back, history: missed } = await join(gatewayB, room, 'mover', lastSeen);
    expect(missed.messages.map((m) => m.id)).toEqual(sentMeanwhile);
    const live = await watcher.say('after the reconnect');
    expect((await back.next('message')).id).toBe(live.id);
  });

  it('survives a nats-server restart: unavailable and 503 while down, chat resumes by itself', async () => {
    const room = await createRoom(gatewayA, 'nats-restart');
    const { client: alice } = await join(gatewayA, room, 'alice');
    const { client: bob } = await join(gatewayB, room, 'bob');
    await alice.say('before');

    await nats.stop();
    await eventually(
      () => readyz(gatewayA),
      (status) => status === 503,
    );
    alice.send({ type: 'message', text: 'during', client_id: 'during-1' });
    expect(await alice.next('error', 10_000)).toMatchObject({
      code: 'unavailable',
      client_id: 'during-1',
    });

    await nats.start();
    await eventually(
      () => Promise.all([readyz(gatewayA), readyz(gatewayB)]),
      (s) => s.every((c) => c === 200),
      30_000,
    );
    // the resend of the refused message is safe, and it reaches the other gateway live
    const ack = await eventually(
      () =>
        alice.say('during', 'during-1').then(
          (a) => a.id,
          () => 0,
        ),
      (id) => id > 0,
      20_000,
    );
    const received = await bob.until((f) => f.type === 'message' && f.text === 'during', 10_000);
    expect((received as { id: number }).id).toBe(ack);
    const stored = await eventually(
      () => allMessages(gatewayA.url, room),
      (m) => m.length === 2,
    );
    expect(stored.map((m) => m.text)).toEqual(['before', 'during']);
  });
});
