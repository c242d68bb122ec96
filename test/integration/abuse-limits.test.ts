/**
 * Abuse limits (contract, "Identity and access"): REST_RATE_LIMIT on /api/ routes and
 * ROOM_CREATE_LIMIT on room creation, per client address, each at its edge; `0` turns each off;
 * TRUST_PROXY decides whether the address (and the scheme) come from X-Forwarded-* headers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestChat } from '../helpers/chat-server.ts';
import type { TestChat } from '../helpers/chat-server.ts';
import { httpRequest } from '../helpers/http.ts';
import type { HttpAnswer } from '../helpers/http.ts';

const servers: TestChat[] = [];
const sockets: WebSocket[] = [];

async function start(env: Record<string, string>): Promise<TestChat> {
  const server = await startTestChat(env);
  servers.push(server);
  return server;
}

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.terminate();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

let rooms = 0;
function createRoom(server: TestChat, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  rooms += 1;
  return httpRequest(`${server.url}/api/servers`, {
    method: 'POST',
    headers,
    json: { name: `limited-${rooms}` },
  });
}

/** A 429 in the catalogue's shape, naming the variable, with a Retry-After within the minute. */
function expectRateLimited(answer: HttpAnswer, variable: string): void {
  expect(answer.status).toBe(429);
  expect(answer.body).toEqual({
    statusCode: 429,
    code: 'rate_limited',
    error: 'Too Many Requests',
    message: expect.stringContaining(variable),
  });
  const retryAfter = Number(answer.headers['retry-after']);
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
}

function upgrade(server: TestChat, headers: Record<string, string> = {}): Promise<number> {
  const socket = new WebSocket(`${server.wsUrl}/ws/1?username=alice`, { headers });
  sockets.push(socket);
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(101));
    socket.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
    socket.once('error', reject);
  });
}

describe('REST_RATE_LIMIT', () => {
  it('passes the N-th /api/ request of a minute and answers the next 429 with Retry-After', async () => {
    const server = await start({ REST_RATE_LIMIT: '4', ROOM_CREATE_LIMIT: '0' });
    const routes = ['/api/servers', '/api/servers/1', '/api/servers/1/messages', '/api/nope'];
    for (const route of routes) {
      expect((await httpRequest(server.url + route)).status, route).not.toBe(429);
    }
    expectRateLimited(await httpRequest(`${server.url}/api/servers`), 'REST_RATE_LIMIT');
    expectRateLimited(await createRoom(server), 'REST_RATE_LIMIT');
  });

  it('counts /api/ routes only: the page, docs, health, metrics and WebSockets stay open', async () => {
    const server = await start({ REST_RATE_LIMIT: '1' });
    expect((await httpRequest(`${server.url}/api/servers`)).status).toBe(200);
    expect((await httpRequest(`${server.url}/api/servers`)).status).toBe(429);
    for (const route of ['/', '/app.js', '/docs/json', '/openapi.json', '/healthz', '/metrics']) {
      expect((await httpRequest(server.url + route)).status, route).toBe(200);
    }
    expect(await upgrade(server)).toBe(101);
  });

  it('counts a route reached through a percent-encoded path like the plain one', async () => {
    const server = await start({ REST_RATE_LIMIT: '1' });
    expect((await httpRequest(`${server.url}/api/servers`)).status).toBe(200);
    expect((await httpRequest(`${server.url}/%61pi/servers`)).status).toBe(429);
  });

  it('is off with 0', async () => {
    const server = await start({ REST_RATE_LIMIT: '0' });
    // more than the default 600 in a minute
    for (let batch = 0; batch < 31; batch++) {
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => httpRequest(`${server.url}/api/servers/1`)),
      );
      expect(answers.map((answer) => answer.status)).toEqual(Array(20).fill(200));
    }
  });
});

describe('ROOM_CREATE_LIMIT', () => {
  it('lets one address create 10 rooms a minute by default, and refuses the 11th', async () => {
    const server = await start({});
    for (let i = 1; i <= 10; i++) expect((await createRoom(server)).status, `room ${i}`).toBe(201);
    expectRateLimited(await createRoom(server), 'ROOM_CREATE_LIMIT');
    // other API requests are not room creations
    expect((await httpRequest(`${server.url}/api/servers`)).status).toBe(200);
  });

  it('passes the N-th creation and refuses the next with 429 and Retry-After', async () => {
    const server = await start({ ROOM_CREATE_LIMIT: '3' });
    for (let i = 1; i <= 3; i++) expect((await createRoom(server)).status, `room ${i}`).toBe(201);
    expectRateLimited(await createRoom(server), 'ROOM_CREATE_LIMIT');
  });

  it('is off with 0', async () => {
    const server = await start({ ROOM_CREATE_LIMIT: '0' });
    for (let i = 1; i <= 15; i++) expect((await createRoom(server)).status, `room ${i}`).toBe(201);
  });
});

