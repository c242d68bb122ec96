/**
 * Limits of the WebSocket endpoint at their edge: CONNECTIONS_PER_ADDRESS, and the send-buffer
 * limit that must not count a join's replay.
 */
import { afterEach, describe, expect, it } from 'vitest';
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
