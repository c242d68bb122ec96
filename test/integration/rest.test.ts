import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERRORS } from '../../src/errors.ts';
import { CLOSE } from '../../src/protocol.ts';
import { ROOT, startTestChat } from '../helpers/chat-server.ts';
import type { TestChat } from '../helpers/chat-server.ts';
import { ChatClient } from '../helpers/ws-client.ts';

let server: TestChat;

async function api(path: string, init?: RequestInit) {
  const response = await fetch(server.url + path, init);
  const type = response.headers.get('content-type') ?? '';
  const body: unknown = type.includes('json') ? await response.json() : await response.text();
  return { status: response.status, body, type };
}

function post(path: string, body: unknown) {
  return api(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

beforeAll(async () => {
  // More rooms than ROOM_CREATE_LIMIT allows one address a minute: that limit is off here
  // (test/integration/abuse-limits.test.ts tests it).
  server = await startTestChat({ RATE_LIMIT: '0', ROOM_CREATE_LIMIT: '0' });
});

afterAll(async () => {
  await server.close();
});

describe('rooms', () => {
  it('lists room general with id 1 in a fresh data directory', async () => {
    const { status, body } = await api('/api/servers');
    expect(status).toBe(200);
    expect(body).toEqual([
      {
        id: 1,
        name: 'general',
        created_at: expect.any(String),
        private: false,
        dm: false,
        archived: false,
        owner: null,
      },
    ]);
  });

  it('creates a room (201), refuses a taken name in any case (409) and invalid names (400)', async () => {
    const created = await post('/api/servers', { name: 'Design' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Design', id: expect.any(Number) });
    const taken = await post('/api/servers', { name: 'dESIGN' });
    expect(taken.status).toBe(409);
    expect(taken.body).toMatchObject({
      code: 'room_name_taken',
      message: expect.stringContaining('dESIGN'),
    });
    for (const name of ['', '   ', 'x'.repeat(65), 'bad\u0007name', 'new\nline']) {
      const refused = await post('/api/servers', { name });
      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject({ message: expect.any(String) });
    }
    for (const body of [{}, { name: null }, 'not json', { name: 'ok', extra: 1 }]) {
      expect((await post('/api/servers', body)).status).toBe(400);
    }
    expect((await post('/api/servers', { name: 'é'.repeat(64) })).status).toBe(201);
  });

  it('refuses a body larger than MAX_FRAME_BYTES with 413 and a message', async () => {
    const { status, body } = await post('/api/servers', { name: 'x'.repeat(70 * 1024) });
    expect(status).toBe(413);
    expect(body).toMatchObject({ message: expect.any(String) });
  });

  it('lists rooms ordered by id and answers one room or 404', async () => {
    const { body } = await api('/api/servers');
    const ids = (body as Array<{ id: number }>).map((r) => r.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect((await api('/api/servers/1')).body).toMatchObject({ id: 1, name: 'general' });
    const missing = await api('/api/servers/424242');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ code: 'room_not_found', message: expect.any(String) });
    expect((await api('/api/servers/abc')).status).toBe(400);
  });
});

describe('message history', () => {
  let room: number;
  let ids: number[];

  beforeAll(async () => {
    room = ((await post('/api/servers', { name: 'history-pages' })).body as { id: number }).id;
    const { client } = await ChatClient.join(`${server.wsUrl}/ws/${room}?username=alice`);
    ids = [];
    for (let i = 1; i <= 150; i++) ids.push((await client.say(`h${i}`)).id);
    client.close();
  });

  it('answers the newest 100 messages oldest first by default', async () => {
    const { body } = await api(`/api/servers/${room}/messages`);
    const page = body as Array<{ id: number; text: string; server_id: number }>;
    expect(page.map((m) => m.id)).toEqual(ids.slice(50));
    expect(page[0]).toEqual({
      id: ids[50],
      server_id: room,
      username: 'alice',
      text: 'h51',
      ts: expect.stringMatching(/Z$/),
    });
  });

  it('pages backwards with before= and forwards with after=', async () => {
    const before = (await api(`/api/servers/${room}/messages?limit=10&before=${ids[20]}`)).body;
    expect((before as Array<{ id: number }>).map((m) => m.id)).toEqual(ids.slice(10, 20));
    const after = (await api(`/api/servers/${room}/messages?limit=10&after=${ids[20]}`)).body;
    expect((after as Array<{ id: number }>).map((m) => m.id)).toEqual(ids.slice(21, 31));
    const end = (await api(`/api/servers/${room}/messages?after=${ids[149]}`)).body;
    expect(end).toEqual([]);
  });

  it('accepts limit 1 and 1000 and refuses 0, 1001 and malformed parameters with 400', async () => {
    expect((await api(`/api/servers/${room}/messages?limit=1`)).body).toHaveLength(1);
    expect((await api(`/api/servers/${room}/messages?limit=1000`)).body).toHaveLength(150);
    for (const query of [
      'limit=0',
      'limit=1001',
      'limit=abc',
      'before=x',
      'after=-1',
      'before=0',
    ]) {
      const { status, body } = await api(`/api/servers/${room}/messages?${query}`);
      expect(status, query).toBe(400);
      expect(body).toMatchObject({ code: 'bad_request', message: expect.any(String) });
    }
  });

  it('answers 404 for the messages and presence of an unknown room', async () => {
    expect((await api('/api/servers/9999/messages')).status).toBe(404);
    expect((await api('/api/servers/9999/presence')).status).toBe(404);
  });
});

describe('service endpoints', () => {
  it('answers /healthz and /readyz with 200', async () => {
    expect((await api('/healthz')).status).toBe(200);
    expect(await api('/readyz')).toMatchObject({ status: 200, body: { bus: true, storage: true } });
  });

  it('exposes connections, rooms, messages in and out, errors and history lag in /metrics', async () => {
    const { status, body, type } = await api('/metrics');
    expect(status).toBe(200);
    expect(type).toContain('text/plain');
    for (const name of [
      'chatroom_connections',
      'chatroom_rooms',
      'chatroom_messages_in_total',
      'chatroom_messages_out_total',
      'chatroom_errors_total',
      'chatroom_history_lag_messages',
    ]) {
      expect(body).toContain(name);
    }
    expect(body).toMatch(/chatroom_messages_in_total [1-9]/);
  });

  it('serves the OpenAPI document for every REST route, and the docs page', async () => {
    const { body } = await api('/openapi.json');
    const paths = Object.keys((body as { paths: object }).paths);
    for (const path of [
      '/api/servers',
      '/api/servers/{id}',
      '/api/servers/{id}/messages',
      '/api/servers/{id}/presence',
      '/healthz',
      '/readyz',
      '/metrics',
    ]) {
      expect(paths).toContain(path);
    }
    const docs = await fetch(`${server.url}/docs`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('swagger');
  });

  it('answers unknown routes with 404 and a JSON message', async () => {
    const { status, body } = await api('/api/nope');
    expect(status).toBe(404);
    expect(body).toMatchObject({ code: 'not_found', message: expect.any(String) });
  });

  it('serves the chat page at /', async () => {
    const { status, type, body } = await api('/');
    expect(status).toBe(200);
    expect(type).toContain('text/html');
    expect(body).toContain('<html');
  });
});

describe('error catalogue', () => {
  /** The rows of the README's "Errors and close codes" tables: the code, then the other cells. */
  function readmeRows(): Map<string, string[]> {
    const readme = fs.readFileSync(`${ROOT}/README.md`, 'utf8');
    const start = readme.indexOf('### Errors and close codes');
    expect(start).toBeGreaterThan(-1);
    const end = readme.indexOf('\n## ', start);
    const rows = new Map<string, string[]>();
    for (const line of readme.slice(start, end === -1 ? undefined : end).split('\n')) {
      const [, code, rest] = /^\| `([^`]+)` \|(.*)\|$/.exec(line) ?? [];
      if (code === undefined || rest === undefined) continue;
      const cells = rest.split('|').map((cell) => cell.trim());
      rows.set(code, cells);
    }
    return rows;
  }

  it('documents every error code in the README, with where it is sent, and no other code', () => {
    const rows = readmeRows();
    const documented = [...rows.keys()].filter((code) => !/^\d+$/.test(code));
    expect(documented.sort()).toEqual(Object.keys(ERRORS).sort());
    for (const [code, { status, frame }] of Object.entries(ERRORS)) {
      const [where = '', meaning = ''] = rows.get(code) ?? [];
      const places = where.split(',').map((place) => place.trim());
      // a code sent only in frames (`empty`, `too_long`) lists no HTTP status
      if (places.some((place) => /^\d+$/.test(place))) {
        expect(places, code).toContain(String(status));
      }
      expect(places.includes('frame'), `${code} is an error frame code`).toBe(frame);
      expect(meaning, code).not.toBe('');
    }
  });

  it('documents every close code in the README with its meaning, and no other close code', () => {
    const rows = readmeRows();
    const documented = [...rows.keys()].filter((code) => /^\d+$/.test(code));
    expect(documented.sort()).toEqual(Object.values(CLOSE).map(String).sort());
    // the contract's close codes
    expect(Object.values(CLOSE)).toEqual(
      expect.arrayContaining([4404, 4400, 4408, 1009, 1013, 1001]),
    );
    for (const code of documented) expect(rows.get(code)?.[0], code).not.toBe('');
  });
});
