/**
 * Attachments in NATS mode (contract, "Attachments"): a nats-server of the test's own, a history
 * service and two gateways, each a process. Bytes go to the Object Store bucket
 * `chatroom_attachments` through the gateway that takes the upload and come out of it through
 * any other; no gateway keeps a copy; the history service judges the messages that carry them,
 * one at a time per room, and removes the objects of a deleted message and of unsent uploads.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { Objm } from '@nats-io/obj';
import type { ObjectStore } from '@nats-io/obj';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FrameOf } from '../../src/web/protocol.js';
import { download, tinyPng, upload } from '../helpers/attachments.ts';
import { startDeployment } from '../helpers/deployment.ts';
import type { Deployment } from '../helpers/deployment.ts';
import { eventually } from '../helpers/eventually.ts';
import { createRoom, filesUnder, readTranscript } from '../helpers/history.ts';
import { ChatClient } from '../helpers/ws-client.ts';
import { change } from './conversations-suite.ts';

const MAX = 400_000;
/** Short enough to see the sweep, long enough for a test to send what it uploads. */
const UNSENT_TTL_MS = 8000;
let deployment: Deployment;
let nc: NatsConnection;
let bucket: ObjectStore;
const clients: ChatClient[] = [];

beforeAll(async () => {
  deployment = await startDeployment('nats', {
    UPLOAD_MAX_BYTES: String(MAX),
    UPLOAD_RATE_LIMIT: '0',
    UPLOAD_UNSENT_TTL: `${UNSENT_TTL_MS}ms`,
    RATE_LIMIT: '0',
    ROOM_CREATE_LIMIT: '0',
  });
  nc = await connect({ servers: deployment.natsUrl! });
}, 90_000);

afterAll(async () => {
  for (const client of clients) client.close();
  await nc?.close();
  await deployment?.close();
});

const [a, b] = [() => deployment.urls[0]!, () => deployment.urls[1]!];

async function join(url: string, room: number, username: string) {
  const wsUrl = url.replace(/^http/, 'ws');
  const { client } = await ChatClient.join(`${wsUrl}/ws/${room}?username=${username}`);
  clients.push(client);
  return client;
}

/** The bucket, once a gateway made it; what it holds of an id (null: nothing). */
async function object(id: string) {
  bucket ??= await new Objm(nc).open('chatroom_attachments');
  const info = await bucket.info(id);
  return info && !info.deleted ? info : null;
}

/** Bytes no image starts with, that a scan of files can find. */
function marked(size: number): Buffer {
  const bytes = Buffer.alloc(size, 0x2e);
  bytes.write(`marker-${randomUUID()}`, 0, 'latin1');
  return bytes;
}

