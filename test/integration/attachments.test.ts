/**
 * Attachments in embedded mode (contract, "Conversations" → "Attachments"): uploads (types, the
 * size limit at its edge, sized and chunked, the name rules, the rate limits), who may read one,
 * the messages that carry them (`bad_attachment` in every case), the safety headers of a
 * download, and the bytes gone with a deleted message or an unsent upload.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../src/domain/message.ts';
import type { FrameOf } from '../../src/web/protocol.js';
import { startAccountsChat } from '../helpers/accounts.ts';
import { download, tinyGif, tinyPng, upload } from '../helpers/attachments.ts';
import { startTestChat, tempDir } from '../helpers/chat-server.ts';
import type { TestChat } from '../helpers/chat-server.ts';
import { eventually } from '../helpers/eventually.ts';
import { createRoom, readTranscript } from '../helpers/history.ts';
import { ChatClient } from '../helpers/ws-client.ts';
import { change } from './conversations-suite.ts';

const MAX = 1000;
let server: TestChat;
const clients: ChatClient[] = [];

beforeAll(async () => {
  server = await startTestChat({
    UPLOAD_MAX_BYTES: String(MAX),
    UPLOAD_RATE_LIMIT: '0',
    RATE_LIMIT: '0',
    ROOM_CREATE_LIMIT: '0',
  });
});

afterAll(async () => {
  for (const client of clients) client.close();
  await server?.close();
});

async function join(room: number, username: string) {
  const joined = await ChatClient.join(`${server.wsUrl}/ws/${room}?username=${username}`);
  clients.push(joined.client);
  return joined.client;
}

/** An upload that must be taken: its answer's body. */
async function uploaded(room: number, name: string, bytes: Buffer, username = 'ann') {
  const answer = await upload(server.url, room, name, bytes, { username });
  if (answer.status !== 201) throw new Error(`upload refused: ${JSON.stringify(answer.json)}`);
  return answer.json as { id: string; name: string; type: string; size: number; url: string };
}

const attachmentsDir = () => path.join(server.dataDir, 'attachments');
const filesOnDisk = () => (fs.existsSync(attachmentsDir()) ? fs.readdirSync(attachmentsDir()) : []);

