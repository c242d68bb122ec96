/**
 * Types are never coerced (contract: "A JSON body whose fields have the wrong JSON type is
 * `400 bad_request`"; "ids are plain decimal integers"): every route and frame with wrong types.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestChat } from '../helpers/chat-server.ts';
import type { TestChat } from '../helpers/chat-server.ts';
import { ChatClient } from '../helpers/ws-client.ts';

let server: TestChat;
const clients: ChatClient[] = [];

async function api(path: string, init?: RequestInit) {
  const response = await fetch(server.url + path, init);
  return { status: response.status, body: (await response.json()) as unknown };
}

function postRoom(body: string) {
  return api('/api/servers', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
}

async function join(path: string) {
  const joined = await ChatClient.join(server.wsUrl + path);
  clients.push(joined.client);
  return joined;
}

function expectBadRequest(answer: { status: number; body: unknown }, what: string) {
  expect(answer.status, what).toBe(400);
  expect(answer.body, what).toMatchObject({ code: 'bad_request', message: expect.any(String) });
}

/** Text that is not a plain decimal integer (or not a safe one), refused as an id or a count. */
const NOT_PLAIN_INTEGERS = [
  'Infinity',
  '-Infinity',
  'NaN',
  '0x1',
  '0b1',
  '1e0',
  '1e3',
  '1e400',
  '1.0',
  '1.5',
  '00001',
  '01',
  '-1',
  '-0',
  '%201',
  '1%20',
  '%2B1',
  '10abc',
  '',
  '9007199254740993',
  '1'.repeat(400),
];

beforeAll(async () => {
  // More rooms than ROOM_CREATE_LIMIT allows one address a minute: that limit is off here
  // (test/integration/abuse-limits.test.ts tests it).
  server = await startTestChat({ RATE_LIMIT: '0', ROOM_CREATE_LIMIT: '0' });
});

afterEach(() => {
  for (const client of clients.splice(0)) client.close();
});

afterAll(async () => {
  await server.close();
});

describe('REST bodies keep their JSON types', () => {
  it('refuses a room name that is not a JSON string with 400 bad_request, creating nothing', async () => {
    const before = (await api('/api/servers')).body as unknown[];
    for (const name of ['123', '0', 'true', 'false', '["general"]', '{"x":"y"}', '1.5', 'null']) {
      expectBadRequest(await postRoom(`{"name":${name}}`), name);
    }
    expectBadRequest(await postRoom('"general"'), 'a string body');
    expectBadRequest(await postRoom('["general"]'), 'an array body');
    expectBadRequest(await postRoom('42'), 'a number body');
    expect((await api('/api/servers')).body).toEqual(before);
    expect((await postRoom('{"name":"123"}')).status).toBe(201);
  });
});

describe('REST ids and counts are plain decimal integers', () => {
  it('answers a room id that is not a plain decimal integer with 400 on every room route', async () => {
    for (const id of [...NOT_PLAIN_INTEGERS, '0']) {
      for (const route of ['', '/messages', '/presence']) {
        expectBadRequest(await api(`/api/servers/${id}${route}`), `${id}${route}`);
      }
    }
    expect((await api('/api/servers/1')).status).toBe(200);
    expect((await api('/api/servers/9007199254740991')).status).toBe(404);
  });

  it('refuses limit, before and after of messages unless plain decimal integers in range', async () => {
    for (const value of NOT_PLAIN_INTEGERS) {
      for (const name of ['limit', 'before', 'after']) {
        expectBadRequest(await api(`/api/servers/1/messages?${name}=${value}`), `${name}=${value}`);
      }
    }
    expectBadRequest(await api('/api/servers/1/messages?limit=1&limit=2'), 'a repeated limit');
    expectBadRequest(await api('/api/servers/1/messages?after=-1'), 'after=-1');
    for (const query of [
      'limit=1',
      'limit=1000',
      'after=0',
      'before=1',
      'before=9007199254740991',
    ]) {
      expect((await api(`/api/servers/1/messages?${query}`)).status, query).toBe(200);
    }
  });

  it('refuses a presence limit unless a plain decimal integer from 1 to 1000', async () => {
    for (const value of [...NOT_PLAIN_INTEGERS, '0', '1001']) {
      expectBadRequest(await api(`/api/servers/1/presence?limit=${value}`), `limit=${value}`);
    }
    expect((await api('/api/servers/1/presence?limit=1000')).status).toBe(200);
  });

  it('keeps a presence after=NAME a string even when the name looks like a number', async () => {
    const room = ((await postRoom('{"name":"numeric names"}')).body as { id: number }).id;
    const names = ['0', '007', '123', '1e3', 'amy'];
    for (const name of names) await join(`/ws/${room}?username=${name}`);
    const presence = `/api/servers/${room}/presence`;
    expect((await api(`${presence}?after=123`)).body).toEqual(['1e3', 'amy']);
    expect((await api(`${presence}?after=0&limit=2`)).body).toEqual(['007', '123']);
    expect((await api(`${presence}?after=`)).body).toEqual(names);
  });
});

