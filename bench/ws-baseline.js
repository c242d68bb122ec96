// @ts-check
/* global process, console, Buffer */
/**
 * The floor for the memory benchmark (`bench/memory.ts`): a plain `ws` broadcast server that
 * speaks the chat's frames (`history`, `presence`, `message`, `ack`) over the same URL
 * (`/ws/{room}?username=NAME`) with nothing else — a map of rooms, each message serialised once
 * and the same string sent to every member, no storage (the last 50 messages of a room are kept
 * in memory for the `history` frame), no HTTP framework, no metrics, no logging.
 *
 * Plain JavaScript so that it runs on bare `node`, like the compiled chat: `node bench/ws-baseline.js`.
 * It honours PORT and HOST and prints one startup line in the chat's own format.
 */
import http from 'node:http';
import { WebSocketServer } from 'ws';

const REPLAY = 50;

/**
 * The chat's own wire types (types only: nothing of src/ is loaded at run time).
 * @typedef {import('../src/domain/message.ts').Message} Message
 * @typedef {import('../src/protocol.ts').ServerFrame} ServerFrame
 * @typedef {{ members: Set<import('ws').WebSocket>, users: Map<string, number>, recent: Message[] }} Room
 */

/** @type {Map<number, Room>} */
const rooms = new Map();
let lastId = 0;

/** @param {number} id */
function room(id) {
  let found = rooms.get(id);
  if (!found) {
    found = { members: new Set(), users: new Map(), recent: [] };
    rooms.set(id, found);
  }
  return found;
}

/**
 * The fields of a client's `message` frame; undefined for anything else (the baseline ignores it).
 * @param {import('ws').RawData} data
 * @returns {{ text: string, clientId: string | null } | undefined}
 */
function parseMessage(data) {
  if (!Buffer.isBuffer(data)) return undefined;
  /** @type {unknown} */
  let frame;
  try {
    frame = JSON.parse(data.toString());
  } catch {
    return undefined;
  }
  if (typeof frame !== 'object' || frame === null || !('type' in frame) || !('text' in frame)) {
    return undefined;
  }
  if (frame.type !== 'message' || typeof frame.text !== 'string') return undefined;
  const clientId = 'client_id' in frame ? frame.client_id : undefined;
  return { text: frame.text, clientId: typeof clientId === 'string' ? clientId : null };
}

/** @param {ServerFrame} frame */
const serialize = (frame) => JSON.stringify(frame);

/**
 * @param {import('ws').WebSocket} ws
 * @param {ServerFrame} frame
 */
const send = (ws, frame) => ws.send(serialize(frame));

const server = http.createServer((_request, response) => response.writeHead(404).end());
const wss = new WebSocketServer({ server, maxPayload: 64 * 1024 });

wss.on('connection', (ws, request) => {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const match = /^\/ws\/([1-9]\d*)$/.exec(url.pathname);
  const username = url.searchParams.get('username') ?? '';
  if (!match || username === '') {
    ws.close(4400, 'bad request');
    return;
  }
  const serverId = Number(match[1]);
  const here = room(serverId);
  here.members.add(ws);
  here.users.set(username, (here.users.get(username) ?? 0) + 1);
  send(ws, {
    type: 'history',
    messages: here.recent,
    updates: [],
    last_id: lastId,
    last_seq: lastId,
  });
  send(ws, { type: 'presence', users: [...here.users.keys()].sort(), total: here.users.size });

  ws.on('message', (data) => {
    const frame = parseMessage(data);
    if (frame === undefined) return;
    /** @type {Message} */
    const message = {
      id: ++lastId,
      server_id: serverId,
      username,
      text: frame.text,
      ts: new Date().toISOString(),
      seq: lastId,
    };
    here.recent.push(message);
    if (here.recent.length > REPLAY) here.recent.shift();
    const serialized = serialize({ type: 'message', ...message });
    for (const member of here.members) member.send(serialized);
    send(ws, { type: 'ack', client_id: frame.clientId, id: message.id, seq: message.seq });
  });
  ws.on('close', () => {
    here.members.delete(ws);
    const left = (here.users.get(username) ?? 1) - 1;
    if (left > 0) here.users.set(username, left);
    else here.users.delete(username);
  });
  ws.on('error', () => {}); // the close that follows is what counts
});

const port = Number(process.env.PORT ?? 8000);
const host = process.env.HOST ?? '127.0.0.1';
server.listen(port, host, () => {
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  console.log(`chatroom ws-baseline: listening on http://localhost:${bound} (no storage)`);
});

for (const signal of /** @type {const} */ (['SIGTERM', 'SIGINT'])) {
  process.on(signal, () => {
    for (const client of wss.clients) client.terminate();
    server.close(() => process.exit(0));
  });
}