describe('uploading', () => {
  it('answers 201 with the type and pixels its first bytes tell, and a URL-safe id', async () => {
    const room = await createRoom(server.url, 'uploads');
    const png = await uploaded(room, 'plan.png', tinyPng(3, 2));
    expect(png).toEqual({
      id: png.id,
      name: 'plan.png',
      type: 'image/png',
      size: tinyPng(3, 2).length,
      width: 3,
      height: 2,
      url: `/api/attachments/${png.id}`,
    });
    // at least 128 random bits, URL-safe
    expect(png.id).toMatch(/^[A-Za-z0-9_-]{22,}$/);
    expect(await uploaded(room, 'anim.gif', tinyGif(5, 4))).toMatchObject({
      type: 'image/gif',
      width: 5,
      height: 4,
    });
    const text = await uploaded(room, 'notes.png', Buffer.from('not a picture'));
    expect(text).toMatchObject({ type: 'application/octet-stream', size: 13 });
    expect(text).not.toHaveProperty('width');
    // the name decides nothing, and neither does the Content-Type sent
    const typed = await upload(
      server.url,
      room,
      'x',
      tinyPng(1, 1),
      { username: 'ann' },
      {
        headers: { 'content-type': 'text/html' },
      },
    );
    expect(typed.json).toMatchObject({ type: 'image/png' });
    const odd = await upload(
      server.url,
      room,
      'y',
      Buffer.from('hi'),
      { username: 'ann' },
      {
        headers: { 'content-type': 'not a media type!' },
      },
    );
    expect(odd).toMatchObject({ status: 201, json: { type: 'application/octet-stream' } });
    const empty = await upload(server.url, room, 'empty', Buffer.alloc(0), { username: 'ann' });
    expect(empty).toMatchObject({ status: 201, json: { size: 0 } });
  });

  it('takes exactly UPLOAD_MAX_BYTES and refuses one byte more, sized or chunked', async () => {
    const room = await createRoom(server.url, 'limits');
    for (const chunked of [false, true]) {
      const before = filesOnDisk();
      const fits = await upload(
        server.url,
        room,
        'fits',
        Buffer.alloc(MAX, 1),
        { username: 'a' },
        {
          chunked,
        },
      );
      expect(fits, `chunked: ${chunked}`).toMatchObject({ status: 201, json: { size: MAX } });
      const over = await upload(
        server.url,
        room,
        'over',
        Buffer.alloc(MAX + 1, 1),
        {
          username: 'a',
        },
        { chunked },
      );
      expect(over, `chunked: ${chunked}`).toMatchObject({
        status: 413,
        json: { code: 'too_large' },
      });
      // the refused upload left nothing behind
      expect(filesOnDisk().sort()).toEqual([...before, fits.json.id as string].sort());
    }
  });

  it('answers 413 from Content-Length alone, before any of the body is sent', async () => {
    const room = await createRoom(server.url, 'huge');
    const answer = await new Promise<{ status: number; connection: string | undefined }>(
      (resolve, reject) => {
        const request = http.request(
          `${server.url}/api/servers/${room}/attachments?name=huge&username=ann`,
          { method: 'POST', headers: { 'content-length': String(10 * 1024 * 1024 * 1024) } },
          (response) => {
            resolve({ status: response.statusCode ?? 0, connection: response.headers.connection });
            request.destroy();
          },
        );
        request.on('error', reject);
        request.flushHeaders();
      },
    );
    expect(answer).toEqual({ status: 413, connection: 'close' });
  });

  it('refuses a bad name, a missing ?username= (open mode) and an unknown room', async () => {
    const room = await createRoom(server.url, 'names');
    const png = tinyPng(1, 1);
    for (const name of ['', 'a'.repeat(256), 'a/b', 'a\\b', 'a\u0001b', 'tab\there']) {
      const answer = await upload(server.url, room, name, png, { username: 'ann' });
      expect(answer, JSON.stringify(name)).toMatchObject({
        status: 400,
        json: { code: 'bad_request' },
      });
    }
    expect(
      await upload(server.url, room, '😀'.repeat(255), png, { username: 'ann' }),
    ).toMatchObject({ status: 201 });
    expect(await upload(server.url, room, 'x.png', png)).toMatchObject({
      status: 400,
      json: { code: 'bad_request' },
    });
    expect(await upload(server.url, 999_999, 'x.png', png, { username: 'ann' })).toMatchObject({
      status: 404,
      json: { code: 'room_not_found' },
    });
  });
});

