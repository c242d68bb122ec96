/**
 * Sending through the page's connection (src/web/connection.js, outbox.js): each message keeps
 * its client_id until its ack, through reconnects, lost acks and the rate limit, and reaches the
 * room exactly once. Real server, real WebSockets.
 */
import { describe, expect, it } from 'vitest';
import {
  connectionTestbed,
  NEVER_MS,
  nextEvent,
  recordEvents,
  testNetwork,
} from '../helpers/web-connection.ts';
import type { TestNetwork } from '../helpers/web-connection.ts';
import type { ChatClient } from '../helpers/ws-client.ts';
import type { ChatConnection, ConnectionOptions } from '../../src/web/connection.js';

const testbed = connectionTestbed();

/** A chat with alice joined to room 1 through the connection, and an observer beside her. */
async function setUp(
  env: Record<string, string> = {},
  options: Partial<ConnectionOptions> = {},
): Promise<{ alice: ChatConnection; network: TestNetwork; observer: ChatClient }> {
  const chat = await testbed.startChat(env);
  const network = testNetwork();
  const alice = testbed.connection(chat, network, options);
  await testbed.joined(alice, 'alice');
  return { alice, network, observer: await testbed.observer(chat) };
}

/** The texts of the messages the observer sees up to its own marker message. */
async function textsUpToMarker(observer: ChatClient): Promise<string[]> {
  await observer.say('marker');
  const texts: string[] = [];
  for (;;) {
    const { text } = await observer.next('message');
    if (text === 'marker') return texts;
    texts.push(text);
  }
}

/** Cuts alice's socket and waits until she is waiting to reconnect. */
async function cut(alice: ChatConnection, network: TestNetwork): Promise<void> {
  const away = nextEvent(alice, 'state', ({ state }) => state === 'reconnecting');
  network.cut();
  await away;
}

describe('sending', () => {
  it('keeps a message written while disconnected, and sends it once the connection is back', async () => {
    const { alice, network, observer } = await setUp({}, { backoffMinMs: NEVER_MS });
    await cut(alice, network);
    const states = recordEvents(alice, ['pending']);

    const pending = alice.send('written offline');
    expect(pending.state).toBe('waiting');
    expect(alice.pendingIn()).toEqual([pending]);
    const sent = nextEvent(alice, 'pending', ({ state }) => state === 'sent');
    alice.retryNow();
    await sent;

    expect(states.map(([, p]) => p.state)).toEqual(['waiting', 'sending', 'sent']);
    expect(alice.pendingIn()).toEqual([]);
    expect(await textsUpToMarker(observer)).toEqual(['written offline']);
  });

  it('resends a message whose ack was lost, with the same client_id, making no duplicate', async () => {
    const { alice, network, observer } = await setUp({}, { backoffMinMs: NEVER_MS });
    network.lose.add('ack');
    const own = nextEvent(alice, 'message', (m) => m.text === 'only once');
    const pending = alice.send('only once');
    const { id } = await own;
    await cut(alice, network);
    expect(alice.pendingIn()).toEqual([pending]);

    network.lose.clear();
    const sent = nextEvent(alice, 'pending', ({ state }) => state === 'sent');
    alice.retryNow();
    // The resend's ack: the first message's id, through the same client_id.
    expect(await sent).toMatchObject({ clientId: pending.clientId, id });
    expect(await textsUpToMarker(observer)).toEqual(['only once']);
  });

  it('retries messages refused with rate_limited until each is sent, once', async () => {
    const { alice, observer } = await setUp({ RATE_LIMIT: '1' }, { retryMs: 200 });
    const states = recordEvents(alice, ['pending']);
    const texts = ['one', 'two', 'three', 'four'];
    const allSent = new Promise<void>((resolve) => {
      let left = texts.length;
      alice.on('pending', ({ state }) => {
        if (state === 'sent' && --left === 0) resolve();
      });
    });
    for (const text of texts) alice.send(text);
    await allSent;

    // A bucket of 2: two went at once, the others were refused and retried.
    expect(states.filter(([, p]) => p.state === 'retrying').length).toBeGreaterThanOrEqual(2);
    const ids = states.filter(([, p]) => p.state === 'sent').map(([, p]) => p.id);
    expect(new Set(ids).size).toBe(texts.length);
    expect((await textsUpToMarker(observer)).sort()).toEqual([...texts].sort());
  });

  it('gives up a message the server refuses for good, and says why', async () => {
    const { alice } = await setUp({ MAX_MESSAGE_CHARS: '5' });
    const error = nextEvent(alice, 'error');
    const pending = alice.send('longer than five');
    expect(await error).toMatchObject({
      type: 'error',
      code: 'too_long',
      client_id: pending.clientId,
      pending: { clientId: pending.clientId, state: 'failed' },
    });
    expect(pending.error).toMatch(/at most 5 characters/);
    expect(alice.pendingIn()).toEqual([]);
  });
});
