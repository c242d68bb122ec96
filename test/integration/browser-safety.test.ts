/**
 * Browser safety (contract, "Identity and access", "Abuse limits"): the safety headers on every
 * route, the WebSocket's Origin check (scheme, host and port whole; DNS rebinding), and the
 * refusal of state-changing API requests from foreign origins.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestChat } from '../helpers/chat-server.ts';
import type { TestChat } from '../helpers/chat-server.ts';
import { httpRequest } from '../helpers/http.ts';
import type { HttpAnswer } from '../helpers/http.ts';

let server: TestChat;
let port: string;
const sockets: WebSocket[] = [];

beforeAll(async () => {
  server = await startTestChat({ ALLOWED_ORIGINS: 'https://chat.example.com' });
  port = new URL(server.url).port;
});

afterEach(() => {
  for (const socket of sockets.splice(0)) socket.terminate();
});

afterAll(async () => {
  await server.close();
});

/** The CSP as directive → its sources. */
function policy(answer: HttpAnswer): Map<string, string[]> {
  const header = answer.headers['content-security-policy'];
  expect(typeof header, 'a Content-Security-Policy header').toBe('string');
  return new Map(
    String(header)
      .split(';')
      .map((part) => part.trim().split(/\s+/))
      .filter((words) => words[0])
      .map(([name = '', ...sources]) => [name, sources]),
  );
}

describe('safety headers', () => {
  const ROUTES = [
    '/',
    '/index.html',
    '/app.js',
    '/style.css',
    '/docs',
    '/docs/static/swagger-ui.css',
    '/docs/json',
    '/openapi.json',
    '/api/servers',
    '/api/servers/1/messages',
    '/api/servers/424242',
    '/healthz',
    '/readyz',
    '/metrics',
    '/no/such/route',
  ];

  it.each(ROUTES)('sends the CSP, nosniff and no-referrer with %s', async (route) => {
    const answer = await httpRequest(server.url + route);
    expect(answer.status, route).toBeLessThan(500);
    const csp = policy(answer);
    expect(csp.get('default-src')).toEqual(["'self'"]);
    expect(csp.get('script-src')).toEqual(["'self'"]);
    // /docs: also the one inline style of swagger-ui's logo, by its hash
    expect(csp.get('style-src')).toEqual(
      route.startsWith('/docs') ? ["'self'", expect.stringMatching(/^'sha256-/)] : ["'self'"],
    );
    // 'self' covers the page's own ws: and wss: (CSP level 3); `ws:` alone would allow any host
    expect(csp.get('connect-src')).toEqual(["'self'"]);
    expect(csp.get('frame-ancestors')).toEqual(["'none'"]);
    expect(csp.get('object-src')).toEqual(["'none'"]);
    expect(csp.get('base-uri')).toEqual(["'none'"]);
    expect(csp.get('form-action')).toEqual(["'self'"]);
    expect(answer.headers['x-content-type-options']).toBe('nosniff');
    expect(answer.headers['referrer-policy']).toBe('no-referrer');
    expect(answer.headers['x-frame-options']).toBe('DENY');
  });

  it('sends them with refusals too (a 403 and a bad request)', async () => {
    const refused = await httpRequest(`${server.url}/api/servers`, {
      method: 'POST',
      headers: { origin: 'http://evil.example' },
      json: { name: 'csrf' },
    });
    expect(refused.status).toBe(403);
    expect(policy(refused).get('frame-ancestors')).toEqual(["'none'"]);
    const bad = await httpRequest(`${server.url}/api/servers/abc`);
    expect(bad.status).toBe(400);
    expect(bad.headers['x-content-type-options']).toBe('nosniff');
  });

  it('leaves Strict-Transport-Security to the TLS proxy', async () => {
    const answer = await httpRequest(`${server.url}/`);
    expect(answer.headers['strict-transport-security']).toBeUndefined();
  });
});

/** The HTTP status of a WebSocket upgrade: 101 when it opened, else the refusal's. */
function upgrade(headers: Record<string, string>, path = '/ws/1?username=alice'): Promise<number> {
  const socket = new WebSocket(`${server.wsUrl}${path}`, { headers });
  sockets.push(socket);
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(101));
    socket.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
    socket.once('error', reject);
  });
}