describe('messages with attachments', () => {
  it('carry them in the order sent, with empty text, everywhere the message shows', async () => {
    const room = await createRoom(server.url, 'carry');
    const ann = await join(room, 'ann');
    const bob = await join(room, 'bob');
    const first = await uploaded(room, 'b.gif', tinyGif(2, 2));
    const second = await uploaded(room, 'a.png', tinyPng(4, 3));
    const ack = await change(ann, {
      type: 'message',
      text: '',
      attachments: [first.id, second.id],
    });
    expect(ack).toMatchObject({ type: 'ack' });
    const live = (await bob.until((f) => f.type === 'message')) as FrameOf<'message'>;
    expect(live.attachments).toEqual([first, second]);
    expect(live.text).toBe('');
    const id = (ack as FrameOf<'ack'>).id;
    const rest = (await (await fetch(`${server.url}/api/servers/${room}/messages`)).json()) as [
      Message,
    ];
    expect(rest[0].attachments).toEqual([first, second]);
    expect(await (await fetch(`${server.url}/api/servers/${room}/messages/${id}`)).json()).toEqual(
      rest[0],
    );
    await eventually(
      () => readTranscript(server.dataDir, room),
      (lines) => lines.length === 1,
    );
    expect(readTranscript(server.dataDir, room)[0]).toEqual({
      id,
      server_id: room,
      username: 'ann',
      text: '',
      ts: live.ts,
      attachments: [first, second],
    });
    // a joiner's replay has them too
    const { history } = await ChatClient.join(`${server.wsUrl}/ws/${room}?username=cy`);
    expect(history.messages[0]?.attachments).toEqual([first, second]);
    // anyone who sees the room reads the bytes now
    const bytes = await download(server.url, second.id);
    expect(bytes.status).toBe(200);
    expect(bytes.bytes.equals(tinyPng(4, 3))).toBe(true);
    // its text may be edited to something and back to nothing; a message without attachments
    // may not be emptied
    expect(await change(ann, { type: 'edit', id, text: 'plans' })).toMatchObject({ type: 'ack' });
    expect(await change(ann, { type: 'edit', id, text: '' })).toMatchObject({ type: 'ack' });
    const plain = (await change(ann, { type: 'message', text: 'words' })) as FrameOf<'ack'>;
    expect(await change(ann, { type: 'edit', id: plain.id, text: ' ' })).toMatchObject({
      code: 'empty',
    });
  });

  it('refuses each attachment a message may not carry with bad_attachment', async () => {
    const room = await createRoom(server.url, 'refusals');
    const other = await createRoom(server.url, 'elsewhere');
    const ann = await join(room, 'ann');
    const mine = await uploaded(room, 'mine.png', tinyPng(1, 1));
    const bobs = await uploaded(room, 'bobs.png', tinyPng(1, 1), 'bob');
    const otherRoom = await uploaded(other, 'there.png', tinyPng(1, 1));
    const used = await uploaded(room, 'used.png', tinyPng(1, 1));
    expect(await change(ann, { type: 'message', text: 'x', attachments: [used.id] })).toMatchObject(
      { type: 'ack' },
    );
    const eleven = await Promise.all(
      Array.from({ length: 11 }, (_, i) => uploaded(room, `f${i}`, Buffer.from([i]))),
    );
    const refusals: Array<[string, string[]]> = [
      ["another user's upload", [mine.id, bobs.id]],
      ["another room's upload", [otherRoom.id]],
      ['an upload another message carries', [used.id]],
      ['eleven', eleven.map((file) => file.id)],
      ['an unknown id', ['AAAAAAAAAAAAAAAAAAAAAA']],
      ['none', []],
      ['one twice', [mine.id, mine.id]],
    ];
    for (const [what, attachments] of refusals) {
      expect(await change(ann, { type: 'message', text: '', attachments }), what).toMatchObject({
        type: 'error',
        code: 'bad_attachment',
      });
    }
    expect(await change(ann, { type: 'message', text: '', attachments: 'x' })).toMatchObject({
      code: 'bad_request',
    });
    // none of the refused ones took the uploads: ten of them still go in one message
    const ten = eleven.slice(0, 10).map((file) => file.id);
    expect(await change(ann, { type: 'message', text: '', attachments: ten })).toMatchObject({
      type: 'ack',
    });
    // a resend with the same client_id gets the same ack
    const once = await change(ann, { type: 'message', text: '', attachments: [mine.id] }, 'same');
    expect(
      await change(ann, { type: 'message', text: '', attachments: [mine.id] }, 'same'),
    ).toEqual(once);
  });

  it('are read by their uploader only before they are sent', async () => {
    const room = await createRoom(server.url, 'unsent');
    const file = await uploaded(room, 'draft.png', tinyPng(1, 1));
    expect((await download(server.url, file.id, 'ann')).status).toBe(200);
    expect(await download(server.url, file.id, 'bob')).toMatchObject({
      status: 404,
      json: { code: 'attachment_not_found' },
    });
    expect(await download(server.url, file.id)).toMatchObject({
      status: 400,
      json: { code: 'bad_request' },
    });
    expect(await download(server.url, 'AAAAAAAAAAAAAAAAAAAAAA', 'ann')).toMatchObject({
      status: 404,
      json: { code: 'attachment_not_found' },
    });
  });

  it('are gone with their message: the file, the bytes, the metadata', async () => {
    const room = await createRoom(server.url, 'deleting');
    const ann = await join(room, 'ann');
    const file = await uploaded(room, 'secret.png', tinyPng(2, 2));
    expect(fs.existsSync(path.join(attachmentsDir(), file.id))).toBe(true);
    const ack = (await change(ann, {
      type: 'message',
      text: 'look',
      attachments: [file.id],
    })) as FrameOf<'ack'>;
    expect((await download(server.url, file.id)).status).toBe(200);
    expect(await change(ann, { type: 'delete', id: ack.id })).toMatchObject({ type: 'ack' });
    expect(await download(server.url, file.id, 'ann')).toMatchObject({
      status: 404,
      json: { code: 'attachment_not_found' },
    });
    await eventually(
      () => fs.existsSync(path.join(attachmentsDir(), file.id)),
      (exists) => !exists,
    );
    // the transcript line is the tombstone, without the attachments
    const line = await eventually(
      () => readTranscript(server.dataDir, room)[0],
      (entry) => entry !== undefined && 'deleted' in entry,
    );
    expect(line).toEqual({
      id: ack.id,
      server_id: room,
      username: 'ann',
      ts: line?.ts,
      deleted: true,
    });
  });
});

