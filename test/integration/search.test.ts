/**
 * Search in embedded mode (contract, "Search"): words, prefixes, phrases, from: and in:, case and
 * diacritics ignored, newest first with `before=` paging, match offsets; the limits of `q` and
 * `limit`; an edit changes what is found and a delete takes the message (and its words, from
 * every file under DATA_DIR) away at once; only what the caller may read now is found: a private
 * room's messages never reach a non-member, a DM only its two members.
 */
import fs from 'node:fs';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SearchPage } from '../../src/domain/history.ts';
import type { Room } from '../../src/domain/rooms.ts';
import { ApiClient, startAccountsChat } from '../helpers/accounts.ts';
import type { AccountsChat } from '../helpers/accounts.ts';
import { startTestChat } from '../helpers/chat-server.ts';
import type { TestChat } from '../helpers/chat-server.ts';
import { eventually } from '../helpers/eventually.ts';
import { createRoom, filesUnder } from '../helpers/history.ts';
import { ChatClient } from '../helpers/ws-client.ts';

let server: TestChat;
const sockets: ChatClient[] = [];

beforeAll(async () => {
  server = await startTestChat({ RATE_LIMIT: '0', ROOM_CREATE_LIMIT: '0', REST_RATE_LIMIT: '0' });
});

afterAll(async () => {
  for (const socket of sockets) socket.close();
  await server.close();
});

/** A word no other test uses: letters only, so that it is one word to the index. */
function unique(prefix = 'w'): string {
  return (
    prefix +
    randomUUID()
      .replace(/[^a-f]/g, '')
      .slice(0, 12)
  );
}

async function join(room: number, username: string): Promise<ChatClient> {
  const { client } = await ChatClient.join(
    `${server.wsUrl}/ws/${room}?username=${encodeURIComponent(username)}`,
  );
  sockets.push(client);
  return client;
}

async function search(query: string, base = server.url) {
  const response = await fetch(`${base}/api/search?${query}`);
  return { status: response.status, body: (await response.json()) as SearchPage };
}

const q = (text: string, extra = '') => `q=${encodeURIComponent(text)}${extra}`;
const ids = (page: SearchPage) => page.results.map((hit) => hit.message.id);

describe('the query language', () => {
  it('finds whole words, case and diacritics ignored, with their room and match offsets', async () => {
    const word = unique();
    const room = await createRoom(server.url, `cafés ${word}`);
    const ann = await join(room, 'ann');
    const cafe = await ann.say(`Un CAFÉ ${word}, s’il vous plaît`);
    await ann.say(`${word}s are not ${word}x`);
    const found = await search(q(`cafe ${word.toUpperCase()}`));
    expect(found.status).toBe(200);
    expect(found.body).toEqual({
      results: [
        {
          message: expect.objectContaining({
            id: cafe.id,
            server_id: room,
            username: 'ann',
            text: `Un CAFÉ ${word}, s’il vous plaît`,
            seq: cafe.id,
          }),
          room: { id: room, name: `cafés ${word}` },
          matches: [
            [3, 7],
            [8, 8 + word.length],
          ],
        },
      ],
      more: false,
    });
  });

  it('finds prefixes, and phrases only with their words next to each other, in order', async () => {
    const word = unique();
    const ann = await join(1, 'ann');
    const prefixed = await ann.say(`${word}ing along`);
    const phrase = await ann.say(`red ${word} green`);
    const apart = await ann.say(`${word} red and green`);
    expect(ids((await search(q(`${word}*`))).body)).toEqual([apart.id, phrase.id, prefixed.id]);
    const together = await search(q(`"red ${word} green"`));
    expect(ids(together.body)).toEqual([phrase.id]);
    // one span per word, also inside a phrase
    expect(together.body.results[0]!.matches).toEqual([
      [0, 3],
      [4, 4 + word.length],
      [5 + word.length, 10 + word.length],
    ]);
    expect(ids((await search(q(`"green red" ${word}`))).body)).toEqual([]);
    // words anywhere: AND
    expect(ids((await search(q(`green ${word} red`))).body)).toEqual([apart.id, phrase.id]);
  });

  it('narrows by from: and in:, names compared without case; an unknown room finds nothing', async () => {
    const word = unique();
    const room = await createRoom(server.url, `Team Room ${word}`);
    const zoe = await join(room, 'Zoe Smith');
    const bob = await join(room, 'bob');
    const inGeneral = await join(1, 'bob');
    const byZoe = await zoe.say(`${word} from zoe`);
    const byBob = await bob.say(`${word} from bob`);
    const elsewhere = await inGeneral.say(`${word} in general`);
    expect(ids((await search(q(`${word} from:"zoe SMITH"`))).body)).toEqual([byZoe.id]);
    expect(ids((await search(q(`${word} FROM:BOB`))).body)).toEqual([elsewhere.id, byBob.id]);
    expect(ids((await search(q(`${word} in:"team room ${word}"`))).body)).toEqual([
      byBob.id,
      byZoe.id,
    ]);
    expect(ids((await search(q(`${word} in:GENERAL from:bob`))).body)).toEqual([elsewhere.id]);
    expect(ids((await search(q(`${word} in:nowhere-${word}`))).body)).toEqual([]);
    expect(ids((await search(q(`${word} from:bob from:"zoe smith"`))).body)).toEqual([]);
    // from: alone is a query; its matches are no words
    const byName = await search(q(`from:"Zoe Smith" in:"team room ${word}"`));
    expect(byName.body.results).toEqual([expect.objectContaining({ matches: [] })]);
  });

  it('treats FTS5 syntax in q as plain words', async () => {
    const word = unique();
    const ann = await join(1, 'ann');
    const sent = await ann.say(`${word} OR NEAR not - a "quote"`);
    for (const text of [`${word} OR`, `${word} NEAR(`, `${word} -`, `${word} "quote`]) {
      expect(ids((await search(q(text))).body), text).toEqual([sent.id]);
    }
    expect(ids((await search(q(`${word} OR nothing${word}`))).body)).toEqual([]);
  });
});

