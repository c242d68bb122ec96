import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ChatClient } from '../helpers/ws-client.ts';
import { startTestChat } from '../helpers/chat-server.ts';
import type { TestChat } from '../helpers/chat-server.ts';
import { createRoom } from '../helpers/history.ts';

let server: TestChat;
const clients: ChatClient[] = [];

function connect(path: string, options?: WebSocket.ClientOptions): ChatClient {
  const client = ChatClient.connect(server.wsUrl + path, options);
  clients.push(client);
  return client;
}

async function join(path: string, options?: WebSocket.ClientOptions) {
  const joined = await ChatClient.join(server.wsUrl + path, options);
  clients.push(joined.client);
  return joined;
}

const newRoom = (name: string): Promise<number> => createRoom(server.url, name);

beforeAll(async () => {
  // More rooms than ROOM_CREATE_LIMIT allows one address a minute: that limit is off here
  // (test/integration/abuse-limits.test.ts tests it).
  server = await startTestChat({ RATE_LIMIT: '0', ROOM_CREATE_LIMIT: '0' });
});

afterEach(() => {
  for (const client of clients.splice(0)) client.close();
});

afterAll(async () => {
  await server.close();
});

describe('joining a room', () => {
  it('sends history (with last_id 0 for an empty room) and then presence including the joiner', async () => {
    const room = await newRoom('join-empty');
    const client = connect(`/ws/${room}?username=alice`);
    const history = await client.next('history');
    expect(history).toEqual({
      type: 'history',
      messages: [],
      updates: [],
      last_id: 0,
      last_seq: 0,
    });
    expect(client.frames[1]).toEqual({ type: 'presence', users: ['alice'], total: 1 });
  });

  it('replays the last 50 of 60 messages, oldest first, with last_id the newest id', async () => {
    const room = await newRoom('replay-60');
    const { client: writer } = await join(`/ws/${room}?username=writer`);
    const ids: number[] = [];
    for (let i = 1; i <= 60; i++) ids.push((await writer.say(`message ${i}`)).id);
    const { history } = await join(`/ws/${room}?username=reader`);
    expect(history.messages).toHaveLength(50);
    expect(history.messages.map((m) => m.text)).toEqual(
      Array.from({ length: 50 }, (_, i) => `message ${i + 11}`),
    );
    expect(history.messages.map((m) => m.id)).toEqual(ids.slice(10));
    expect(history.last_id).toBe(ids[59]);
  });

  it('with since=ID sends exactly the messages after ID', async () => {
    const room = await newRoom('since');
    const { client: writer } = await join(`/ws/${room}?username=writer`);
    const ids: number[] = [];
    for (let i = 1; i <= 5; i++) ids.push((await writer.say(`m${i}`)).id);
    const { history } = await join(`/ws/${room}?username=late&since=${ids[1]}`);
    expect(history.messages.map((m) => m.text)).toEqual(['m3', 'm4', 'm5']);
    expect(history.last_id).toBe(ids[4]);
    // the client's position: every change up to it is in the frame (no edits here: no updates)
    expect(history.last_seq).toBe(ids[4]);
    expect(history.updates).toEqual([]);
    expect(history.reset).toBeUndefined();
    const { history: upToDate } = await join(`/ws/${room}?username=late2&since=${ids[4]}`);
    expect(upToDate.messages).toEqual([]);
    expect(upToDate.last_id).toBe(ids[4]);
  });

  it('answers a since past the newest id like a fresh join, with reset: true', async () => {
    const room = await newRoom('since-reset');
    const { client: writer } = await join(`/ws/${room}?username=writer`);
    const { id } = await writer.say('only');
    const { history } = await join(`/ws/${room}?username=late&since=${id + 1000}`);
    expect(history.reset).toBe(true);
    expect(history.messages.map((m) => m.text)).toEqual(['only']);
    expect(history.last_id).toBe(id);
  });

  it('caps a since catch-up at 1000 messages with more: true; REST after= pages the rest', async () => {
    const room = await newRoom('since-more');
    const { client: writer } = await join(`/ws/${room}?username=writer`);
    for (let i = 0; i < 1005; i++)
      writer.send({ type: 'message', text: `n${i}`, client_id: `n${i}` });
    await writer.until((f) => f.type === 'ack' && f.client_id === 'n1004', 20_000);
    const { history } = await join(`/ws/${room}?username=late&since=0`);
    expect(history.messages).toHaveLength(1000);
    expect(history.more).toBe(true);
    const lastReplayed = history.messages[999]!.id;
    const rest = (await (
      await fetch(`${server.url}/api/servers/${room}/messages?after=${lastReplayed}&limit=1000`)
    ).json()) as Array<{ id: number; text: string }>;
    expect(rest.map((m) => m.text)).toEqual(['n1000', 'n1001', 'n1002', 'n1003', 'n1004']);
    expect(rest[4]!.id).toBe(history.last_id);
  });

  it('loses and repeats nothing for clients joining while others send', async () => {
    const room = await newRoom('join-during-sends');
    const { client: writer } = await join(`/ws/${room}?username=writer`);
    const total = 300;
    const joiners: Array<Promise<{ client: ChatClient; seen: number[] }>> = [];
    for (let i = 0; i < total; i++) {
      writer.send({ type: 'message', text: `burst ${i}`, client_id: `b${i}` });
      if (i % 30 === 15) {
        joiners.push(
          (async () => {
            const { client, history } = await join(`/ws/${room}?username=j${i}`);
            return { client, seen: history.messages.map((m) => m.id) };
          })(),
        );
      }
    }
    const lastAck = await writer.until((f) => f.type === 'ack' && f.client_id === `b${total - 1}`);
    const lastId = (lastAck as { id: number }).id;
    for (const joined of await Promise.all(joiners)) {
      const seen = [...joined.seen];
      while (seen[seen.length - 1] !== lastId) {
        seen.push((await joined.client.next('message')).id);
      }
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen).toEqual([...seen].sort((a, b) => a - b));
      // from its first replayed message on, the joiner saw every message of the room
      const all = (await (
        await fetch(`${server.url}/api/servers/${room}/messages?after=${seen[0]! - 1}&limit=1000`)
      ).json()) as Array<{ id: number }>;
      expect(seen).toEqual(all.map((m) => m.id));
    }
  });
});

