/**
 * `kill -9` of the NATS-mode history service while edits and deletes are in flight from clients
 * on two gateways, two rounds on one DATA_DIR and stream: after it starts again, every acked
 * change is in REST (the text of an acked edit or a later one, no message whose delete was
 * acked), and every transcript line is whole JSON equal to REST, tombstones where REST has none.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnChat, tempDir } from '../helpers/chat-server.ts';
import type { ChatProcess } from '../helpers/chat-server.ts';
import { eventually } from '../helpers/eventually.ts';
import { allMessages, asTranscript, readTranscript } from '../helpers/history.ts';
import { TestNatsServer } from '../helpers/nats-server.ts';
import { ChatClient } from '../helpers/ws-client.ts';

let nats: TestNatsServer;
let history: ChatProcess;
let gateways: ChatProcess[] = [];
const historyDir = tempDir();
const clients: ChatClient[] = [];

const env = (dataDir: string) => ({
  NATS_URL: nats.url,
  DATA_DIR: dataDir,
  RATE_LIMIT: '0',
  NATS_REQUEST_TIMEOUT: '2s',
});

beforeAll(async () => {
  nats = await TestNatsServer.start();
  history = await spawnChat(env(historyDir), ['history']);
  gateways = await Promise.all([1, 2].map(() => spawnChat(env(tempDir()), ['gateway'])));
}, 90_000);

afterAll(async () => {
  for (const client of clients) client.close();
  for (const process of [...gateways, history]) await process?.stop('SIGKILL');
  await nats?.stop();
});

/** The edit number of a text `r{round} e{i}`, -1 for any other text. */
const editOf = (text: string) => Number(/ e(\d+)$/.exec(text)?.[1] ?? -1);

describe('kill -9 of the history service among edits and deletes (NATS mode)', () => {
  it('keeps every acked change, and every transcript line whole and equal to REST', async () => {
    for (let round = 0; round < 2; round++) {
      const [a, b] = gateways as [ChatProcess, ChatProcess];
      const { client: alice } = await ChatClient.join(`${a.wsUrl}/ws/1?username=alice`);
      const { client: bob } = await ChatClient.join(`${b.wsUrl}/ws/1?username=bob`);
      clients.push(alice, bob);
      const mine = { alice: [] as number[], bob: [] as number[] };
      for (let i = 0; i < 15; i++) {
        mine.alice.push((await alice.say(`r${round} alice ${i}`)).id);
        mine.bob.push((await bob.say(`r${round} bob ${i}`)).id);
      }
      /** Per message: the last acked edit's number; deletes acked. */
      const lastEdit = new Map<number, number>();
      const deletes = new Set<number>();
      const sent = new Map<string, { id: number; edit?: number }>();
      const answered = new Set<string>();
      for (const client of [alice, bob]) {
        client.socket.on('message', (data: Buffer) => {
          const frame = JSON.parse(data.toString()) as { type: string; client_id?: string };
          const what = frame.client_id === undefined ? undefined : sent.get(frame.client_id);
          if (!what || (frame.type !== 'ack' && frame.type !== 'error')) return;
          answered.add(frame.client_id!);
          if (frame.type !== 'ack') return;
          if (what.edit === undefined) deletes.add(what.id);
          else lastEdit.set(what.id, Math.max(lastEdit.get(what.id) ?? -1, what.edit));
        });
      }
      const total = 300;
      for (let i = 0; i < total; i++) {
        const [client, ids] = i % 2 === 0 ? [alice, mine.alice] : [bob, mine.bob];
        const id = ids[(i * 7) % ids.length]!;
        const clientId = `r${round}c${i}`;
        if (i % 40 === 39) {
          sent.set(clientId, { id });
          client.send({ type: 'delete', id, client_id: clientId });
        } else {
          sent.set(clientId, { id, edit: i });
          client.send({ type: 'edit', id, text: `r${round} e${i}`, client_id: clientId });
        }
      }
      // killed while changes are in flight: some acked, some judged and not yet applied
      await alice.until((f) => f.type === 'ack' && f.client_id === `r${round}c60`, 20_000);
      history.child.kill('SIGKILL');
      await history.exited;
      const ackedBefore = lastEdit.size;
      expect(ackedBefore).toBeGreaterThan(0);
      history = await spawnChat(env(historyDir), ['history']);

      // every answer comes (an ack, or an error for what was lost with the process)
      await eventually(
        () => answered.size,
        (size) => size === total,
        30_000,
      );
      const stored = await eventually(
        () => allMessages(b.url, 1),
        (list) => list.length > 0,
      );
      const byId = new Map(stored.map((m) => [m.id, m]));
      for (const id of deletes) expect(byId.has(id), `deleted ${id}`).toBe(false);
      for (const [id, edit] of lastEdit) {
        if (deletes.has(id)) continue;
        expect(editOf(byId.get(id)!.text), `message ${id}`).toBeGreaterThanOrEqual(edit);
      }
      const lines = await eventually(
        () => readTranscript(historyDir, 1),
        (read) =>
          JSON.stringify(read.filter((line) => !('deleted' in line))) ===
          JSON.stringify(asTranscript(stored)),
        10_000,
      );
      const ids = lines.map((line) => line.id);
      expect(ids).toEqual([...ids].sort((x, y) => x - y));
      const tombstones = lines.filter((line) => 'deleted' in line).map((line) => line.id);
      expect(new Set([...stored.map((m) => m.id), ...tombstones]).size).toBe(lines.length);
      for (const id of deletes) expect(tombstones).toContain(id);
      alice.close();
      bob.close();
    }
  }, 180_000);
});
