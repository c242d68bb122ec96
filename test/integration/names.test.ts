/**
 * No lookalike identities (contract, "Messages"): the name rules over REST (room names) and the
 * WebSocket (`?username=`), on a real server.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLOSE } from '../../src/protocol.ts';
import { startTestChat } from '../helpers/chat-server.ts';
import type { TestChat } from '../helpers/chat-server.ts';
import { ChatClient } from '../helpers/ws-client.ts';

let server: TestChat;
const clients: ChatClient[] = [];

beforeAll(async () => {
  // More rooms than ROOM_CREATE_LIMIT allows one address a minute: that limit is off here.
  server = await startTestChat({ ROOM_CREATE_LIMIT: '0' });
});

afterEach(() => {
  for (const client of clients.splice(0)) client.close();
});

afterAll(async () => {
  await server.close();
});

async function createRoom(name: string) {
  const response = await fetch(`${server.url}/api/servers`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

function connect(username: string): ChatClient {
  const client = ChatClient.connect(
    `${server.wsUrl}/ws/1?username=${encodeURIComponent(username)}`,
  );
  clients.push(client);
  return client;
}

describe('room names over REST', () => {
  it('refuses general with a zero-width space beside general: 400 invalid_room_name', async () => {
    for (const name of ['general\u200b', '\u200bgeneral', 'gen\u200deral', 'gen\u202eeral']) {
      const refused = await createRoom(name);
      expect(refused.status, JSON.stringify(name)).toBe(400);
      expect(refused.body).toMatchObject({
        code: 'invalid_room_name',
        message: expect.any(String),
      });
    }
  });

  it('takes a decomposed name as the composed one: stored NFC, and the other spelling is 409', async () => {
    const created = await createRoom('ge\u0301ne\u0301ral-news');
    expect(created.status).toBe(201);
    expect(created.body.name).toBe('g\u00e9n\u00e9ral-news');
    const rooms = (await (await fetch(`${server.url}/api/servers`)).json()) as Array<{
      name: string;
    }>;
    expect(rooms.map((room) => room.name)).toContain('g\u00e9n\u00e9ral-news');
    const again = await createRoom('g\u00e9n\u00e9ral-news');
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'room_name_taken' });
  });

  it('refuses lookalikes of general (case, full-width, styled letters) with 409 room_name_taken', async () => {
    for (const name of ['General', 'GENERAL', 'ｇｅｎｅｒａｌ', 'ＧＥＮＥＲＡＬ', '𝐠𝐞𝐧𝐞𝐫𝐚𝐥']) {
      const taken = await createRoom(name);
      expect(taken.status, name).toBe(409);
      expect(taken.body).toMatchObject({ code: 'room_name_taken' });
    }
    expect((await createRoom('Straße')).status).toBe(201);
    expect((await createRoom('STRASSE')).status).toBe(409);
  });

  it('counts a room name in code points after NFC: 64 decomposed é fit', async () => {
    const created = await createRoom('e\u0301'.repeat(64));
    expect(created.status).toBe(201);
    expect(created.body.name).toBe('\u00e9'.repeat(64));
    expect((await createRoom('x'.repeat(65))).status).toBe(400);
  });
});

describe('usernames on the WebSocket', () => {
  it.each([
    ['a right-to-left override', 'alice\u202eevil'],
    ['a zero-width space', 'alice\u200b'],
    ['a line separator', 'ali\u2028ce'],
    ['an invisible isolate', '\u2066bob\u2069'],
  ])('closes with 4400 a username with %s', async (_what, username) => {
    const client = connect(username);
    expect((await client.waitClosed()).code).toBe(CLOSE.badRequest);
  });

  it('names a decomposed username in NFC, the way a composed one is named', async () => {
    const client = connect(' Zoe\u0308 ');
    const presence = await client.next('presence');
    expect(presence.users).toContain('Zo\u00eb');
    const { id } = await client.say('hello');
    const message = await client.until((frame) => frame.type === 'message' && frame.id === id);
    expect(message).toMatchObject({ username: 'Zo\u00eb', text: 'hello' });
  });
});
