/**
 * The client library's unread counts (src/web/connection.js) against a real chat server
 * (embedded mode, open mode): `unread` and `mention` events reach a connection whatever room it
 * is in, and `read(id)` on one connection clears the count on the user's other one.
 */
import { describe, expect, it } from 'vitest';
import { whenSent } from '../../src/web/outbox.js';
import { connectionTestbed, nextEvent, testNetwork } from '../helpers/web-connection.ts';

const { startChat, connection, joined } = connectionTestbed();

describe('unread counts through the connection', () => {
  it('tells every connection of the user, and read() on one clears the other', async () => {
    const chat = await startChat();
    const created = await fetch(`${chat.url}/api/servers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'side' }),
    });
    const side = ((await created.json()) as { id: number }).id;
    const reader = connection(chat, testNetwork());
    const elsewhere = connection(chat, testNetwork());
    const writer = connection(chat, testNetwork());
    const inSide = async (conn: typeof reader, username: string) => {
      const connected = nextEvent(conn, 'state', ({ state }) => state === 'connected');
      conn.join(side, username);
      await connected;
    };
    await inSide(reader, 'bob');
    await joined(elsewhere, 'bob');
    await inSide(writer, 'amy');

    const counted = nextEvent(elsewhere, 'unread', (u) => u.server_id === side && u.unread === 1);
    const mentioned = nextEvent(elsewhere, 'mention', (m) => m.server_id === side);
    const sent = await whenSent(writer, writer.send('@bob news'));
    await counted;
    expect(await mentioned).toMatchObject({ reason: 'mention', message: { id: sent.id } });

    const cleared = nextEvent(elsewhere, 'unread', (u) => u.server_id === side && u.unread === 0);
    expect(reader.read(sent.id)).toBe(true);
    expect(await cleared).toMatchObject({ last_read: sent.id, mentions: 0 });
  });
});
