/**
 * Contract, WebSocket 2: "in a room of more than 1000 users, the first 1000 sorted names, `total`,
 * and `"more": true` (the rest through REST presence paging)". Real WebSockets at the edge.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRESENCE_PAGE_LIMIT } from '../../src/domain/presence.ts';
import { startTestChat } from '../helpers/chat-server.ts';
import type { TestChat } from '../helpers/chat-server.ts';
import { ChatClient } from '../helpers/ws-client.ts';
import { createRoom } from '../helpers/history.ts';

let server: TestChat;
const clients: ChatClient[] = [];

const newRoom = (name: string): Promise<number> => createRoom(server.url, name);

async function presence(room: number, query = ''): Promise<string[]> {
  const response = await fetch(`${server.url}/api/servers/${room}/presence${query}`);
  expect(response.status).toBe(200);
  return (await response.json()) as string[];
}

async function join(room: number, username: string) {
  const joined = await ChatClient.join(
    `${server.wsUrl}/ws/${room}?username=${encodeURIComponent(username)}`,
  );
  clients.push(joined.client);
  return joined;
}

beforeAll(async () => {
  // every test client comes from 127.0.0.1: 0 turns the per-address limit off
  server = await startTestChat({ CONNECTIONS_PER_ADDRESS: '0' });
});

afterAll(async () => {
  for (const client of clients.splice(0)) client.close();
  await server.close();
});

describe('the presence frame', () => {
  it('holds every name up to the cap, then the first names sorted, total and more: true', async () => {
    const room = await newRoom('crowded');
    const names = Array.from(
      { length: PRESENCE_PAGE_LIMIT - 1 },
      (_, i) => `user-${String(i).padStart(4, '0')}`,
    );
    for (let i = 0; i < names.length; i += 50) {
      await Promise.all(names.slice(i, i + 50).map((name) => join(room, name)));
    }
    // the 1000th user: every name, no more
    const atCap = await join(room, 'zz-last');
    expect(atCap.presence.users).toHaveLength(PRESENCE_PAGE_LIMIT);
    expect(atCap.presence.total).toBe(PRESENCE_PAGE_LIMIT);
    expect(atCap.presence.more).toBeUndefined();
    expect(atCap.presence.users).toEqual([...names, 'zz-last']);

    // the 1001st sorts first: the frame has it and the first 999 others; zz-last is left out
    const past = await join(room, 'aa-first');
    expect(past.presence).toEqual({
      type: 'presence',
      users: ['aa-first', ...names],
      total: PRESENCE_PAGE_LIMIT + 1,
      more: true,
    });

    // REST pages the rest, after the frame's last name
    expect(await presence(room)).toEqual(['aa-first', ...names]);
    expect(await presence(room, `?after=${names.at(-1)}`)).toEqual(['zz-last']);
    expect(await presence(room, '?after=zz-last')).toEqual([]);
    expect(await presence(room, '?limit=3&after=user-0996')).toEqual([
      'user-0997',
      'user-0998',
      'zz-last',
    ]);
  }, 180_000);

  it('sorts by code point in the frame and in REST: U+FF21 before U+1F600', async () => {
    const room = await newRoom('code points');
    for (const name of ['😀', 'Ａ', 'z']) await join(room, name);
    const { presence: frame } = await join(room, '\ue000');
    expect(frame.users).toEqual(['z', '\ue000', 'Ａ', '😀']);
    expect(frame.total).toBe(4);
    expect(await presence(room)).toEqual(['z', '\ue000', 'Ａ', '😀']);
    expect(await presence(room, `?after=${encodeURIComponent('Ａ')}`)).toEqual(['😀']);
  });
});