describe('attachments across gateways', () => {
  it('are uploaded through one gateway, sent there, and read through the other', async () => {
    const room = await createRoom(a(), 'shared');
    const ann = await join(a(), room, 'ann');
    const bob = await join(b(), room, 'bob');
    const big = marked(300_000); // three 128 KiB chunks in the Object Store
    const file = await upload(a(), room, 'big.bin', big, { username: 'ann' });
    expect(file).toMatchObject({ status: 201, json: { size: big.length } });
    const picture = await upload(a(), room, 'p.png', tinyPng(6, 5), { username: 'ann' });
    expect(picture.json).toMatchObject({ type: 'image/png', width: 6, height: 5 });
    const id = file.json.id as string;
    // before it is sent: its uploader only, through any gateway
    expect((await download(b(), id, 'ann')).bytes.equals(big)).toBe(true);
    expect((await download(b(), id, 'bob')).status).toBe(404);

    const ack = (await change(ann, {
      type: 'message',
      text: '',
      attachments: [picture.json.id, id],
    })) as FrameOf<'ack'>;
    expect(ack.type).toBe('ack');
    const live = (await bob.until((f) => f.type === 'message')) as FrameOf<'message'>;
    expect(live.attachments).toEqual([picture.json, file.json]);
    const got = await download(b(), id, 'bob');
    expect(got.status).toBe(200);
    expect(got.bytes.equals(big)).toBe(true);
    expect(got.headers['content-disposition']).toBe("attachment; filename*=UTF-8''big.bin");
    const rest = await (await fetch(`${b()}/api/servers/${room}/messages/${ack.id}`)).json();
    expect(rest).toMatchObject({ text: '', attachments: [picture.json, file.json] });
    await eventually(
      () => readTranscript(deployment.historyDir, room)[0],
      (line) => line?.attachments?.length === 2,
    );

    // the gateways keep no copy, and neither does the history service: it is in the bucket
    expect(await object(id)).toMatchObject({ size: big.length });
    const marker = big.subarray(0, 43);
    for (const dir of [...deployment.gatewayDirs, deployment.historyDir]) {
      expect(fs.existsSync(path.join(dir, 'attachments')), dir).toBe(false);
      for (const scanned of filesUnder(dir)) {
        expect(fs.readFileSync(scanned).includes(marker), scanned).toBe(false);
      }
    }
    for (const dir of deployment.gatewayDirs) expect(filesUnder(dir), dir).toEqual([]);
  });

  it('give one of two messages racing for one upload the ack, the other bad_attachment', async () => {
    const room = await createRoom(a(), 'race');
    const onA = await join(a(), room, 'ann');
    const onB = await join(b(), room, 'ann');
    const file = await upload(b(), room, 'once.png', tinyPng(1, 1), { username: 'ann' });
    const frame = { type: 'message', text: '', attachments: [file.json.id] };
    const answers = await Promise.all([change(onA, frame), change(onB, frame)]);
    expect(answers.map((answer) => answer.type).sort()).toEqual(['ack', 'error']);
    expect(answers.find((answer) => answer.type === 'error')).toMatchObject({
      code: 'bad_attachment',
    });
    const bobs = await upload(a(), room, 'bobs.png', tinyPng(1, 1), { username: 'bob' });
    expect(await change(onA, { ...frame, attachments: [bobs.json.id] })).toMatchObject({
      code: 'bad_attachment',
    });
    // a resend of the message that took an upload is acked again, through either gateway
    const mine = await upload(a(), room, 'mine.png', tinyPng(1, 1), { username: 'ann' });
    const first = await change(onA, { ...frame, attachments: [mine.json.id] }, 'resend-2');
    expect(await change(onB, { ...frame, attachments: [mine.json.id] }, 'resend-2')).toEqual(first);
  });

  it('refuse one byte past UPLOAD_MAX_BYTES and keep nothing of it', async () => {
    const before = (await new Objm(nc).open('chatroom_attachments').then((s) => s.list())).length;
    const over = await upload(
      a(),
      1,
      'over',
      marked(MAX + 1),
      { username: 'ann' },
      {
        chunked: true,
      },
    );
    expect(over).toMatchObject({ status: 413, json: { code: 'too_large' } });
    const fits = await upload(a(), 1, 'fits', marked(MAX), { username: 'ann' }, { chunked: true });
    expect(fits).toMatchObject({ status: 201, json: { size: MAX } });
    const after = await (await new Objm(nc).open('chatroom_attachments')).list();
    expect(after.length).toBe(before + 1);
  });

  it('leave the Object Store with their deleted message', async () => {
    const room = await createRoom(a(), 'gone');
    const ann = await join(b(), room, 'ann');
    const file = await upload(a(), room, 'secret.bin', marked(1000), { username: 'ann' });
    const id = file.json.id as string;
    const ack = (await change(ann, {
      type: 'message',
      text: 'x',
      attachments: [id],
    })) as FrameOf<'ack'>;
    expect(await object(id)).not.toBeNull();
    expect(await change(ann, { type: 'delete', id: ack.id })).toMatchObject({ type: 'ack' });
    expect((await download(a(), id, 'ann')).status).toBe(404);
    await eventually(
      () => object(id),
      (info) => info === null,
    );
  });

  it('go from the Object Store when no message took them in time', async () => {
    const file = await upload(b(), 1, 'late.bin', marked(100), { username: 'ann' });
    const id = file.json.id as string;
    expect(await object(id)).not.toBeNull();
    await eventually(
      () => object(id),
      (info) => info === null,
      UNSENT_TTL_MS * 4,
    );
    expect((await download(a(), id, 'ann')).status).toBe(404);
  }, 60_000);
});
