/**
 * Limits of the WebSocket endpoint at their edge: CONNECTIONS_PER_ADDRESS, the send-buffer limit
 * (4408, which must not count a join's replay), and CLOSE_GRACE.
 */
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { startTestChat } from '../helpers/chat-server.ts';
import type { TestChat } from '../helpers/chat-server.ts';
import { eventually } from '../helpers/eventually.ts';
import { ChatClient } from '../helpers/ws-client.ts';

const servers: TestChat[] = [];
const clients: ChatClient[] = [];

async function start(env: Record<string, string>): Promise<TestChat> {
  const server = await startTestChat(env);
  servers.push(server);
  return server;
}

function connect(server: TestChat, path: string): ChatClient {
  const client = ChatClient.connect(server.wsUrl + path);
  clients.push(client);
  return client;
}

async function join(server: TestChat, path: string) {
  const joined = await ChatClient.join(server.wsUrl + path);
  clients.push(joined.client);
  return joined;
}

/** The HTTP answer to an upgrade the server refused. */
function refusal(client: ChatClient): Promise<{ status: number | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    client.socket.once('open', () => reject(new Error('the upgrade was accepted')));
    client.socket.once('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode, body }));
    });
  });
}

/** Sessions the gateway holds in rooms (the `chatroom_connections` gauge). */
async function openSessions(server: TestChat): Promise<number> {
  const metric = await server.chat.gateway!.metrics.connections.get();
  return metric.values[0]?.value ?? 0;
}

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  for (const server of servers.splice(0)) await server.close();
});

describe('CONNECTIONS_PER_ADDRESS', () => {
  it('refuses the upgrade past the limit with 429 rate_limited, and accepts again once one closes', async () => {
    const server = await start({ CONNECTIONS_PER_ADDRESS: '3' });
    const held: ChatClient[] = [];
    for (const name of ['a', 'b', 'c'])
      held.push((await join(server, `/ws/1?username=${name}`)).client);
    const refused = await refusal(connect(server, '/ws/1?username=d'));
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.body)).toMatchObject({
      code: 'rate_limited',
      message: expect.stringContaining('CONNECTIONS_PER_ADDRESS'),
    });
    // the three still work
    expect((await held[2]!.say('still here')).id).toBeGreaterThan(0);
    held[0]!.close();
    await eventually(
      () => openSessions(server),
      (open) => open === 2,
    );
    const { history } = await join(server, '/ws/1?username=d');
    expect(history.type).toBe('history');
    expect((await refusal(connect(server, '/ws/1?username=e'))).status).toBe(429);
  });

  it('counts connections refused after the upgrade (bad room) only while they are open', async () => {
    const server = await start({ CONNECTIONS_PER_ADDRESS: '1' });
    for (let i = 0; i < 3; i++) {
      expect((await connect(server, '/ws/999?username=a').waitClosed()).code).toBe(4404);
    }
    // the refused ones are closed: the one allowed connection is free
    await eventually(
      () => join(server, '/ws/1?username=a').then(({ history }) => history.type),
      (type) => type === 'history',
    );
  });
});

describe('the send-buffer limit and a join’s replay', () => {
  it('does not count a replay bigger than SEND_BUFFER_LIMIT: a client that reads normally stays', async () => {
    const server = await start({ SEND_BUFFER_LIMIT: '64KiB', RATE_LIMIT: '0' });
    const { client: writer } = await join(server, '/ws/1?username=writer');
    // 600 messages of 4000 U+0001, each 24 KB of JSON once escaped: a since=0 replay of 14 MB,
    // more than loopback's kernel buffers take at once, so most of it waits in the send buffer
    // (with history frames capped in bytes the kernel may take a whole replay; the rule itself is
    // tested in test/unit/chat-session.test.ts either way)
    // one at a time: the writer reads each 24 KB echo before it sends the next, so its own send
    // buffer stays far below the 64 KiB limit however slowly this process reads
    const text = '\u0001'.repeat(4000);
    for (let i = 0; i < 600; i++) await writer.say(text, `old-${i}`);

    for (let round = 0; round < 2; round++) {
      const reader = connect(server, `/ws/1?username=reader-${round}&since=0`);
      await new Promise((resolve) => reader.socket.once('open', resolve));
      // live messages are sent while the reader's replay is still on its way
      for (let i = 0; i < 10; i++) {
        writer.send({ type: 'message', text: `live ${round}.${i}`, client_id: `l-${round}-${i}` });
      }
      const history = await reader.next('history', 30_000);
      expect(history.messages.length).toBeGreaterThan(0);
      expect((await reader.next('presence')).total).toBeGreaterThanOrEqual(2);
      const live: string[] = [];
      while (live.at(-1) !== `live ${round}.9`) live.push((await reader.next('message')).text);
      expect(live).toEqual(Array.from({ length: 10 }, (_, i) => `live ${round}.${i}`));
      expect(reader.socket.readyState).toBe(reader.socket.OPEN);
      reader.close();
    }
    const slowClosed = await server.chat.gateway!.metrics.slowClosed.get();
    expect(slowClosed.values[0]?.value ?? 0).toBe(0);
  }, 120_000);
});