describe('downloads', () => {
  it('serve HTML and SVG as downloads of octets, never rendered, with the safety headers', async () => {
    const room = await createRoom(server.url, 'headers');
    const ann = await join(room, 'ann');
    const html = await uploaded(room, 'page.html', Buffer.from('<html><script>alert(1)</script>'));
    const svg = await uploaded(
      room,
      'logo café.svg',
      Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
    );
    const png = await uploaded(room, 'plan.png', tinyPng(2, 2));
    await change(ann, { type: 'message', text: '', attachments: [html.id, svg.id, png.id] });
    const safety = {
      'x-content-type-options': 'nosniff',
      'content-security-policy': "default-src 'none'; sandbox",
      'cross-origin-resource-policy': 'same-origin',
      'cache-control': 'private',
    };
    expect((await download(server.url, html.id)).headers).toMatchObject({
      ...safety,
      'content-type': 'application/octet-stream',
      'content-disposition': "attachment; filename*=UTF-8''page.html",
    });
    expect((await download(server.url, svg.id)).headers).toMatchObject({
      ...safety,
      'content-type': 'application/octet-stream',
      'content-disposition': "attachment; filename*=UTF-8''logo%20caf%C3%A9.svg",
    });
    const image = await download(server.url, png.id);
    expect(image.headers).toMatchObject({
      ...safety,
      'content-type': 'image/png',
      'content-length': String(tinyPng(2, 2).length),
      'content-disposition': "inline; filename*=UTF-8''plan.png",
    });
  });
});