describe('sending messages', () => {
  it('delivers a message to everyone in the room, the sender included, and acks the sender', async () => {
    const room = await newRoom('delivery');
    const { client: alice } = await join(`/ws/${room}?username=alice`);
    const { client: bob } = await join(`/ws/${room}?username=bob`);
    alice.send({ type: 'message', text: 'hello bob', client_id: 'x1' });
    const [atBob] = await bob.messages(1);
    const [atAlice] = await alice.messages(1);
    const ack = await alice.next('ack');
    expect(atBob).toEqual(atAlice);
    expect(atBob).toMatchObject({
      type: 'message',
      server_id: room,
      username: 'alice',
      text: 'hello bob',
    });
    expect(atBob!.ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(ack).toEqual({ type: 'ack', client_id: 'x1', id: atBob!.id, seq: atBob!.id });
    expect(bob.frames.some((f) => f.type === 'ack')).toBe(false);
  });

  it('takes a text frame that is not a JSON object as the message text, exactly as sent', async () => {
    const room = await newRoom('raw-text');
    const { client } = await join(`/ws/${room}?username=alice`);
    for (const raw of ['  plain text  ', '[1,2]', '"quoted"', '42', '<b>not html</b> &amp;']) {
      client.send(raw);
      const message = await client.next('message');
      expect(message.text).toBe(raw);
    }
  });

  it('accepts 4000 characters (code points, emoji included) and refuses 4001 with too_long', async () => {
    const room = await newRoom('length');
    const { client } = await join(`/ws/${room}?username=alice`);
    const max = '😀'.repeat(4000);
    expect((await client.say(max)).id).toBeGreaterThan(0);
    expect((await client.next('message')).text).toBe(max);
    client.send({ type: 'message', text: 'a'.repeat(4001), client_id: 'long' });
    expect(await client.next('error')).toMatchObject({ code: 'too_long', client_id: 'long' });
  });

  it('refuses empty and white-space-only messages with empty', async () => {
    const room = await newRoom('empty');
    const { client } = await join(`/ws/${room}?username=alice`);
    for (const text of ['', '   ', '\n\t ']) {
      client.send({ type: 'message', text, client_id: 'e' });
      expect(await client.next('error')).toMatchObject({
        type: 'error',
        code: 'empty',
        client_id: 'e',
      });
    }
  });

  it('answers bad frames with bad_request and keeps the connection open', async () => {
    const room = await newRoom('bad-frames');
    const { client } = await join(`/ws/${room}?username=alice`);
    const bad: unknown[] = [
      { type: 'nope' },
      { text: 'no type' },
      { type: 'message', text: 42 },
      { type: 'message', text: 'hi', client_id: 7 },
      { type: 'message', text: 'hi', client_id: 'x'.repeat(65) },
      { type: 'message', text: 'hi', client_id: '' },
    ];
    for (const frame of bad) {
      client.send(frame);
      expect(await client.next('error')).toMatchObject({ code: 'bad_request' });
    }
    client.socket.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(await client.next('error')).toMatchObject({ code: 'bad_request' });
    expect((await client.say('still here')).id).toBeGreaterThan(0);
  });

  it('answers ping with pong', async () => {
    const room = await newRoom('ping');
    const { client } = await join(`/ws/${room}?username=alice`);
    client.send({ type: 'ping' });
    expect(await client.next('pong')).toEqual({ type: 'pong' });
  });

  it('never stores a resent client_id twice, whatever its text, and acks it with the same id', async () => {
    const room = await newRoom('idempotent');
    const { client: alice } = await join(`/ws/${room}?username=alice`);
    const first = await alice.say('once', 'same-id');
    const again = await alice.say('different text', 'same-id');
    expect(again.id).toBe(first.id);
    // a later message proves no second message frame was sent in between
    const later = await alice.say('later');
    const texts = alice.frames.filter((f) => f.type === 'message').map((f) => f.text);
    expect(texts).toEqual(['once', 'later']);
    expect(later.id).toBeGreaterThan(first.id);
    // the same client_id from another user, or in another room, is a new message
    const { client: bob } = await join(`/ws/${room}?username=bob`);
    expect((await bob.say('bob too', 'same-id')).id).not.toBe(first.id);
    const history = (await (
      await fetch(`${server.url}/api/servers/${room}/messages`)
    ).json()) as unknown[];
    expect(history).toHaveLength(3);
  });

  it('acks a resend after a reconnect with the id of the first send', async () => {
    const room = await newRoom('idempotent-reconnect');
    const { client } = await join(`/ws/${room}?username=alice`);
    const first = await client.say('hello', 'retry-1');
    client.close();
    const { client: again } = await join(`/ws/${room}?username=alice&since=${first.id}`);
    expect((await again.say('hello', 'retry-1')).id).toBe(first.id);
  });
});

describe('typing and presence', () => {
  it('tells the others who is typing, but not the typer', async () => {
    const room = await newRoom('typing');
    const { client: alice } = await join(`/ws/${room}?username=alice`);
    const { client: bob } = await join(`/ws/${room}?username=bob`);
    alice.send({ type: 'typing' });
    expect(await bob.next('typing')).toEqual({ type: 'typing', username: 'alice' });
    await alice.say('after typing');
    expect(alice.frames.some((f) => f.type === 'typing')).toBe(false);
  });

  it('sends join on a first connection and leave on the last, not to the connection that caused it', async () => {
    const room = await newRoom('presence');
    const { client: alice } = await join(`/ws/${room}?username=alice`);
    const { client: bob, presence } = await join(`/ws/${room}?username=bob`);
    expect(presence.users).toEqual(['alice', 'bob']);
    expect(await alice.next('join')).toEqual({ type: 'join', username: 'bob' });
    expect(bob.frames.some((f) => f.type === 'join')).toBe(false);

    const { client: bob2 } = await join(`/ws/${room}?username=bob`);
    bob2.close();
    await bob2.closed;
    bob.close();
    expect(await alice.next('leave')).toEqual({ type: 'leave', username: 'bob' });
    // bob's second tab opened and closed without any join/leave frame reaching alice
    expect(alice.frames.filter((f) => f.type === 'join' || f.type === 'leave')).toHaveLength(2);
    const users = await (await fetch(`${server.url}/api/servers/${room}/presence`)).json();
    expect(users).toEqual(['alice']);
  });

  it('batches presence into presence_diff frames in rooms past the threshold', async () => {
    const small = await startTestChat({
      PRESENCE_BATCH_THRESHOLD: '3',
      PRESENCE_DIFF_INTERVAL: '100ms',
    });
    try {
      const watcher = await ChatClient.join(`${small.wsUrl}/ws/1?username=watcher`);
      const others: ChatClient[] = [];
      for (const name of ['u1', 'u2', 'u3', 'u4', 'u5']) {
        others.push((await ChatClient.join(`${small.wsUrl}/ws/1?username=${name}`)).client);
      }
      // watcher + u1 + u2 = 3 users: single join frames; u3 makes 4 > 3: batched from then on
      expect(await watcher.client.next('join')).toEqual({ type: 'join', username: 'u1' });
      expect(await watcher.client.next('join')).toEqual({ type: 'join', username: 'u2' });
      const diff = await watcher.client.next('presence_diff');
      const joined = new Set(diff.joins);
      while (joined.size < 3) {
        for (const name of (await watcher.client.next('presence_diff')).joins) joined.add(name);
      }
      expect([...joined].sort()).toEqual(['u3', 'u4', 'u5']);
      expect(watcher.client.frames.filter((f) => f.type === 'join')).toHaveLength(2);
      for (const other of others) other.close();
      watcher.client.close();
    } finally {
      await small.close();
    }
  });
});

describe('refused connections', () => {
  it('closes with 4404 for an unknown or malformed room id, before looking at the username', async () => {
    for (const path of [
      '/ws/999999?username=alice',
      '/ws/abc?username=alice',
      '/ws/0',
      '/ws/-1?username=a',
    ]) {
      expect((await connect(path).waitClosed()).code).toBe(4404);
    }
  });

  it('closes with 4400 for a missing or invalid username or since', async () => {
    const long = 'x'.repeat(33);
    for (const query of [
      '',
      '?username=',
      '?username=%20%20',
      `?username=${long}`,
      '?username=a%07b',
      '?username=ok&since=abc',
      '?username=ok&since=-1',
    ]) {
      expect((await connect(`/ws/1${query}`).waitClosed()).code).toBe(4400);
    }
  });

  it('accepts 32-character and Unicode usernames, trimmed', async () => {
    const { presence } = await join(
      `/ws/1?username=${encodeURIComponent('  Zoë_' + 'x'.repeat(27) + ' ')}`,
    );
    expect(presence.users).toContain('Zoë_' + 'x'.repeat(27));
  });

  it('closes with 1009 a frame larger than 64 KiB', async () => {
    const { client } = await join('/ws/1?username=big');
    client.send('x'.repeat(64 * 1024 + 1));
    expect((await client.waitClosed()).code).toBe(1009);
  });

  it('refuses browsers from foreign origins before the upgrade and allows its own pages', async () => {
    const foreign = connect('/ws/1?username=alice', { origin: 'http://evil.example' });
    const status = await new Promise<number | undefined>((resolve) =>
      foreign.socket.once('unexpected-response', (_req, res) => resolve(res.statusCode)),
    );
    expect(status).toBe(403);
    const own = await join('/ws/1?username=alice', { origin: server.url });
    expect(own.history.type).toBe('history');
  });
});

describe('limits', () => {
  it('keeps a frame of exactly 64 KiB (refusing its text as too_long) and closes one byte more with 1009', async () => {
    const { client } = await join('/ws/1?username=edge');
    client.send('x'.repeat(64 * 1024));
    expect(await client.next('error')).toMatchObject({ code: 'too_long' });
    expect((await client.say('still open')).id).toBeGreaterThan(0);
  });

  it('passes on at most one typing frame per TYPING_THROTTLE', async () => {
    const room = await newRoom('typing-throttle');
    const { client: alice } = await join(`/ws/${room}?username=alice`);
    const { client: bob } = await join(`/ws/${room}?username=bob`);
    for (let i = 0; i < 5; i++) alice.send({ type: 'typing' });
    const marker = await alice.say('marker');
    await bob.until((f) => f.type === 'message' && f.id === marker.id);
    expect(bob.frames.filter((f) => f.type === 'typing')).toHaveLength(1);
  });

  it('forgets a client_id after DEDUPE_WINDOW: a later resend is a new message', async () => {
    const short = await startTestChat({ DEDUPE_WINDOW: '1s' });
    try {
      const { client } = await ChatClient.join(`${short.wsUrl}/ws/1?username=alice`);
      const first = await client.say('hello', 'window-1');
      expect((await client.say('hello', 'window-1')).id).toBe(first.id);
      // the window is a span of time; nothing to await but its end
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect((await client.say('hello', 'window-1')).id).toBeGreaterThan(first.id);
      client.close();
    } finally {
      await short.close();
    }
  });

  it('replays HISTORY_REPLAY messages: 0 sends an empty history with the newest id', async () => {
    const none = await startTestChat({ HISTORY_REPLAY: '0', RATE_LIMIT: '0' });
    try {
      const { client } = await ChatClient.join(`${none.wsUrl}/ws/1?username=alice`);
      const { id } = await client.say('one');
      const { client: late, history } = await ChatClient.join(`${none.wsUrl}/ws/1?username=late`);
      expect(history).toEqual({
        type: 'history',
        messages: [],
        updates: [],
        last_id: id,
        last_seq: id,
      });
      client.close();
      late.close();
    } finally {
      await none.close();
    }
  });

  it('rate-limits a connection past RATE_LIMIT messages per second (bucket of twice that)', async () => {
    const limited = await startTestChat({ RATE_LIMIT: '5' });
    try {
      const { client } = await ChatClient.join(`${limited.wsUrl}/ws/1?username=fast`);
      for (let i = 0; i < 12; i++)
        client.send({ type: 'message', text: `m${i}`, client_id: `r${i}` });
      const answers = new Map<string, string>();
      while (answers.size < 12) {
        const frame = await client.until((f) => f.type === 'ack' || f.type === 'error');
        if (frame.type === 'ack' || frame.type === 'error')
          answers.set(frame.client_id!, frame.type);
      }
      const refused = [...answers.values()].filter((t) => t === 'error').length;
      expect(refused).toBeGreaterThanOrEqual(1);
      expect(refused).toBeLessThanOrEqual(2);
      expect(answers.get('r0')).toBe('ack');
      expect(answers.get('r9')).toBe('ack');
      expect(client.frames.find((f) => f.type === 'error')).toMatchObject({ code: 'rate_limited' });
      client.close();
    } finally {
      await limited.close();
    }
  });

  it('closes connections that stop answering server pings', async () => {
    const fast = await startTestChat({ PING_INTERVAL: '100ms' });
    try {
      const deaf = ChatClient.connect(`${fast.wsUrl}/ws/1?username=deaf`, { autoPong: false });
      await deaf.next('presence');
      const healthy = await ChatClient.join(`${fast.wsUrl}/ws/1?username=healthy`);
      await deaf.waitClosed(5000);
      // the healthy client answered several pings meanwhile and is still served
      expect((await healthy.client.say('alive')).id).toBeGreaterThan(0);
      expect(healthy.client.socket.readyState).toBe(WebSocket.OPEN);
      healthy.client.close();
    } finally {
      await fast.close();
    }
  });
});