describe('the OpenAPI document', () => {
  it('says what is accepted: integer ids and counts, a string presence cursor', async () => {
    type Parameter = { name: string; in: string; schema: Record<string, unknown> };
    const doc = (await api('/openapi.json')).body as {
      paths: Record<string, { get?: { parameters: Parameter[] } }>;
    };
    const params = (path: string) =>
      Object.fromEntries(
        doc.paths[path]!.get!.parameters.map((p) => [`${p.in}:${p.name}`, p.schema]),
      );
    expect(params('/api/servers/{id}/presence')).toEqual({
      'path:id': expect.objectContaining({ type: 'integer', minimum: 1 }),
      'query:after': { type: 'string' },
      'query:limit': expect.objectContaining({ type: 'integer', minimum: 1, maximum: 1000 }),
    });
    expect(params('/api/servers/{id}/messages')).toMatchObject({
      'query:limit': { type: 'integer', minimum: 1, maximum: 1000 },
      'query:before': { type: 'integer', minimum: 1 },
      'query:after': { type: 'integer', minimum: 0 },
    });
  });
});

describe('WebSocket frames keep their JSON types', () => {
  it('refuses wrong field types with bad_request, keeps the connection, stores nothing', async () => {
    const { client } = await join('/ws/1?username=typist');
    const bad = [
      { type: 'message', text: 5 },
      { type: 'message', text: null },
      { type: 'message', text: true },
      { type: 'message', text: ['hi'] },
      { type: 'message', text: { text: 'hi' } },
      { type: 'message' },
      { type: 'message', text: 'hi', client_id: 5 },
      { type: 'message', text: 'hi', client_id: true },
      { type: 'message', text: 'hi', client_id: ['a'] },
      { type: 'message', text: 'hi', client_id: { id: 'a' } },
      { type: 5 },
      { type: null },
      { type: ['message'], text: 'hi' },
    ];
    for (const frame of bad) {
      client.send(frame);
      expect(await client.next('error'), JSON.stringify(frame)).toMatchObject({
        type: 'error',
        code: 'bad_request',
      });
    }
    const last = await client.say('typed right');
    const stored = (await api(`/api/servers/1/messages?after=${last.id - 1}`)).body;
    expect(stored).toEqual([expect.objectContaining({ id: last.id, text: 'typed right' })]);
    const all = (await api('/api/servers/1/messages?limit=1000')).body as Array<{ text: unknown }>;
    expect(all.every((m) => typeof m.text === 'string' && m.text !== '5')).toBe(true);
  });

  it('takes client_id null as no client_id: the ack says null', async () => {
    const { client } = await join('/ws/1?username=nulled');
    client.send({ type: 'message', text: 'no id', client_id: null });
    const ack = await client.next('ack');
    expect(ack.client_id).toBeNull();
    expect((await client.next('message')).text).toBe('no id');
  });

  it('closes with 4404 a room id that is not a plain decimal integer, and 4400 such a since', async () => {
    for (const id of ['0x1', '1e0', '1.0', '00001', 'Infinity', '%201', '9007199254740993']) {
      const client = ChatClient.connect(`${server.wsUrl}/ws/${id}?username=a`);
      clients.push(client);
      expect((await client.waitClosed()).code, id).toBe(4404);
    }
    for (const since of ['1e0', '1.0', '00', '01', '-0', '0x1', 'Infinity', '9007199254740993']) {
      const client = ChatClient.connect(`${server.wsUrl}/ws/1?username=a&since=${since}`);
      clients.push(client);
      expect((await client.waitClosed()).code, since).toBe(4400);
    }
    const { history } = await join('/ws/1?username=a&since=0');
    expect(history.type).toBe('history');
  });
});

describe('text is well-formed Unicode (contract: "a lone surrogate is bad_request")', () => {
  const lone = ['a\\ud800b', '\\udc00', 'end\\ud83d', '\\ude00start', '\\udc00\\ud800'];

  it('refuses a message with a lone surrogate with bad_request, storing nothing', async () => {
    const { client } = await join('/ws/1?username=surrogates');
    for (const [i, text] of lone.entries()) {
      client.send(`{"type":"message","text":"${text}","client_id":"lone-${i}"}`);
      expect(await client.next('error'), text).toMatchObject({
        code: 'bad_request',
        client_id: `lone-${i}`,
      });
    }
    // a pair is one code point, and fine
    client.send('{"type":"message","text":"\\ud83d\\ude00","client_id":"pair"}');
    const ack = await client.next('ack');
    const stored = (await api(`/api/servers/1/messages?after=${ack.id - 1}`)).body;
    expect(stored).toEqual([expect.objectContaining({ id: ack.id, text: '😀' })]);
    expect(client.frames.filter((f) => f.type === 'message')).toHaveLength(1);
  });

  it('refuses a room name with a lone surrogate with 400 invalid_room_name', async () => {
    for (const name of lone) {
      const refused = await postRoom(`{"name":"room ${name}"}`);
      expect(refused.status, name).toBe(400);
      expect(refused.body, name).toMatchObject({ code: 'invalid_room_name' });
    }
    expect((await postRoom('{"name":"room \\ud83d\\ude00"}')).status).toBe(201);
  });
});