interface Stalled {
  /** The slow client's TCP socket: `resume()` makes it read again. */
  tcp: { pause(): void; resume(): void; localPort: number };
  slow: ChatClient;
  writer: ChatClient;
}

/**
 * A client whose TCP socket stops reading, and a writer that fills the room until the server has
 * given up on that client (observed in `chatroom_slow_clients_closed_total`). Kernel buffers
 * fill first, then the server's send buffer passes SEND_BUFFER_LIMIT.
 */
async function stallUntilClosedForSlowness(server: TestChat): Promise<Stalled> {
  const { client: slow } = await join(server, '/ws/1?username=slow');
  const { client: writer } = await join(server, '/ws/1?username=writer');
  const slowClosed = async () =>
    (await server.chat.gateway!.metrics.slowClosed.get()).values[0]?.value ?? 0;
  const tcp = (slow.socket as unknown as { _socket: Stalled['tcp'] })._socket;
  tcp.pause();
  const text = 'y'.repeat(4000);
  // 3,000 messages of 4 KB at most: far more than loopback's kernel buffers hold
  for (let batch = 0; batch < 300 && (await slowClosed()) === 0; batch++) {
    for (let i = 0; i < 10; i++) {
      writer.send({ type: 'message', text, client_id: `fill-${batch}-${i}` });
    }
    await writer.until((f) => f.type === 'ack' && f.client_id === `fill-${batch}-9`, 30_000);
  }
  expect(await slowClosed()).toBe(1);
  return { tcp, slow, writer };
}

describe('a client too slow to keep up (contract: close 4408)', () => {
  it('closes with 4408 a client that stops reading once its send buffer passes the limit', async () => {
    // The close frame waits behind everything the client has not read (megabytes in kernel
    // buffers): the client gets it if it reads again within CLOSE_GRACE, here generous.
    const server = await start({
      RATE_LIMIT: '0',
      SEND_BUFFER_LIMIT: '64KiB',
      CLOSE_GRACE: '60s',
      SHUTDOWN_TIMEOUT: '70s',
      // however long the filling takes, the paused client is not dropped for a missed pong
      PING_INTERVAL: '10m',
    });
    const { tcp, slow, writer } = await stallUntilClosedForSlowness(server);
    tcp.resume();
    expect((await slow.waitClosed(60_000)).code).toBe(4408);
    // every frame before the close arrived whole, in order; the writer is unaffected
    const ids = slow.frames.flatMap((f) => (f.type === 'message' ? [f.id] : []));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect((await writer.say('still fine')).id).toBeGreaterThan(0);
  }, 120_000);

  it('cuts the connection of a client that does not read again within CLOSE_GRACE: it sees 1006', async () => {
    const server = await start({
      RATE_LIMIT: '0',
      SEND_BUFFER_LIMIT: '64KiB',
      CLOSE_GRACE: '200ms',
    });
    const wss = server.chat.gateway!.app.websocketServer as { clients: Set<WebSocket> };
    const { tcp, slow, writer } = await stallUntilClosedForSlowness(server);
    // the server's end of the slow client's connection
    const serverSide = [...wss.clients].find(
      (ws) =>
        (ws as unknown as { _socket: { remotePort: number } })._socket.remotePort === tcp.localPort,
    );
    expect(serverSide).toBeDefined();
    if (serverSide!.readyState !== serverSide!.CLOSED) await once(serverSide!, 'close');
    tcp.resume();
    expect((await slow.waitClosed(60_000)).code).toBe(1006);
    expect((await writer.say('still fine')).id).toBeGreaterThan(0);
  }, 120_000);
});
