import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnChat, tempDir } from '../helpers/chat-server.ts';
import type { ChatProcess } from '../helpers/chat-server.ts';
import { ChatClient } from '../helpers/ws-client.ts';
import { asTranscript, allMessages, readTranscript } from '../helpers/history.ts';

const running: ChatProcess[] = [];

async function start(env: Record<string, string>, args: string[] = []) {
  const chat = await spawnChat(env, args);
  running.push(chat);
  return chat;
}

afterEach(async () => {
  for (const chat of running.splice(0)) await chat.stop('SIGKILL');
});

describe('startup', () => {
  it('prints one line with the mode, the URL and the data directory', async () => {
    const dataDir = tempDir();
    const chat = await start({ DATA_DIR: dataDir });
    const line = chat
      .output()
      .split('\n')
      .find((l) => l.includes('listening on'))!;
    expect(line).toContain('embedded mode');
    expect(line).toContain(chat.url.replace('127.0.0.1', 'localhost'));
    expect(line).toContain(dataDir);
  });

  it.each([
    ['PORT', 'eighty'],
    ['RATE_LIMIT', '-1'],
    ['HISTORY_REPLAY', '5000'],
    ['DEDUPE_WINDOW', 'forever'],
    ['NATS_URL', 'http://nowhere'],
    ['ALLOWED_ORIGINS', 'not an origin'],
    ['TRUST_PROXY', 'proxy.example'],
    ['SEND_BUFFER_LIMIT', '1 GB'],
    ['AUTH', 'nobody'],
    ['REGISTRATION', 'sometimes'],
    ['SESSION_SECRET', 'short'],
  ])('refuses to start with a bad %s and names the variable', async (name, value) => {
    await expect(start({ DATA_DIR: tempDir(), [name]: value })).rejects.toThrow(
      new RegExp(`exited with 2[\\s\\S]*${name}`),
    );
  });

  it('refuses NATS mode outside open mode without SESSION_SECRET, in one line naming it', async () => {
    const failed = start({ DATA_DIR: tempDir(), AUTH: 'accounts', NATS_URL: 'nats://127.0.0.1:1' });
    await expect(failed).rejects.toThrow(
      /exited with 2[\s\S]*chatroom: SESSION_SECRET: NATS mode with AUTH=accounts needs SESSION_SECRET/,
    );
  });

  it('warns at start when AUTH=open listens beyond loopback, not otherwise', async () => {
    const open = await start({ DATA_DIR: tempDir(), HOST: '0.0.0.0' });
    expect(open.output()).toMatch(/^chatroom: warning: AUTH=open and HOST=0\.0\.0\.0/m);
    const accounts = await start({ DATA_DIR: tempDir(), HOST: '0.0.0.0', AUTH: 'accounts' });
    expect(accounts.output()).not.toContain('warning');
    const loopback = await start({ DATA_DIR: tempDir() });
    expect(loopback.output()).not.toContain('warning');
  });

  it('refuses "npm run gateway" and "npm run history" without NATS_URL', async () => {
    for (const role of ['gateway', 'history']) {
      await expect(start({ DATA_DIR: tempDir() }, [role])).rejects.toThrow(/NATS_URL/);
    }
  });
});