describe('the client address without TRUST_PROXY', () => {
  it('ignores X-Forwarded-For: a forged one does not dodge the REST limit', async () => {
    const server = await start({ REST_RATE_LIMIT: '2' });
    for (const forged of ['10.0.0.1', '10.0.0.2']) {
      const answer = await httpRequest(`${server.url}/api/servers`, {
        headers: { 'x-forwarded-for': forged },
      });
      expect(answer.status).toBe(200);
    }
    const dodge = await httpRequest(`${server.url}/api/servers`, {
      headers: { 'x-forwarded-for': '10.0.0.3' },
    });
    expectRateLimited(dodge, 'REST_RATE_LIMIT');
  });

  it('ignores X-Forwarded-For for room creation and CONNECTIONS_PER_ADDRESS', async () => {
    const server = await start({ ROOM_CREATE_LIMIT: '1', CONNECTIONS_PER_ADDRESS: '1' });
    expect((await createRoom(server, { 'x-forwarded-for': '10.0.0.1' })).status).toBe(201);
    expectRateLimited(
      await createRoom(server, { 'x-forwarded-for': '10.0.0.2' }),
      'ROOM_CREATE_LIMIT',
    );
    expect(await upgrade(server, { 'x-forwarded-for': '10.0.0.1' })).toBe(101);
    expect(await upgrade(server, { 'x-forwarded-for': '10.0.0.2' })).toBe(429);
  });
});

describe('the client address with TRUST_PROXY', () => {
  // The test client is the proxy: it connects from 127.0.0.1.
  const PROXY = { TRUST_PROXY: '127.0.0.1' };

  it('counts each forwarded address on its own for the REST limit', async () => {
    const server = await start({ ...PROXY, REST_RATE_LIMIT: '2' });
    const from = (address: string) =>
      httpRequest(`${server.url}/api/servers`, { headers: { 'x-forwarded-for': address } });
    expect((await from('10.0.0.1')).status).toBe(200);
    expect((await from('10.0.0.1')).status).toBe(200);
    expectRateLimited(await from('10.0.0.1'), 'REST_RATE_LIMIT');
    expect((await from('10.0.0.2')).status).toBe(200);
    // the client is the nearest address the trusted proxy did not add: a client's own
    // X-Forwarded-For entries in front of it change nothing
    expectRateLimited(await from('192.0.2.7, 10.0.0.1'), 'REST_RATE_LIMIT');
  });

  it('counts each forwarded address on its own for room creation and CONNECTIONS_PER_ADDRESS', async () => {
    const server = await start({ ...PROXY, ROOM_CREATE_LIMIT: '1', CONNECTIONS_PER_ADDRESS: '1' });
    expect((await createRoom(server, { 'x-forwarded-for': '10.0.0.1' })).status).toBe(201);
    expectRateLimited(
      await createRoom(server, { 'x-forwarded-for': '10.0.0.1' }),
      'ROOM_CREATE_LIMIT',
    );
    expect((await createRoom(server, { 'x-forwarded-for': '10.0.0.2' })).status).toBe(201);
    expect(await upgrade(server, { 'x-forwarded-for': '10.0.0.1' })).toBe(101);
    expect(await upgrade(server, { 'x-forwarded-for': '10.0.0.1' })).toBe(429);
    expect(await upgrade(server, { 'x-forwarded-for': '10.0.0.2' })).toBe(101);
  });

  it('takes the scheme from X-Forwarded-Proto for the gateway’s own origin', async () => {
    const server = await start(PROXY);
    const host = new URL(server.url).host;
    const https = { origin: `https://${host}`, 'x-forwarded-proto': 'https' };
    expect(await upgrade(server, https)).toBe(101);
    expect(await upgrade(server, { origin: `https://${host}` })).toBe(403);
  });

  it('trusts only the listed proxies: X-Forwarded-For from another peer is ignored', async () => {
    const server = await start({ TRUST_PROXY: '10.9.9.9', REST_RATE_LIMIT: '1' });
    const from = (address: string) =>
      httpRequest(`${server.url}/api/servers`, { headers: { 'x-forwarded-for': address } });
    expect((await from('10.0.0.1')).status).toBe(200);
    expectRateLimited(await from('10.0.0.2'), 'REST_RATE_LIMIT');
  });
});
