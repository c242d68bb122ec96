/**
 * The page's connection module (src/web/connection.js), the client library, under Node against
 * a real chat server over real WebSockets (the `ws` package's, cut or made to lose frames where
 * a test needs a broken network).
 */
import { describe, expect, it } from 'vitest';
import {
  connectionTestbed,
  NEVER_MS,
  nextEvent,
  recordEvents,
  testNetwork,
} from '../helpers/web-connection.ts';
import { startTestChat } from '../helpers/chat-server.ts';

const { startChat, connection, joined, observer } = connectionTestbed();

describe('the connection', () => {
  it('joins a room, says who is there, and carries messages, acks, typing and leaves', async () => {
    const chat = await startChat();
    const alice = connection(chat, testNetwork());
    const bob = connection(chat, testNetwork());
    const aliceEvents = recordEvents(alice, ['state', 'history', 'presence']);
    const presence = nextEvent(alice, 'presence');
    await joined(alice, 'alice');
    await presence;
    expect(aliceEvents).toEqual([
      ['state', { state: 'idle', attempt: 0 }],
      ['state', { state: 'connecting', attempt: 0 }],
      ['history', { messages: [], reset: false, more: false }],
      ['state', { state: 'connected', attempt: 0 }],
      ['presence', { type: 'presence', users: ['alice'], total: 1 }],
    ]);

    const bobJoins = nextEvent(alice, 'join');
    await joined(bob, 'bob');
    expect(await bobJoins).toEqual({ type: 'join', username: 'bob' });

    const bobSends = recordEvents(bob, ['pending']);
    const aliceGets = nextEvent(alice, 'message');
    const bobGets = nextEvent(bob, 'message');
    const sent = nextEvent(bob, 'pending', ({ state }) => state === 'sent');
    const pending = bob.send('hello alice');
    const { id } = await sent;
    const message = { id, server_id: 1, username: 'bob', text: 'hello alice' };
    expect(await aliceGets).toMatchObject(message);
    expect(await bobGets).toMatchObject(message);
    expect(bobSends.map(([, p]) => [p.state, p.clientId, p.id])).toEqual([
      ['sending', pending.clientId, 0],
      ['sent', pending.clientId, id],
    ]);
    expect(bob.pendingIn()).toEqual([]);
    expect(bob.position).toBe(id);

    const typing = nextEvent(alice, 'typing');
    expect(bob.typing()).toBe(true);
    expect(bob.typing()).toBe(false); // at most once per typingEveryMs
    expect(await typing).toEqual({ type: 'typing', username: 'bob' });

    const bobLeaves = nextEvent(alice, 'leave');
    bob.leave();
    expect(bob.state).toBe('idle');
    expect(await bobLeaves).toEqual({ type: 'leave', username: 'bob' });
  });

  it('reconnects by itself after the network fails, continuing with since= the last id seen', async () => {
    const chat = await startChat();
    const network = testNetwork();
    const alice = connection(chat, network, { backoffMinMs: 10 });
    await joined(alice, 'alice');
    const writer = await observer(chat);
    const seen = nextEvent(alice, 'message', (m) => m.text === 'seen before the failure');
    const { id } = await writer.say('seen before the failure');
    await seen;

    const states = recordEvents(alice, ['state']);
    const back = nextEvent(alice, 'state', ({ state }) => state === 'connected');
    network.cut();
    await back;
    expect(states.map(([, s]) => s)).toEqual([
      { state: 'reconnecting', attempt: 1 },
      { state: 'connecting', attempt: 1 },
      { state: 'connected', attempt: 0 },
    ]);
    expect(network.urls.at(-1)).toBe(`${chat.wsUrl}/ws/1?username=alice&since=${id}`);
  });

  it('gets exactly the messages it missed while away, once each', async () => {
    const chat = await startChat();
    const network = testNetwork();
    const alice = connection(chat, network, { backoffMinMs: NEVER_MS });
    await joined(alice, 'alice');
    const writer = await observer(chat);
    const seen = nextEvent(alice, 'message', (m) => m.text === 'before');
    await writer.say('before');
    await seen;

    const away = nextEvent(alice, 'state', ({ state }) => state === 'reconnecting');
    network.cut();
    await away;
    const missed = [await writer.say('one'), await writer.say('two'), await writer.say('three')];
    const history = nextEvent(alice, 'history');
    alice.retryNow();
    const { messages, reset, more } = await history;
    expect({ reset, more }).toEqual({ reset: false, more: false });
    expect(messages.map((m) => [m.id, m.text])).toEqual([
      [missed[0]!.id, 'one'],
      [missed[1]!.id, 'two'],
      [missed[2]!.id, 'three'],
    ]);
    expect(alice.position).toBe(missed[2]!.id);
  });

  it('pages over REST what a history frame with more left out, then goes on from the newest', async () => {
    const chat = await startChat({ RATE_LIMIT: '0' });
    const network = testNetwork();
    const alice = connection(chat, network, { backoffMinMs: NEVER_MS, pageLimit: 300 });
    await joined(alice, 'alice');
    const writer = await observer(chat);
    const seen = nextEvent(alice, 'message', (m) => m.text === 'seen before the failure');
    await writer.say('seen before the failure');
    await seen;
    const away = nextEvent(alice, 'state', ({ state }) => state === 'reconnecting');
    network.cut();
    await away;

    // More than one history frame holds (1000 messages): the rest comes as pages.
    const count = 1500;
    for (let i = 0; i < count; i++) {
      writer.send({ type: 'message', text: `m${i}`, client_id: `w${i}` });
    }
    let last = 0;
    for (let i = 0; i < count; i++) last = (await writer.next('ack')).id;

    const delivered: number[] = [];
    alice.on('history', ({ messages }) => delivered.push(...messages.map((m) => m.id)));
    alice.on('page', ({ messages }) => delivered.push(...messages.map((m) => m.id)));
    const pages = recordEvents(alice, ['history', 'page']);
    const caughtUp = nextEvent(alice, 'page', ({ messages }) => messages.at(-1)?.id === last);
    alice.retryNow();
    await caughtUp;
    expect(pages[0]).toMatchObject(['history', { more: true }]);
    expect(pages.length).toBeGreaterThan(2);
    expect(new Set(delivered).size).toBe(count);
    expect(delivered.slice().sort((a, b) => a - b)).toEqual(delivered);
    expect(alice.position).toBe(last);

    const live = nextEvent(alice, 'message', (m) => m.text === 'after the catch-up');
    const { id } = await writer.say('after the catch-up');
    await live;
    expect(alice.position).toBe(id);
  });

  it('stops at 4404 (no such room) and 4400 (name refused) instead of retrying', async () => {
    const chat = await startChat();
    const conn = connection(chat, testNetwork(), { backoffMinMs: 1 });
    const unknownRoom = nextEvent(conn, 'close');
    conn.join(999, 'alice');
    expect(await unknownRoom).toEqual({
      code: 4404,
      reason: expect.any(String),
      reconnecting: false,
    });
    expect(conn.state).toBe('closed');

    const refused = nextEvent(conn, 'close');
    conn.join(1, 'bell\u0007');
    expect(await refused).toEqual({ code: 4400, reason: expect.any(String), reconnecting: false });
    expect(conn.state).toBe('closed');
  });

  it('gives up a socket whose pings go unanswered, and reconnects', async () => {
    const chat = await startChat();
    const network = testNetwork();
    const alice = connection(chat, network, { pingMs: 30, backoffMinMs: NEVER_MS });
    await joined(alice, 'alice');
    const closes = recordEvents(alice, ['close']);

    network.lose.add('pong');
    await nextEvent(alice, 'state', ({ state }) => state === 'reconnecting');
    expect(closes).toEqual([]); // the socket never said it closed: the pings found out
    network.lose.clear();
    const back = nextEvent(alice, 'state', ({ state }) => state === 'connected');
    alice.retryNow();
    await back;
  });

  it('keeps trying while the server is down, each time a little later, and joins once it is up', async () => {
    const first = await startTestChat();
    const { port } = new URL(first.url);
    await first.close();
    const network = testNetwork();
    const alice = connection(first, network, { backoffMinMs: 4, backoffMaxMs: 40 });
    const attempts: number[] = [];
    alice.on('state', ({ state, attempt }) => {
      if (state === 'reconnecting') attempts.push(attempt);
    });
    const thirdTry = nextEvent(alice, 'state', ({ attempt }) => attempt === 3);
    alice.join(1, 'alice');
    await thirdTry;

    const back = nextEvent(alice, 'state', ({ state }) => state === 'connected');
    await startChat({ PORT: port, DATA_DIR: first.dataDir });
    expect((await back).attempt).toBe(0);
    expect(attempts.slice(0, 3)).toEqual([1, 2, 3]);
  });
});
