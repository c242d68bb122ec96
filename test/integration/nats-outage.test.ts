/**
 * NATS outages as they happen in life: nats-server killed with SIGKILL (and stopped gracefully)
 * while clients on two gateways are connected and sending. Afterwards every client's view of the
 * room must equal REST history: the contract's "each message once, no gap, one order".
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnChat, tempDir } from '../helpers/chat-server.ts';
import type { ChatProcess } from '../helpers/chat-server.ts';
import { TestNatsServer } from '../helpers/nats-server.ts';
import { asTranscript, allMessages, createRoom, readTranscript } from '../helpers/history.ts';
import { eventually } from '../helpers/eventually.ts';
import { RoomView } from '../helpers/room-view.ts';
import { ChatClient } from '../helpers/ws-client.ts';

let nats: TestNatsServer;
let history: ChatProcess;
let gatewayA: ChatProcess;
let gatewayB: ChatProcess;
const historyDir = tempDir();
const views: RoomView[] = [];

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

async function readyz(gateway: ChatProcess): Promise<number> {
  return (await fetch(`${gateway.url}/readyz`)).status;
}

async function allReady(): Promise<void> {
  await eventually(
    () => Promise.all([readyz(gatewayA), readyz(gatewayB)]),
    (s) => s.every((c) => c === 200),
    60_000,
  );
}

const newRoom = (name: string): Promise<number> => createRoom(gatewayA.url, name);

async function view(gateway: ChatProcess, room: number, username: string): Promise<RoomView> {
  const v = await RoomView.open(`${gateway.wsUrl}/ws/${room}`, username);
  views.push(v);
  return v;
}

/** Sends until it is acked: `unavailable` while NATS is down or coming back, then the ack. */
async function sendUntilAcked(v: RoomView, text: string, clientId: string): Promise<number> {
  return eventually(
    () => v.send(text, clientId).catch(() => 0),
    (id) => id > 0,
    60_000,
  );
}

/** Every view holds exactly REST history, in order, each message once; so does the transcript. */
async function expectViewsMatchHistory(room: number): Promise<void> {
  const stored = await allMessages(gatewayA.url, room);
  const ids = stored.map((m) => m.id);
  for (const v of views.filter((w) => w.room === room)) {
    await v.waitFor(ids[ids.length - 1]!, 20_000);
    expect(v.ids(), `${v.username}'s view`).toEqual(ids);
  }
  expect(
    await eventually(
      () => readTranscript(historyDir, room),
      (lines) => lines.length === stored.length,
    ),
  ).toEqual(asTranscript(stored));
}

beforeAll(async () => {
  nats = await TestNatsServer.start();
  history = await spawnChat(env(historyDir), ['history']);
  [gatewayA, gatewayB] = await Promise.all([
    spawnChat(env(tempDir()), ['gateway']),
    spawnChat(env(tempDir()), ['gateway']),
  ]);
  await allReady();
}, 90_000);

afterAll(async () => {
  for (const v of views) v.close();
  for (const process of [gatewayA, gatewayB, history]) await process?.stop('SIGKILL');
  await nats?.stop();
});

