/**
 * Conversations in NATS mode: a nats-server of the test's own, one history service and two
 * gateways (processes). Edits, deletes, reactions and replies are judged by the history service
 * and travel in the stream on the room's subject: a change made through gateway A reaches the
 * clients of gateway B in seq order; a client of B catching up with `since=` gets the changes;
 * deleted means gone from every file under the history service's DATA_DIR and from the stream's
 * store within 60 s.
 */
import fs from 'node:fs';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FrameOf } from '../../src/web/protocol.js';
import { spawnChat, tempDir } from '../helpers/chat-server.ts';
import type { ChatProcess } from '../helpers/chat-server.ts';
import { eventually } from '../helpers/eventually.ts';
import { createRoom, readTranscript, filesUnder } from '../helpers/history.ts';
import { TestNatsServer } from '../helpers/nats-server.ts';
import { ChatClient } from '../helpers/ws-client.ts';

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
    ROOM_CREATE_LIMIT: '0',
    NATS_REQUEST_TIMEOUT: '5s',
  };
}

beforeAll(async () => {
  nats = await TestNatsServer.start();
  history = await spawnChat(env(historyDir), ['history']);
  [gatewayA, gatewayB] = await Promise.all([
    spawnChat(env(tempDir()), ['gateway']),
    spawnChat(env(tempDir()), ['gateway']),
  ]);
  await eventually(
    () =>
      Promise.all([gatewayA, gatewayB].map(async (g) => (await fetch(`${g.url}/readyz`)).status)),
    (statuses) => statuses.every((status) => status === 200),
  );
}, 90_000);

afterAll(async () => {
  for (const client of clients) client.close();
  for (const process of [gatewayA, gatewayB, history]) await process?.stop('SIGKILL');
  await nats?.stop();
});

async function join(gateway: ChatProcess, room: number, username: string, query = '') {
  const wsUrl = gateway.url.replace(/^http/, 'ws');
  const joined = await ChatClient.join(
    `${wsUrl}/ws/${room}?username=${username}${query ? `&${query}` : ''}`,
  );
  clients.push(joined.client);
  return joined;
}

async function change(
  client: ChatClient,
  frame: Record<string, unknown>,
  clientId: string = randomUUID(),
) {
  client.send({ ...frame, client_id: clientId });
  const answer = await client.until(
    (f) => (f.type === 'ack' || f.type === 'error') && f.client_id === clientId,
    15_000,
    `the answer to ${JSON.stringify(frame)}`,
  );
  return answer as FrameOf<'ack'> | FrameOf<'error'>;
}

async function rest(gateway: ChatProcess, pathname: string) {
  const response = await fetch(gateway.url + pathname);
  return { status: response.status, body: (await response.json()) as unknown };
}

describe('changes across gateways (NATS mode)', () => {
  it('an edit, reaction, reply and delete made on A reach B in seq order, with refusals', async () => {
    const room = await createRoom(gatewayA.url, 'changes');
    const { client: ann } = await join(gatewayA, room, 'ann');
    const { client: bob } = await join(gatewayB, room, 'bob');
    const first = await ann.say('helo');
    const edit = await change(ann, { type: 'edit', id: first.id, text: 'hello' });
    expect(edit).toMatchObject({ type: 'ack', id: first.id });
    const editSeq = (edit as FrameOf<'ack'>).seq;
    expect(await bob.until((f) => f.type === 'edit')).toMatchObject({
      id: first.id,
      seq: editSeq,
      text: 'hello',
    });
    const react = (await change(bob, {
      type: 'react',
      id: first.id,
      emoji: '👍',
      on: true,
    })) as FrameOf<'ack'>;
    expect(await ann.until((f) => f.type === 'reaction')).toMatchObject({
      seq: react.seq,
      count: 1,
    });
    const reply = (await change(bob, {
      type: 'message',
      text: 're',
      reply_to: first.id,
    })) as FrameOf<'ack'>;
    expect(reply.type).toBe('ack');
    expect((await rest(gatewayB, `/api/servers/${room}/messages/${reply.id}`)).body).toMatchObject({
      reply_to: first.id,
      quote: { username: 'ann', text: 'hello' },
    });
    expect(await change(bob, { type: 'edit', id: first.id, text: 'mine' })).toMatchObject({
      code: 'forbidden',
    });
    expect(await change(bob, { type: 'message', text: 'x', reply_to: 999_999 })).toMatchObject({
      code: 'bad_reply',
    });
    // a resend of an edit with its client_id: the same ack, no second change
    const once = await change(ann, { type: 'edit', id: first.id, text: 'again' }, 'edit-1');
    expect(await change(ann, { type: 'edit', id: first.id, text: 'twice' }, 'edit-1')).toEqual(
      once,
    );
    const del = (await change(ann, { type: 'delete', id: first.id })) as FrameOf<'ack'>;
    expect(await bob.until((f) => f.type === 'delete')).toEqual({
      type: 'delete',
      id: first.id,
      seq: del.seq,
    });
    expect(await rest(gatewayB, `/api/servers/${room}/messages/${first.id}`)).toMatchObject({
      status: 404,
    });
    // the seqs every client saw, in one order
    const seqs = bob.frames
      .filter(
        (f) =>
          f.type === 'edit' || f.type === 'reaction' || f.type === 'delete' || f.type === 'message',
      )
      .map((f) => ('seq' in f ? f.seq : 0));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));

    // a client of B that was away gets what changed
    const late = await join(gatewayB, room, 'carl', `since=${first.id}`);
    expect(late.history.updates).toEqual([
      expect.objectContaining({ id: first.id, deleted: true, seq: del.seq }),
    ]);
    expect(late.history.messages.map((m) => m.id)).toEqual([reply.id]);
    expect(late.history.messages[0]).not.toHaveProperty('quote');
  });

  it('erases a deleted message from every file of the history service and the stream within 60 s', async () => {
    const marker = `secret-${randomUUID()}`;
    const room = await createRoom(gatewayA.url, 'erasure');
    const { client } = await join(gatewayA, room, 'ann');
    const before = await client.say('before');
    const sent = await client.say(`the key is ${marker}`);
    await change(client, { type: 'edit', id: sent.id, text: `still ${marker}` });
    await client.say('after');
    expect(await change(client, { type: 'delete', id: sent.id })).toMatchObject({ type: 'ack' });
    const holding = () =>
      [...filesUnder(historyDir), ...filesUnder(nats.storeDir)].filter((file) =>
        fs.readFileSync(file).includes(marker),
      );
    expect(await eventually(holding, (files) => files.length === 0, 60_000)).toEqual([]);
    const lines = await eventually(
      () => readTranscript(historyDir, room),
      (read) => read.length === 3 && 'deleted' in read[1]!,
    );
    expect(lines.slice(0, 2).map((line) => line.id)).toEqual([before.id, sent.id]);
  });
});
