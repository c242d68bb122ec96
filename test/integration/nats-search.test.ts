/**
 * Search in NATS mode (contract, "Search"): a nats-server of the test's own, one history service
 * and two gateways (processes, accounts mode). The history service owns the index and answers
 * over request/reply: a message sent through gateway A is found through gateway B once stored,
 * an edit and a delete change what is found; a private room's messages never reach a
 * non-member, a DM only its two members; with the history service killed, a search is
 * `503 unavailable` within the request timeout, and a bad query still `400 bad_query`.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SearchPage } from '../../src/domain/history.ts';
import type { Room } from '../../src/domain/rooms.ts';
import { ApiClient } from '../helpers/accounts.ts';
import { spawnChat, tempDir } from '../helpers/chat-server.ts';
import type { ChatProcess } from '../helpers/chat-server.ts';
import { eventually } from '../helpers/eventually.ts';
import {
  natsAccountsEnv,
  startGateways,
  onGateway as on,
  registeredOn as registered,
} from '../helpers/nats-chat.ts';
import { TestNatsServer } from '../helpers/nats-server.ts';
import type { ChatClient } from '../helpers/ws-client.ts';

const SECRET = randomUUID() + randomUUID();

let nats: TestNatsServer;
let history: ChatProcess;
let gatewayA: ChatProcess;
let gatewayB: ChatProcess;
const sockets: ChatClient[] = [];

// the contract's 5 s for a search in NATS mode
const env = (dataDir: string) =>
  natsAccountsEnv(nats.url, dataDir, SECRET, {
    ROOM_CREATE_LIMIT: '0',
    NATS_REQUEST_TIMEOUT: '5s',
  });

beforeAll(async () => {
  nats = await TestNatsServer.start();
  history = await spawnChat(env(tempDir()), ['history']);
  [gatewayA, gatewayB] = await startGateways(env);
  await registered(gatewayA, 'root');
}, 90_000);

afterAll(async () => {
  for (const socket of sockets) socket.close();
  for (const process of [gatewayA, gatewayB, history]) await process?.stop('SIGKILL');
  await nats?.stop();
});

/** Sends `text` to the room as `client` (a socket of its own); answers the message's id. */
async function say(client: ApiClient, room: number, text: string): Promise<number> {
  const { client: socket } = await client.join(room);
  sockets.push(socket);
  return (await socket.say(text)).id;
}

const word = () =>
  `w${randomUUID()
    .replace(/[^a-f]/g, '')
    .slice(0, 12)}`;

async function found(client: ApiClient, q: string): Promise<number[]> {
  const answer = await client.get(`/api/search?q=${encodeURIComponent(q)}`);
  if (answer.status !== 200) throw new Error(`search answered ${JSON.stringify(answer)}`);
  return (answer.body as SearchPage).results.map((hit) => hit.message.id);
}

/** What `q` finds once the history service stored something it finds (NATS mode: not at once). */
const stored = (client: ApiClient, q: string) =>
  eventually(
    () => found(client, q),
    (ids) => ids.length > 0,
  );

describe('search across gateways (NATS mode)', () => {
  it('finds on B what was sent on A once stored; an edit and a delete change what is found', async () => {
    const [before, after] = [word(), word()];
    const ann = await registered(gatewayA, 'ann');
    const { client: socket } = await ann.join(1);
    sockets.push(socket);
    const sent = await socket.say(`the ${before} plan`);
    const annOnB = on(gatewayB, ann);
    expect(await stored(annOnB, before)).toEqual([sent.id]);
    const page = await annOnB.get(`/api/search?q=${before}%20from:ANN%20in:general`);
    expect(page.body).toEqual({
      results: [
        {
          message: expect.objectContaining({ id: sent.id, username: 'ann' }),
          room: { id: 1, name: 'general' },
          matches: [[4, 4 + before.length]],
        },
      ],
      more: false,
    });

    socket.send({ type: 'edit', id: sent.id, text: `the ${after} plan`, client_id: 'e1' });
    await socket.until((f) => f.type === 'ack' && f.client_id === 'e1');
    expect(await stored(annOnB, after)).toEqual([sent.id]);
    expect(await found(annOnB, before)).toEqual([]);

    socket.send({ type: 'delete', id: sent.id, client_id: 'd1' });
    await socket.until((f) => f.type === 'ack' && f.client_id === 'd1');
    // the ack of a change in NATS mode comes once the history service applied it
    expect(await found(annOnB, after)).toEqual([]);
  });

  it('never gives a private room’s messages to a non-member, nor a DM’s to a third user', async () => {
    const secret = word();
    const owner = await registered(gatewayA, 'pia');
    const member = await registered(gatewayB, 'mo');
    const outsider = await registered(gatewayB, 'olaf');
    const created = await owner.post('/api/servers', { name: `vault ${secret}`, private: true });
    const room = created.body as Room;
    expect((await owner.post(`/api/servers/${room.id}/members`, { username: 'mo' })).status).toBe(
      201,
    );
    const sent = await say(owner, room.id, `the ${secret} is here`);
    // stored: the member finds it through the other gateway
    expect(await stored(member, secret)).toEqual([sent]);
    expect(await found(outsider, secret)).toEqual([]);
    expect(await found(outsider, `${secret} in:"vault ${secret}"`)).toEqual([]);
    expect(await found(outsider, 'from:pia')).toEqual([]);

    const dm = (await owner.post('/api/dms', { username: 'mo' })).body as Room;
    const whisper = await say(owner, dm.id, `psst ${secret}`);
    expect(await stored(member, `psst ${secret}`)).toEqual([whisper]);
    expect(await found(outsider, `psst ${secret}`)).toEqual([]);
    const admin = new ApiClient(gatewayB.url);
    await admin.login('root', 'a good password');
    expect(await found(admin, `psst ${secret}`)).toEqual([]);
    expect(await found(admin, `${secret} is here`)).toEqual([sent]);
  });

  it('answers 503 unavailable within the request timeout while the history service is down', async () => {
    const ann = new ApiClient(gatewayA.url);
    await ann.login('ann', 'a good password');
    await history.stop('SIGKILL');
    const started = Date.now();
    expect(await ann.get('/api/search?q=hello')).toMatchObject({
      status: 503,
      body: { code: 'unavailable' },
    });
    // 5 s, with room for a loaded machine
    expect(Date.now() - started).toBeLessThan(10_000);
    // a bad query is refused by the gateway itself
    expect(await ann.get('/api/search?q=in:general')).toMatchObject({
      status: 400,
      body: { code: 'bad_query' },
    });
  });
});