describe('after nats-server dies and comes back', () => {
  for (const how of ['SIGKILL', 'SIGTERM'] as const) {
    it(`every client on both gateways sees every message once, in order (${how})`, async () => {
      const room = await newRoom(`outage-${how}`);
      const onA = await view(gatewayA, room, 'alice');
      const onB = await view(gatewayB, room, 'bob');
      const watcherA = await view(gatewayA, room, 'carol');
      const watcherB = await view(gatewayB, room, 'dave');
      const expected: string[] = [];
      // several messages in flight from both gateways before the outage
      const before = [
        ...Array.from({ length: 5 }, (_, i) => onA.send(`a before ${i}`, `a-before-${i}`)),
        ...Array.from({ length: 5 }, (_, i) => onB.send(`b before ${i}`, `b-before-${i}`)),
      ];
      await Promise.all(before);
      expected.push(
        ...Array.from({ length: 5 }, (_, i) => `a before ${i}`),
        ...Array.from({ length: 5 }, (_, i) => `b before ${i}`),
      );

      await nats.stop(how);
      // sends during the outage are refused, never falsely acked
      await expect(onA.send('a during', 'a-during')).rejects.toThrow(/unavailable/);
      await expect(onB.send('b during', 'b-during')).rejects.toThrow(/unavailable/);

      await nats.start();
      // the refused messages are resent with their client_id, then more from both gateways
      await sendUntilAcked(onA, 'a during', 'a-during');
      await sendUntilAcked(onB, 'b during', 'b-during');
      await allReady();
      const after: Array<Promise<number>> = [];
      for (let i = 0; i < 5; i++) {
        after.push(onA.send(`a after ${i}`, `a-after-${i}`));
        after.push(onB.send(`b after ${i}`, `b-after-${i}`));
      }
      await Promise.all(after);

      const stored = await allMessages(gatewayA.url, room);
      const texts = stored.map((m) => m.text);
      // order between the two senders is the stream's; each sender's own order is kept
      expect(texts.slice(0, 10).sort()).toEqual([...expected].sort());
      expect(texts.filter((t) => t.startsWith('a ')).slice(5)).toEqual([
        'a during',
        ...Array.from({ length: 5 }, (_, i) => `a after ${i}`),
      ]);
      expect(texts.filter((t) => t.startsWith('b ')).slice(5)).toEqual([
        'b during',
        ...Array.from({ length: 5 }, (_, i) => `b after ${i}`),
      ]);
      await expectViewsMatchHistory(room);
      expect(watcherA.ids()).toEqual(watcherB.ids());
    }, 120_000);
  }

  it('after it lost its store, ids continue above the stored ones and every client sees every message once', async () => {
    const room = await newRoom('outage-store-lost');
    const onA = await view(gatewayA, room, 'erin');
    const onB = await view(gatewayB, room, 'frank');
    await Promise.all(Array.from({ length: 5 }, (_, i) => onA.send(`kept ${i}`, `kept-${i}`)));
    const kept = await eventually(
      () => allMessages(gatewayA.url, room),
      (m) => m.length === 5,
    );

    await nats.stop('SIGKILL');
    fs.rmSync(nats.storeDir, { recursive: true, force: true });
    await nats.start();

    const next = await sendUntilAcked(onB, 'after the loss', 'after-loss');
    expect(next).toBeGreaterThan(kept[4]!.id);
    await allReady();
    await Promise.all(Array.from({ length: 5 }, (_, i) => onA.send(`new ${i}`, `new-${i}`)));
    const stored = await eventually(
      () => allMessages(gatewayA.url, room),
      (m) => m.length === 11,
    );
    expect(stored.map((m) => m.text)).toEqual([
      ...kept.map((m) => m.text),
      'after the loss',
      ...Array.from({ length: 5 }, (_, i) => `new ${i}`),
    ]);
    await expectViewsMatchHistory(room);
  }, 120_000);

  it('closes clients with 1013 when the stream lost messages they may have missed; they rejoin with since=', async () => {
    const room = await newRoom('outage-gap');
    const { client: sender } = await ChatClient.join(`${gatewayA.wsUrl}/ws/${room}?username=gina`);
    const { client: watcher } = await ChatClient.join(`${gatewayB.wsUrl}/ws/${room}?username=hal`);
    await sender.say('persisted');
    await eventually(
      () => allMessages(gatewayA.url, room),
      (m) => m.length === 1,
    );
    // acked by the stream and passed on live, but never persisted: then the stream is lost
    history.child.kill('SIGKILL');
    await history.exited;
    const lost = await sender.say('only in the lost stream');
    expect((await watcher.until((f) => f.type === 'message' && f.id === lost.id)).type).toBe(
      'message',
    );
    await nats.stop('SIGKILL');
    fs.rmSync(nats.storeDir, { recursive: true, force: true });
    await nats.start();
    history = await spawnChat(env(historyDir), ['history']);

    expect((await watcher.waitClosed(30_000)).code).toBe(1013);
    await allReady();
    const { history: replay } = await ChatClient.join(
      `${gatewayB.wsUrl}/ws/${room}?username=hal&since=${lost.id}`,
    );
    expect(replay.reset).toBe(true);
    expect(replay.messages.map((m) => m.text)).toEqual(['persisted']);
    sender.close();
  }, 120_000);
});
