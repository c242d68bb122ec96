/** NATS mode in one process (`npm start` with NATS_URL), and what survives the stream's loss. */
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnChat, tempDir } from '../helpers/chat-server.ts';
import type { ChatProcess } from '../helpers/chat-server.ts';
import { TestNatsServer } from '../helpers/nats-server.ts';
import { ChatClient } from '../helpers/ws-client.ts';
import { readTranscript } from '../helpers/history.ts';
import { eventually } from '../helpers/eventually.ts';

const running: Array<ChatProcess | TestNatsServer> = [];

afterEach(async () => {
  for (const thing of running.splice(0).reverse()) {
    await (thing instanceof TestNatsServer ? thing.stop() : thing.stop('SIGKILL'));
  }
});

async function start(natsUrl: string, dataDir: string) {
  const chat = await spawnChat({ NATS_URL: natsUrl, DATA_DIR: dataDir, RATE_LIMIT: '0' });
  running.push(chat);
  return chat;
}

describe('npm start with NATS_URL', () => {
  it('runs gateway and history service in one process and drains on SIGTERM', async () => {
    const nats = await TestNatsServer.start();
    running.push(nats);
    const dataDir = tempDir();
    const chat = await start(nats.url, dataDir);
    expect(chat.output()).toMatch(/NATS mode, gateway \+ history service: listening on http/);
    const { client } = await ChatClient.join(`${chat.wsUrl}/ws/1?username=alice`);
    const acked: number[] = [];
    for (let i = 0; i < 30; i++) acked.push((await client.say(`m${i}`)).id);
    const code = chat.stop('SIGTERM');
    expect((await client.waitClosed(10_000)).code).toBe(1001);
    expect(await code).toBe(0);
    // whatever the stream acked and the history service had not yet written, it writes on start
    await start(nats.url, dataDir);
    expect(
      await eventually(
        () => readTranscript(dataDir, 1).map((m) => m.id),
        (ids) => ids.length >= 30,
      ),
    ).toEqual(acked);
  });

  it('continues ids above the stored ones when the stream was lost and recreated', async () => {
    const nats = await TestNatsServer.start();
    running.push(nats);
    const dataDir = tempDir();
    const first = await start(nats.url, dataDir);
    const { client } = await ChatClient.join(`${first.wsUrl}/ws/1?username=alice`);
    const before: number[] = [];
    for (let i = 0; i < 5; i++) before.push((await client.say(`old ${i}`)).id);
    expect(await first.stop('SIGTERM')).toBe(0);

    // the NATS server comes back with an empty store: the stream and its sequence are gone
    await nats.stop();
    fs.rmSync(nats.storeDir, { recursive: true, force: true });
    await nats.start();

    const second = await start(nats.url, dataDir);
    const { client: again, history } = await ChatClient.join(`${second.wsUrl}/ws/1?username=alice`);
    expect(history.messages.map((m) => m.id)).toEqual(before);
    const next = await again.say('new');
    expect(next.id).toBeGreaterThan(before[4]!);
    await eventually(
      () => readTranscript(dataDir, 1).map((m) => m.id),
      (ids) => ids.length > before.length,
    );
    expect(readTranscript(dataDir, 1).map((m) => m.id)).toEqual([...before, next.id]);
  });

  it('lets a gateway start before the history service and become ready when it comes', async () => {
    const nats = await TestNatsServer.start();
    running.push(nats);
    const env = { NATS_URL: nats.url, RATE_LIMIT: '0' };
    const gateway = await spawnChat({ ...env, DATA_DIR: tempDir() }, ['gateway']);
    running.push(gateway);
    expect((await fetch(`${gateway.url}/readyz`)).status).toBe(503);
    const history = await spawnChat({ ...env, DATA_DIR: tempDir() }, ['history']);
    running.push(history);
    await eventually(
      async () => (await fetch(`${gateway.url}/readyz`)).status,
      (status) => status === 200,
    );
    const { client } = await ChatClient.join(`${gateway.wsUrl}/ws/1?username=early`);
    const ack = await client.say('hello');
    expect((await client.next('message')).id).toBe(ack.id);
  });
});