describe('shutdown', () => {
  it('on SIGTERM closes WebSockets with 1001, keeps every acked message and exits 0 within 10 s', async () => {
    const dataDir = tempDir();
    const chat = await start({ DATA_DIR: dataDir, RATE_LIMIT: '0' });
    const { client } = await ChatClient.join(`${chat.wsUrl}/ws/1?username=alice`);
    const acked: number[] = [];
    for (let i = 0; i < 20; i++) acked.push((await client.say(`before shutdown ${i}`)).id);
    const started = Date.now();
    const code = chat.stop('SIGTERM');
    expect((await client.waitClosed(10_000)).code).toBe(1001);
    expect(await code).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);

    const again = await start({ DATA_DIR: dataDir });
    const stored = await allMessages(again.url, 1);
    expect(stored.map((m) => m.id)).toEqual(acked);
    expect(readTranscript(dataDir, 1).map((m) => m.id)).toEqual(acked);
  });

  it('exits 0 within 10 s on SIGTERM even when a client stopped reading', async () => {
    const chat = await start({ DATA_DIR: tempDir() });
    const { client } = await ChatClient.join(`${chat.wsUrl}/ws/1?username=stuck`);
    (client.socket as unknown as { _socket: { pause(): void } })._socket.pause();
    const started = Date.now();
    expect(await chat.stop('SIGTERM')).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('durability', () => {
  it('after kill -9 mid-stream, every acked message is once in history, replay and transcript', async () => {
    const dataDir = tempDir();
    const chat = await start({ DATA_DIR: dataDir, RATE_LIMIT: '0' });
    const { client } = await ChatClient.join(`${chat.wsUrl}/ws/1?username=alice`);
    const acked = new Map<string, number>();
    client.socket.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString()) as {
        type: string;
        client_id?: string;
        id?: number;
      };
      if (frame.type === 'ack') acked.set(frame.client_id!, frame.id!);
    });
    const total = 3000;
    for (let i = 0; i < total; i++)
      client.send({ type: 'message', text: `kill test ${i}`, client_id: `k${i}` });
    await client.until((f) => f.type === 'ack' && f.client_id === 'k400', 20_000);
    chat.child.kill('SIGKILL');
    await chat.exited;
    expect(acked.size).toBeGreaterThan(400);

    const restarted = await start({ DATA_DIR: dataDir, RATE_LIMIT: '0' });
    const stored = await allMessages(restarted.url, 1);
    const byText = new Map(stored.map((m) => [m.text, m.id]));
    for (const [clientId, id] of acked) {
      expect(byText.get(`kill test ${clientId.slice(1)}`)).toBe(id);
    }
    expect(new Set(stored.map((m) => m.text)).size).toBe(stored.length);
    expect(readTranscript(dataDir, 1)).toEqual(asTranscript(stored));

    // resending everything with the same client_ids creates nothing new and acks the same ids
    const { client: again, history } = await ChatClient.join(
      `${restarted.wsUrl}/ws/1?username=alice&since=0`,
    );
    expect(history.messages.map((m) => m.id)).toEqual(stored.slice(0, 1000).map((m) => m.id));
    for (const [clientId, id] of [...acked].slice(0, 50)) {
      expect((await again.say(`kill test ${clientId.slice(1)}`, clientId)).id).toBe(id);
    }
    expect(await allMessages(restarted.url, 1)).toHaveLength(stored.length);
  });

  it('after kill -9 among many edits and deletes, every transcript line is whole and equal to REST', async () => {
    const dataDir = tempDir();
    const env = { DATA_DIR: dataDir, RATE_LIMIT: '0' };
    for (let round = 0; round < 3; round++) {
      const chat = await start(env);
      const { client } = await ChatClient.join(`${chat.wsUrl}/ws/1?username=alice`);
      const ids: number[] = [];
      for (let i = 0; i < 30; i++) ids.push((await client.say(`r${round} m${i}`)).id);
      const acked = new Set<string>();
      client.socket.on('message', (data: Buffer) => {
        const frame = JSON.parse(data.toString()) as { type: string; client_id?: string };
        if (frame.type === 'ack' && frame.client_id) acked.add(frame.client_id);
      });
      const total = 600;
      const target = (i: number) => ids[(i * 7) % ids.length]!;
      for (let i = 0; i < total; i++) {
        const id = target(i);
        const frame =
          i % 50 === 49 ? { type: 'delete', id } : { type: 'edit', id, text: `r${round} e${i}` };
        client.send({ ...frame, client_id: `r${round}c${i}` });
      }
      // killed while edits are in flight (some acked, some not): rewrites are mid-way
      await client.until(
        (f) => f.type === 'ack' && f.client_id === `r${round}c${100 + round * 50}`,
        20_000,
      );
      chat.child.kill('SIGKILL');
      await chat.exited;
      expect(acked.size).toBeGreaterThan(100);

      const restarted = await start(env);
      const stored = await allMessages(restarted.url, 1);
      const lines = readTranscript(dataDir, 1);
      const deleted = new Set(lines.filter((line) => 'deleted' in line).map((line) => line.id));
      expect(lines.filter((line) => !('deleted' in line))).toEqual(asTranscript(stored));
      expect(lines.map((line) => line.id)).toEqual(
        [...lines.map((line) => line.id)].sort((a, b) => a - b),
      );
      // what REST leaves out is exactly what the transcript shows deleted
      const all = new Set([...stored.map((m) => m.id), ...deleted]);
      expect(all.size).toBe(lines.length);
      // every acked change survived: a deleted message is gone, an edited one has that text or later
      const byId = new Map(stored.map((m) => [m.id, m]));
      for (let i = 0; i < total; i++) {
        if (!acked.has(`r${round}c${i}`)) continue;
        const now = byId.get(target(i));
        if (i % 50 === 49) expect(now, `c${i}`).toBeUndefined();
        else if (now)
          expect(
            Number(/ e(\d+)$/.exec(now.text)?.[1]),
            `c${i} ${now.text}`,
          ).toBeGreaterThanOrEqual(i);
      }
      await restarted.stop('SIGKILL');
      running.splice(running.indexOf(restarted), 1);
    }
  });

  it('repairs a transcript torn or left behind by a crash between the database and transcript writes', async () => {
    const dataDir = tempDir();
    const first = await start({ DATA_DIR: dataDir, RATE_LIMIT: '0' });
    const { client } = await ChatClient.join(`${first.wsUrl}/ws/1?username=alice`);
    for (let i = 0; i < 10; i++) await client.say(`line ${i}`);
    first.child.kill('SIGKILL');
    await first.exited;

    // the crash hit after the SQLite commit: the transcript lacks the last 3 lines and has
    // half of the 4th-last
    const file = path.join(dataDir, 'message_history', 'server_1_history.jsonl');
    const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
    const kept = lines.slice(0, 6).join('\n') + '\n' + lines[6]!.slice(0, 20);
    fs.writeFileSync(file, kept);

    const second = await start({ DATA_DIR: dataDir });
    const stored = await allMessages(second.url, 1);
    expect(stored.map((m) => m.text)).toEqual(Array.from({ length: 10 }, (_, i) => `line ${i}`));
    expect(readTranscript(dataDir, 1)).toEqual(asTranscript(stored));
  });
});
