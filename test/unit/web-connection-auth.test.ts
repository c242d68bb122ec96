/**
 * The client library (src/web/connection.js) outside open mode: its `token` option names the
 * user (on the WebSocket and on the REST catch-up), and a refusal of the credentials (4401) or
 * of the user (4403) stops it instead of reconnecting forever. A real server in accounts mode.
 */
import { describe, expect, it } from 'vitest';
import { ApiClient } from '../helpers/accounts.ts';
import { connectionTestbed, NEVER_MS, nextEvent, testNetwork } from '../helpers/web-connection.ts';
import type { TestChat } from '../helpers/chat-server.ts';

const { startChat, connection, joined } = connectionTestbed();

/** A server in accounts mode, its admin `alice`, and a personal access token of `bot`. */
async function accountsChat(env: Record<string, string> = {}) {
  const chat: TestChat = await startChat({ AUTH: 'accounts', REGISTRATION: 'open', ...env });
  const admin = new ApiClient(chat.url);
  await admin.register('alice', 'alice password');
  const bot = new ApiClient(chat.url);
  await bot.register('bot', 'bot password');
  const created = await bot.post('/api/tokens', { name: 'pingbot' });
  expect(created.status).toBe(201);
  return { chat, admin, bot, token: String(created.body.token), tokenId: String(created.body.id) };
}

describe('the connection with credentials', () => {
  it("joins as the token's user, whatever name it is given, and sends under that name", async () => {
    const { chat, token } = await accountsChat();
    const conn = connection(chat, testNetwork(), { token });
    const presence = nextEvent(conn, 'presence');
    await joined(conn, 'someone-else');
    expect(await presence).toMatchObject({ users: ['bot'] });

    const echoed = nextEvent(conn, 'message');
    const sent = nextEvent(conn, 'pending', ({ state }) => state === 'sent');
    conn.send('beep');
    await sent;
    expect(await echoed).toMatchObject({ username: 'bot', text: 'beep' });
  });

  it('stops at 4401 without credentials, and at 4401 when its token is revoked', async () => {
    const { chat, bot, token, tokenId } = await accountsChat();
    const network = testNetwork();
    const anonymous = connection(chat, network, { backoffMinMs: 1 });
    const refused = nextEvent(anonymous, 'close');
    anonymous.join(1, 'alice');
    expect(await refused).toEqual({ code: 4401, reason: expect.any(String), reconnecting: false });
    expect(anonymous.state).toBe('closed');

    const withToken = connection(chat, network, { token, backoffMinMs: 1 });
    await joined(withToken, 'bot');
    const opened = network.urls.length;
    const ended = nextEvent(withToken, 'close');
    expect((await bot.call('DELETE', `/api/tokens/${tokenId}`)).status).toBe(204);
    expect(await ended).toEqual({ code: 4401, reason: expect.any(String), reconnecting: false });
    expect(withToken.state).toBe('closed');
    // No new socket: a retry would only be refused again.
    expect(network.urls.length).toBe(opened);
  });

  it('stops at 4403 when its user is disabled', async () => {
    const { chat, admin, token } = await accountsChat();
    const conn = connection(chat, testNetwork(), { token, backoffMinMs: 1 });
    await joined(conn, 'bot');
    const closed = nextEvent(conn, 'close');
    const disabled = await admin.call('PATCH', '/api/users/bot', { disabled: true });
    expect(disabled.status).toBe(200);
    expect(await closed).toEqual({ code: 4403, reason: expect.any(String), reconnecting: false });
    expect(conn.state).toBe('closed');
  });

  it('pages the catch-up over REST with its token', async () => {
    const { chat, admin, token } = await accountsChat({ RATE_LIMIT: '0', REST_RATE_LIMIT: '0' });
    const network = testNetwork();
    const conn = connection(chat, network, { token, backoffMinMs: NEVER_MS, pageLimit: 500 });
    await joined(conn, 'bot');
    const { client: writer } = await admin.join(1);
    const seen = nextEvent(conn, 'message', (m) => m.text === 'seen before the failure');
    await writer.say('seen before the failure');
    await seen;
    const away = nextEvent(conn, 'state', ({ state }) => state === 'reconnecting');
    network.cut();
    await away;

    // More than one history frame holds (1000 messages): the rest comes as pages over REST.
    const count = 1200;
    for (let i = 0; i < count; i++) {
      writer.send({ type: 'message', text: `m${i}`, client_id: `w${i}` });
    }
    let last = 0;
    for (let i = 0; i < count; i++) last = (await writer.next('ack')).id;
    writer.close();

    const caughtUp = nextEvent(
      conn,
      'page',
      ({ messages }) => messages.at(-1)?.id === last,
      20_000,
    );
    const history = nextEvent(conn, 'history');
    conn.retryNow();
    const { more } = await history;
    await caughtUp;
    expect(more).toBe(true);
    expect(conn.position).toBe(last);
    expect(conn.state).toBe('connected');
  });
});