describe('the WebSocket Origin check', () => {
  it('refuses a DNS-rebinding page, whose Origin and Host name the same foreign host', async () => {
    const rebound = `evil.example:${port}`;
    expect(await upgrade({ origin: `http://${rebound}`, host: rebound })).toBe(403);
  });

  it('opens for a page of the gateway itself, under its address or localhost', async () => {
    expect(await upgrade({ origin: `http://127.0.0.1:${port}` })).toBe(101);
    expect(await upgrade({ origin: `http://localhost:${port}`, host: `localhost:${port}` })).toBe(
      101,
    );
    expect(await upgrade({ origin: `http://[::1]:${port}`, host: `[::1]:${port}` })).toBe(101);
  });

  it('compares scheme, host and port whole', async () => {
    const other = String(Number(port) === 65535 ? 1 : Number(port) + 1);
    expect(await upgrade({ origin: `http://127.0.0.1:${other}` })).toBe(403);
    expect(await upgrade({ origin: `https://127.0.0.1:${port}` })).toBe(403);
    expect(await upgrade({ origin: 'http://127.0.0.1' })).toBe(403);
    expect(await upgrade({ origin: `http://127.0.0.2:${port}` })).toBe(403);
    expect(await upgrade({ origin: 'https://chat.example.com:8443' })).toBe(403);
    expect(await upgrade({ origin: 'http://chat.example.com' })).toBe(403);
  });

  it('opens for ALLOWED_ORIGINS, whatever the Host', async () => {
    expect(await upgrade({ origin: 'https://chat.example.com' })).toBe(101);
    expect(await upgrade({ origin: 'https://chat.example.com', host: 'chat.example.com' })).toBe(
      101,
    );
  });

  it('opens without Origin (programs), and refuses an opaque or malformed Origin', async () => {
    expect(await upgrade({})).toBe(101);
    expect(await upgrade({ origin: 'null' })).toBe(403);
    expect(await upgrade({ origin: 'not a url' })).toBe(403);
  });

  it('does not take the scheme from X-Forwarded-Proto without TRUST_PROXY', async () => {
    const headers = { origin: `https://127.0.0.1:${port}`, 'x-forwarded-proto': 'https' };
    expect(await upgrade(headers)).toBe(403);
  });
});

describe('state-changing API requests from foreign origins (CSRF)', () => {
  const create = (name: string, headers: Record<string, string>) =>
    httpRequest(`${server.url}/api/servers`, { method: 'POST', headers, json: { name } });

  it('refuses a POST from another origin with 403 origin_not_allowed, creating nothing', async () => {
    const refused = await create('from-evil', { origin: 'http://evil.example' });
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({
      statusCode: 403,
      code: 'origin_not_allowed',
      error: 'Forbidden',
      message: expect.stringContaining('http://evil.example'),
    });
    const rebound = `evil.example:${port}`;
    const rebinding = await create('from-rebinding', {
      origin: `http://${rebound}`,
      host: rebound,
    });
    expect(rebinding.status).toBe(403);
    const rooms = await httpRequest(`${server.url}/api/servers`);
    const names = (rooms.body as Array<{ name: string }>).map((room) => room.name);
    expect(names).not.toContain('from-evil');
    expect(names).not.toContain('from-rebinding');
  });

  it('refuses PUT, PATCH and DELETE from another origin before their route answers', async () => {
    for (const method of ['PUT', 'PATCH', 'DELETE']) {
      const refused = await httpRequest(`${server.url}/api/servers/1`, {
        method,
        headers: { origin: 'http://evil.example' },
      });
      expect(refused.status, method).toBe(403);
      expect(refused.body, method).toMatchObject({ code: 'origin_not_allowed' });
    }
  });

  it('accepts the gateway’s own pages, ALLOWED_ORIGINS and programs without Origin', async () => {
    expect((await create('own-page', { origin: `http://127.0.0.1:${port}` })).status).toBe(201);
    expect((await create('allowed-page', { origin: 'https://chat.example.com' })).status).toBe(201);
    expect((await create('a-program', {})).status).toBe(201);
  });

  it('lets a foreign origin read: GET is not a state change', async () => {
    const read = await httpRequest(`${server.url}/api/servers`, {
      headers: { origin: 'http://evil.example' },
    });
    expect(read.status).toBe(200);
  });
});