describe('limits', () => {
  it('refuses uploads past UPLOAD_RATE_LIMIT, which count in REST_RATE_LIMIT too', async () => {
    const limited = await startTestChat({ UPLOAD_RATE_LIMIT: '2', REST_RATE_LIMIT: '4' });
    try {
      const png = tinyPng(1, 1);
      const first = await upload(limited.url, 1, 'a', png, { username: 'ann' });
      expect((await upload(limited.url, 1, 'b', png, { username: 'ann' })).status).toBe(201);
      const third = await upload(limited.url, 1, 'c', png, { username: 'ann' });
      expect(third).toMatchObject({ status: 429, json: { code: 'rate_limited' } });
      expect(third.json.message).toContain('UPLOAD_RATE_LIMIT');
      expect(Number(third.headers['retry-after'])).toBeGreaterThan(0);
      // three uploads and one more request pass REST_RATE_LIMIT's four; downloads do not count
      for (let i = 0; i < 6; i++) {
        expect((await download(limited.url, first.json.id as string, 'ann')).status).toBe(200);
      }
      expect((await fetch(`${limited.url}/api/servers`)).status).toBe(200);
      expect((await fetch(`${limited.url}/api/servers`)).status).toBe(429);
    } finally {
      await limited.close();
    }
  });

  it('removes uploads no message took after UPLOAD_UNSENT_TTL, and bytes of no upload', async () => {
    // what a crash mid-upload leaves: a file of no upload, and one half written
    const dataDir = tempDir();
    const orphans = ['AAAAAAAAAAAAAAAAAAAAAA', 'BBBBBBBBBBBBBBBBBBBBBB.part'].map((name) =>
      path.join(dataDir, 'attachments', name),
    );
    fs.mkdirSync(path.join(dataDir, 'attachments'));
    const hourAgo = new Date(Date.now() - 3_600_000);
    for (const orphan of orphans) {
      fs.writeFileSync(orphan, 'left behind');
      fs.utimesSync(orphan, hourAgo, hourAgo);
    }
    const swept = await startTestChat({ UPLOAD_UNSENT_TTL: '1s', DATA_DIR: dataDir });
    try {
      await eventually(
        () => orphans.filter((orphan) => fs.existsSync(orphan)),
        (left) => left.length === 0,
      );
      const answer = await upload(swept.url, 1, 'late.png', tinyPng(1, 1), { username: 'ann' });
      const id = answer.json.id as string;
      const file = path.join(swept.dataDir, 'attachments', id);
      expect(fs.existsSync(file)).toBe(true);
      await eventually(
        async () => (await download(swept.url, id, 'ann')).status,
        (status) => status === 404,
      );
      await eventually(
        () => fs.existsSync(file),
        (exists) => !exists,
      );
      // too late to send it
      const { client } = await ChatClient.join(`${swept.wsUrl}/ws/1?username=ann`);
      expect(await change(client, { type: 'message', text: '', attachments: [id] })).toMatchObject({
        code: 'bad_attachment',
      });
      client.close();
    } finally {
      await swept.close();
    }
  });
});

describe('in accounts mode', () => {
  it('hides a private room’s uploads and attachments from who may not see it', async () => {
    const chat = await startAccountsChat();
    try {
      const olive = await chat.newUser('olive');
      const mona = await chat.newUser('mona');
      const room = (await olive.post('/api/servers', { name: 'inner', private: true })).body
        .id as number;
      const cookie = (client: typeof olive) => ({ cookie: client.cookie! });
      const post = (client: typeof olive, name: string) =>
        upload(chat.server.url, room, name, tinyPng(2, 1), {}, { headers: cookie(client) });
      // the uploader is the signed-in user; ?username= is no one's to claim
      const file = await post(olive, 'p.png');
      expect(file.status).toBe(201);
      expect(await post(mona, 'q.png')).toMatchObject({
        status: 404,
        json: { code: 'room_not_found' },
      });
      const get = (client: typeof olive) =>
        download(chat.server.url, file.json.id as string, 'olive', cookie(client));
      expect((await get(olive)).status).toBe(200);
      expect((await get(mona)).status).toBe(404);
      const { client: ws } = await olive.join(room);
      const id = `c-${randomUUID()}`;
      ws.send({ type: 'message', text: 'see', attachments: [file.json.id], client_id: id });
      await ws.until((f) => f.type === 'ack' && f.client_id === id);
      ws.close();
      // sent: every member reads it, nobody else
      expect((await get(mona)).status).toBe(404);
      await olive.post(`/api/servers/${room}/members`, { username: 'mona' });
      expect((await get(mona)).status).toBe(200);
      expect(await download(chat.server.url, file.json.id as string)).toMatchObject({
        status: 401,
      });
    } finally {
      await chat.server.close();
    }
  });
});