describe('pages', () => {
  it('come newest first, `limit` at a time, the next with before= the last id', async () => {
    const word = unique();
    const ann = await join(1, 'ann');
    const sent: number[] = [];
    for (let i = 0; i < 25; i++) sent.push((await ann.say(`${word} number ${i}`)).id);
    const newest = [...sent].reverse();
    const first = await search(q(word, '&limit=10'));
    expect(first.body.more).toBe(true);
    expect(ids(first.body)).toEqual(newest.slice(0, 10));
    const second = await search(q(word, `&limit=10&before=${newest[9]}`));
    expect(ids(second.body)).toEqual(newest.slice(10, 20));
    const third = await search(q(word, `&limit=10&before=${newest[19]}`));
    expect(third.body).toMatchObject({ more: false });
    expect(ids(third.body)).toEqual(newest.slice(20));
    // 20 by default
    expect(ids((await search(q(word))).body)).toEqual(newest.slice(0, 20));
    expect(ids((await search(q(word, '&limit=100'))).body)).toEqual(newest);
  });
});

describe('refusals', () => {
  it.each([
    ['no q', ''],
    ['an empty q', 'q='],
    ['201 code points', q('x'.repeat(201))],
    ['201 astral code points', q('😀'.repeat(201))],
    ['11 terms', q('a b c d e f g h i j k')],
    ['only in:', q('in:general')],
    ['only punctuation', q('!!!')],
    ['a one-character prefix', q('a*')],
  ])('%s: 400 bad_query', async (_what, query) => {
    const answer = await search(query);
    expect(answer).toMatchObject({ status: 400, body: { code: 'bad_query' } });
  });

  it('accepts the edges: 1 and 200 code points, 10 terms', async () => {
    for (const text of ['x', 'x'.repeat(200), 'a b c d e f g h i j', '😀'.repeat(199) + 'y']) {
      expect((await search(q(text))).status, text).toBe(200);
    }
  });

  it.each([
    ['limit=0', '&limit=0'],
    ['limit=101', '&limit=101'],
    ['limit=abc', '&limit=abc'],
    ['limit=1.5', '&limit=1.5'],
    ['before=0', '&before=0'],
    ['before=-1', '&before=-1'],
    ['a repeated q', '&q=again'],
    ['an unknown parameter', '&sort=old'],
  ])('%s: 400 bad_request', async (_what, extra) => {
    expect(await search(q('hello', extra))).toMatchObject({
      status: 400,
      body: { code: 'bad_request' },
    });
  });

  it('accepts limit 1 and 100, and open mode’s ?username=', async () => {
    for (const extra of ['&limit=1', '&limit=100', '&username=ann']) {
      expect((await search(q('hello', extra))).status, extra).toBe(200);
    }
  });
});

describe('changes', () => {
  it('an edit is found by its new text at once, no longer by the old', async () => {
    const [before, after] = [unique('old'), unique('new')];
    const ann = await join(1, 'ann');
    const sent = await ann.say(`the ${before} plan`);
    expect(ids((await search(q(before))).body)).toEqual([sent.id]);
    ann.send({ type: 'edit', id: sent.id, text: `the ${after} plan`, client_id: 'e1' });
    await ann.until((f) => f.type === 'ack' && f.client_id === 'e1');
    expect(ids((await search(q(before))).body)).toEqual([]);
    const found = await search(q(after));
    expect(found.body.results).toEqual([
      expect.objectContaining({
        message: expect.objectContaining({ id: sent.id, text: `the ${after} plan` }),
      }),
    ]);
  });

  it('a delete takes the message out at once, and its words from every file within 60 s', async () => {
    const word = unique('zq');
    const ann = await join(1, 'ann');
    const kept = await ann.say(`${unique()} kept`);
    const sent = await ann.say(`secret ${word}`);
    expect(ids((await search(q(word))).body)).toEqual([sent.id]);
    ann.send({ type: 'delete', id: sent.id, client_id: 'd1' });
    await ann.until((f) => f.type === 'ack' && f.client_id === 'd1');
    expect(ids((await search(q(word))).body)).toEqual([]);
    expect(ids((await search(q(`${word.slice(0, 3)}*`))).body)).not.toContain(sent.id);
    expect(ids((await search(q('kept'))).body)).toContain(kept.id);
    // the index keeps words as folded (lower case): the word, or the end of it a page stores
    const tail = word.slice(4);
    const holding = () =>
      filesUnder(server.dataDir).filter((file) => fs.readFileSync(file).includes(tail));
    expect(await eventually(holding, (files) => files.length === 0, 60_000)).toEqual([]);
  }, 70_000);
});

describe('what a caller may read (accounts mode)', () => {
  let chat: AccountsChat;
  const open: ChatClient[] = [];

  beforeAll(async () => {
    chat = await startAccountsChat();
  });

  afterAll(async () => {
    for (const socket of open) socket.close();
    await chat.server.close();
  });

  async function say(client: ApiClient, room: number, text: string): Promise<number> {
    const { client: socket } = await client.join(room);
    open.push(socket);
    return (await socket.say(text)).id;
  }

  const found = async (client: ApiClient, text: string) =>
    ((await client.get(`/api/search?${q(text)}`)).body as SearchPage).results.map(
      (hit) => hit.message.id,
    );

  it('a private room’s messages reach its members and the admins, never others, also by in:', async () => {
    const word = unique();
    const owner = await chat.newUser('pia');
    const member = await chat.newUser('mo');
    const outsider = await chat.newUser('olaf');
    const room = (await owner.post('/api/servers', { name: `secrets ${word}`, private: true }))
      .body as Room;
    await owner.post(`/api/servers/${room.id}/members`, { username: 'mo' });
    const id = await say(owner, room.id, `the ${word} is hidden`);
    expect(await found(owner, word)).toEqual([id]);
    expect(await found(member, `${word} from:PIA`)).toEqual([id]);
    expect(await found(chat.admin, word)).toEqual([id]);
    expect(await found(outsider, word)).toEqual([]);
    expect(await found(outsider, `${word} in:"secrets ${word}"`)).toEqual([]);
    expect(await found(outsider, 'from:pia')).toEqual([]);
    // removed: not any more (what they may read now)
    expect((await owner.call('DELETE', `/api/servers/${room.id}/members/mo`)).status).toBe(204);
    expect(await found(member, word)).toEqual([]);
  });

  it('a DM’s messages reach its two members only, admins excluded', async () => {
    const word = unique();
    const ada = await chat.newUser('ada');
    await chat.newUser('ben');
    const ben = new ApiClient(chat.server.url);
    await ben.login('ben', 'a good password');
    const carl = await chat.newUser('carl');
    const dm = (await ada.post('/api/dms', { username: 'ben' })).body as Room;
    const id = await say(ada, dm.id, `psst ${word}`);
    expect(await found(ada, word)).toEqual([id]);
    const answer = await ben.get(`/api/search?${q(word)}`);
    expect(answer.body).toMatchObject({ results: [{ room: { id: dm.id, name: null } }] });
    expect(await found(carl, word)).toEqual([]);
    expect(await found(chat.admin, word)).toEqual([]);
  });

  it('needs credentials: 401 without, a token works', async () => {
    const anonymous = new ApiClient(chat.server.url);
    expect(await anonymous.get(`/api/search?${q('hello')}`)).toMatchObject({
      status: 401,
      body: { code: 'unauthenticated' },
    });
    const token = (await chat.admin.post('/api/tokens', { name: 'search bot' })).body
      .token as string;
    const bot = new ApiClient(chat.server.url);
    bot.bearer = token;
    expect((await bot.get(`/api/search?${q('hello')}`)).status).toBe(200);
  });
});

describe('REST_RATE_LIMIT', () => {
  it('counts searches: past it, 429 rate_limited', async () => {
    const limited = await startTestChat({ REST_RATE_LIMIT: '2' });
    try {
      expect((await search(q('a'), limited.url)).status).toBe(200);
      expect((await search(q('b'), limited.url)).status).toBe(200);
      expect(await search(q('c'), limited.url)).toMatchObject({
        status: 429,
        body: { code: 'rate_limited' },
      });
    } finally {
      await limited.close();
    }
  });
});
